"""How fast, not what: the speed flags reach a compiled model through one call, speed.apply().

- `--jit-compile` and `--steps-per-execution` (their per-backend defaults: cli.speed_defaults)
  are set as compile() would set them, before the first fit() builds its train function;
- on JAX, each execution of several steps runs as one compiled scan (companion/fused.py),
  from the training set put on the device once (`--device-data`; by default on a GPU or TPU);
- on TensorFlow with XLA on a CPU, dropout names Philox, the same masks by a faster path
  (companion/xla_dropout.py).

What each does is measured (docs/speed.md, results/investigations/) and tested to train to the
same weights as Keras' own path (tests/test_fused.py, tests/test_xla_dropout.py).
"""
import math

from companion import fused, xla_dropout
from companion.cli import DEVICE_DATA, EPOCH, JIT_COMPILE


def compile_settings(args, train_samples):
    """compile()'s jit_compile and steps_per_execution for the speed flags ('epoch' made a
    number of steps)."""
    steps = args.steps_per_execution
    if steps == EPOCH:
        steps = math.ceil(train_samples / args.batch_size)
    return {"jit_compile": JIT_COMPILE[args.jit_compile], "steps_per_execution": steps}


def apply(model, args, train_samples):
    """Give a compiled model the speed flags' settings; call it after compile(), before fit()."""
    settings = compile_settings(args, train_samples)
    if settings["jit_compile"] != "auto":  # "auto" is what the listing's compile() resolved
        model.jit_compile = settings["jit_compile"]
    model.steps_per_execution = settings["steps_per_execution"]
    fused.fuse_executions(model, resident=DEVICE_DATA[args.device_data])
    xla_dropout.use_philox(model)
