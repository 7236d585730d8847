"""Where a run ran: the Keras backend and its version, the device that trained and the
accelerator's model, the CPU (model, vector extensions, threads) and the library versions, as
every record states them."""
import importlib
import os
import platform
import subprocess

import numpy as np

from companion.backend import devices as default_devices
from companion.backend import keras

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


def accelerator_name():
    """The model of the GPU (or other accelerator) the backend trains on, e.g. 'NVIDIA H200';
    None on a CPU. Records say 'gpu:0'; this says which card that was."""
    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            device = jax.devices()[0]
            return None if device.platform == "cpu" else device.device_kind
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            return tf.config.experimental.get_device_details(gpus[0]).get("device_name") \
                if gpus else None
        if backend == "torch":
            import torch

            return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # a runtime that cannot name its device: the record says so with None
        return None
    return None


def code_version():
    """The git commit the scripts ran from, and whether the tracked files differed from it (a
    run's own results folder aside); None outside a git checkout or without git."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10)
        changes = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                  ".", ":(exclude)results"], cwd=root, capture_output=True,
                                 text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if commit.returncode != 0 or changes.returncode != 0:
        return None
    return {"commit": commit.stdout.strip(), "modified": bool(changes.stdout.strip())}


def environment(devices=None):
    """Backend and its version, the devices that train (those given, or the one Keras picks),
    the CPU (model, vector extensions, threads) and the library versions."""
    backend = keras.backend.backend()
    versions = {"python": platform.python_version(), "keras": keras.__version__,
                "numpy": np.__version__, backend: importlib.import_module(backend).__version__}
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "keras_backend": backend,
        "devices": default_devices() if devices is None else devices,
        "accelerator": accelerator_name(),
        "machine": {"platform": platform.platform(), **cpu_info(),
                    "cpu_count": os.cpu_count(), "threads_available": threads},
        "versions": versions,
        "code": code_version(),
    }
