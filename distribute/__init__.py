"""--distribute: the same script on one device, all local GPUs, a TPU or several machines.

    none          the single device Keras picks (a GPU if there is one), as the listing runs
    mirrored      data parallel over every local GPU; without GPUs, over the CPU split into
                  --cpu-devices logical devices (a way to try it on a laptop)
    tpu           data parallel over the cores of the TPU the cluster resolver finds
    multi-worker  data parallel over the machines that TF_CONFIG lists, one process on each

Only the engines Keras already has are used. TensorFlow backend: tf.distribute's
MirroredStrategy, TPUStrategy and MultiWorkerMirroredStrategy, made the current strategy with
tf.distribute.experimental_set_strategy, so the listing's own lines build and compile the model
under it unchanged. JAX backend: keras.distribution.DataParallel over the local devices
(mirrored, tpu). multi-worker needs TensorFlow; PyTorch has none of the four but `none`.

--batch-size is the GLOBAL batch, as in model.fit under a strategy: 128 means 64 samples on each
of two replicas, whose gradients are averaged into one update. The number of updates per epoch,
the learning rate and so the listing's optimisation are unchanged by --distribute.

This module is the flags and their checks, read before Keras loads; distribute/strategies.py
sets up what they ask for when a script calls use().
"""
import glob
import json
import os

from companion import cli
from companion.errors import UserError

# what --distribute can do on each backend (PyTorch: `none` only)
ENGINES = {"tensorflow": ("none", "mirrored", "tpu", "multi-worker"),
           "jax": ("none", "mirrored", "tpu")}
TF_CONFIG_EXAMPLE = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                     '"task": {"type": "worker", "index": 0}}\'')


def add_arguments(parser):
    """--distribute and --cpu-devices, checked once the flags are parsed."""
    parser.add_argument("--distribute", choices=ENGINES["tensorflow"], default="none",
                        help="none: one device (a GPU if present); mirrored: every local GPU; "
                             "tpu: the TPU's cores; multi-worker: the machines in TF_CONFIG. "
                             "--batch-size stays the global batch")
    parser.add_argument("--cpu-devices", type=cli.device_count, default=1, metavar="N",
                        help="split the CPU into N logical devices for --distribute mirrored on "
                             "a machine without GPUs (TensorFlow backend)")
    cli.after_parse(parser, problem)


def problem(args, backend):
    """Why --distribute/--cpu-devices cannot work as given, or None."""
    if args.cpu_devices > 1 and args.distribute != "mirrored":
        return "argument --cpu-devices: only --distribute mirrored uses several CPU devices"
    if args.cpu_devices > max(2, os.cpu_count() or 1):
        return (f"argument --cpu-devices: {args.cpu_devices} logical devices on a machine of "
                f"{os.cpu_count()} CPUs would not train in any useful time; use at most "
                f"{max(2, os.cpu_count() or 1)}")
    if args.cpu_devices > 1 and backend != "tensorflow":
        return (f"argument --cpu-devices: splitting the CPU needs the tensorflow backend "
                f"(KERAS_BACKEND is {backend})")
    supported = ENGINES.get(backend, ("none",))
    if args.distribute not in supported:
        return (f"argument --distribute: {args.distribute} is not available on the {backend} "
                f"backend (choose from {', '.join(supported)}, or KERAS_BACKEND=tensorflow)")
    if args.distribute == "multi-worker":
        try:
            tf_config()
        except UserError as error:
            return str(error)
    if args.distribute == "tpu" and not tpu_in_sight():
        return ("--distribute tpu: no TPU here (no /dev/accel* or /dev/vfio device, no TPU_NAME "
                "or COLAB_TPU_ADDR); run on a Cloud TPU VM, or set TPU_NAME to the TPU's name")
    return None


def tpu_in_sight():
    """Whether a TPU can be here, told before Keras loads: a TPU VM's chips are /dev/accel*
    (v2-v4) or /dev/vfio/<n> (v5 on), a TPU reached over the network is named in TPU_NAME
    (COLAB_TPU_ADDR on Colab). Where one is, the cluster resolver says whether it answers."""
    return bool(glob.glob("/dev/accel*") or glob.glob("/dev/vfio/[0-9]*") or
                os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR"))


def use(args):
    """Set up what --distribute asks for before any model is built; return the Distribution
    (distribute/strategies.py)."""
    from distribute import strategies

    return strategies.use(args)


def tf_config():
    """TF_CONFIG's worker addresses and this process's index, checked."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise UserError("--distribute multi-worker needs TF_CONFIG, which lists the workers "
                            f"and says which one this is, e.g. {TF_CONFIG_EXAMPLE}")
    try:
        config = json.loads(text)
        workers = list(config["cluster"]["worker"])
        task = config["task"]
        index = int(task["index"])
        if task["type"] not in ("worker", "chief") or not workers or not 0 <= index < len(workers):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise UserError(f"TF_CONFIG is not a cluster of workers with this task's index: "
                            f"{text!r}; expected e.g. {TF_CONFIG_EXAMPLE}") from None
    return workers, index
