"""--fast and compile()'s speed arguments, reaching a compiled model through one call.

A default run does nothing here: compile() keeps the listing's arguments and Keras decides
jit_compile and runs one step per execution. Asked for (--fast, or --jit-compile and
--steps-per-execution given to rerun a record), the settings are set as compile() would set
them, before the first fit() builds its train function; with --fast on JAX where cli.FAST says
so, each execution's steps run as one compiled scan (speed/fused.py, imported only then).
"""
import math

from companion.cli import EPOCH, JIT_COMPILE, KERAS_DEFAULTS


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
        from speed import fused

        fused.fuse_executions(model, resident=args.device_data)
