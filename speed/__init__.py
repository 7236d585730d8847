"""--fast, --scan and compile()'s speed arguments: their flags, what --fast turns on where, and
the settings reaching a compiled model through one call.

A default run does nothing here: compile() keeps the listing's arguments and Keras decides
jit_compile and runs one step per execution. Asked for (--fast, or --jit-compile and
--steps-per-execution given to rerun a record), the settings are set as compile() would set
them, before the first fit() builds its train function; with --scan, on JAX, each epoch's steps
run as one compiled scan from the device (speed/scan.py, imported only then). Nothing here
imports Keras until the flags ask for it.
"""
import argparse
import math

from companion import cli

JIT_COMPILE = {"auto": "auto", "yes": True, "no": False}
EPOCH = "epoch"  # --steps-per-execution epoch: every step of an epoch in one call
KERAS_DEFAULTS = {"jit_compile": "auto", "steps_per_execution": 1}  # compile() left alone

# What --fast turns on, per backend, device and listing: only what benchmarks/speed_table.py
# measured at least 1.25 times faster than Keras' own path there (results/speed/,
# docs/speed.md; tests/test_speed_table.py holds this table to that record). No GPU or TPU
# entry until a GPU record shows one pays; the JAX scan is --scan's, asked for by name.
FAST = {
    ("tensorflow", "cpu", "mlp"): {"steps_per_execution": 16},
}


def steps_per_execution(text):
    """A positive integer, or 'epoch'."""
    try:
        return EPOCH if text == EPOCH else cli.int_range(1, 100_000)(text)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(str(error).replace(", got", " or 'epoch', got", 1)) \
            from None


def add_arguments(parser, listing=None):
    """--fast, --scan and compile()'s own jit_compile and steps_per_execution; what --fast turns
    on depends on the `listing` ('mlp', 'cnn', 'rnn'; None for another script)."""
    parser.add_argument("--fast", action="store_true",
                        help="the speed settings measured to pay for this script on this "
                             "backend and device (docs/speed.md): the same model, optimizer, "
                             "batch and updates, computed in another order, so the last digits "
                             "may differ. On a CPU: 16 steps per call for the MLP on "
                             "TensorFlow, nothing else; on a GPU or TPU: nothing (none measured)")
    parser.add_argument("--scan", action="store_true",
                        help="JAX only: each epoch's steps as one compiled jax.lax.scan, the "
                             "training set on the device (speed/scan.py); tested equal to "
                             "Keras' own loop on a CPU, its speed not measured on a GPU or TPU")
    parser.add_argument("--jit-compile", choices=list(JIT_COMPILE), default=None,
                        help="compile()'s jit_compile (default: auto, Keras decides); given to "
                             "rerun a record made with another value")
    parser.add_argument("--steps-per-execution", type=steps_per_execution, default=None,
                        metavar="N|epoch",
                        help="compile()'s steps_per_execution (default: 1); 'epoch': all of an "
                             "epoch's steps in one call")
    cli.after_parse(parser, lambda args, backend: resolve(args, backend, listing))


def on_accelerator(backend):
    """Whether the backend computes on a GPU or TPU. Asked only where --fast has a CPU setting,
    once the flags are parsed: Keras is imported quietly (companion/backend.py) and the physical
    devices are listed without starting TensorFlow's runtime, which --cpu-devices must still
    configure."""
    from companion.backend import quiet_native_stderr

    with quiet_native_stderr():  # TensorFlow's cuInit line on a machine without a GPU
        if backend == "jax":
            import jax

            return jax.default_backend() != "cpu"
        if backend == "torch":
            import torch

            return torch.cuda.is_available()
        if backend == "tensorflow":
            import tensorflow as tf

            return any(device.device_type != "CPU"
                       for device in tf.config.list_physical_devices())
    return False


def fast_settings(backend, accelerator, listing=None):
    """What --fast turns on for a listing on a backend, on a CPU or an accelerator (FAST)."""
    return dict(FAST.get((backend, "accelerator" if accelerator else "cpu", listing), {}))


def resolve(args, backend, listing=None):
    """Fill in compile()'s jit_compile and steps_per_execution: the flag where one was given,
    else --fast's or --scan's setting, else Keras' own default; and args.device_data for
    speed/scan.py. A default run leaves all of them as Keras' own compile() has them."""
    if args.scan and backend != "jax":
        return f"argument --scan: a JAX scan, and the backend is {backend} (KERAS_BACKEND=jax)"
    if backend == "torch" and args.steps_per_execution not in (None, 1):
        return (f"argument --steps-per-execution: Keras' PyTorch backend runs one step per call, "
                f"got {args.steps_per_execution}")
    fast = {}
    if args.fast and any(key[:1] == (backend,) and key[2] == listing for key in FAST):
        fast = fast_settings(backend, on_accelerator(backend), listing)
    if args.scan:
        fast = {**fast, "steps_per_execution": EPOCH}
    typed = args.steps_per_execution is not None  # not --fast's or --scan's
    for key, keras_default in KERAS_DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, fast.get(key, keras_default))
    if backend == "tensorflow" and getattr(args, "distribute", "none") != "none":
        _settings_that_work_under_tf_distribute(args, typed)
    args.device_data = args.scan
    return None


def _settings_that_work_under_tf_distribute(args, typed):
    """Keras' TensorFlow trainer fails under a strategy with more than one step per execution
    (keras-team/keras#19246), and XLA cannot compile a step whose mirrored variables sit on
    several CPU devices; say so, naming the flag the reader typed, and record what ran."""
    if args.steps_per_execution != 1:
        asked = "--steps-per-execution" if typed else "--fast's steps per call:"
        print(f"note: {asked} {args.steps_per_execution} -> 1: Keras' TensorFlow trainer fails "
              f"with more than one step per execution under tf.distribute "
              f"(keras-team/keras#19246)")
        args.steps_per_execution = 1
    if args.jit_compile == "yes":
        print("note: --jit-compile yes -> auto under tf.distribute: XLA on GPUs and TPUs, not "
              "on CPU devices, whose mirrored variables it cannot reach")
        args.jit_compile = "auto"


def compile_settings(args, train_samples):
    """compile()'s jit_compile and steps_per_execution for the flags ('epoch' made a number of
    steps)."""
    steps = args.steps_per_execution
    if steps == EPOCH:
        steps = math.ceil(train_samples / args.batch_size)
    return {"jit_compile": JIT_COMPILE[args.jit_compile], "steps_per_execution": steps}


def asked_for(args):
    """Whether the flags ask for anything other than Keras' own compile() and fit()."""
    return args.scan or any(getattr(args, key) != value for key, value in KERAS_DEFAULTS.items())


def apply(model, args, train_samples):
    """Give a compiled model the speed settings asked for; call it after compile(), before
    fit(). Without any, the model is left untouched."""
    if not asked_for(args):
        return
    settings = compile_settings(args, train_samples)
    if settings["jit_compile"] != "auto":  # "auto" is what the listing's compile() resolved
        model.jit_compile = settings["jit_compile"]
    model.steps_per_execution = settings["steps_per_execution"]
    if args.scan:
        from speed import scan

        scan.fuse_executions(model, resident=args.device_data)
