"""Where a run ran: the Keras backend and its version, the device that trained, the CPU (model,
vector extensions, threads) and the library versions, as every record states them."""
import importlib
import os
import platform

import keras
import numpy as np

import companion

VECTOR_EXTENSIONS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16",
                     "amx_tile", "neon", "asimd", "sve")


def cpu_info():
    """The CPU's model name and the vector extensions that decide which kernels run, from
    /proc/cpuinfo; two machines that both say 'AMD EPYC' can differ here."""
    name, flags = None, set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and name is None:
                    name = value.strip()
                elif key in ("flags", "Features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return {"processor": name or platform.processor() or platform.machine(),
            "vector_extensions": [flag for flag in VECTOR_EXTENSIONS if flag in flags]}


def environment(devices=None):
    """Backend and its version, the devices that train (those given, or the one Keras picks),
    the CPU (model, vector extensions, threads) and the library versions."""
    backend = keras.backend.backend()
    versions = {"python": platform.python_version(), "keras": keras.__version__,
                "numpy": np.__version__, backend: importlib.import_module(backend).__version__}
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "keras_backend": backend,
        "devices": companion.devices() if devices is None else devices,
        "machine": {"platform": platform.platform(), **cpu_info(),
                    "cpu_count": os.cpu_count(), "threads_available": threads},
        "versions": versions,
    }
