"""One compiled program per execution on JAX: the steps of one `steps_per_execution` as a single
jitted `jax.lax.scan` over the stacked batches, reached through the listing's own `model.fit`.

Keras 3.15's JAX trainer runs the steps of one execution as a Python loop of jitted steps, so
on an accelerator every one of an epoch's 469 small steps is launched on its own, and the time
goes into launching them. TensorFlow's trainer already runs an execution's steps inside one
compiled loop; PyTorch's runs one step per execution. Here the model's own `train_step` (the
same loss, optimizer state, metrics and dropout seeds, threaded through the scan as Keras
threads them through its loop) is scanned over the execution's batches. Batches of another
shape (an epoch's smaller last batch) run as single steps, as Keras runs them.

Callbacks, the progress display and the history then see one update per execution, as they do
for any `steps_per_execution`. With `--steps-per-execution epoch` that is once per epoch.
"""
import numpy as np

from companion.backend import keras


def fuse_executions(model):
    """Make model.fit run each execution of several steps as one compiled scan, on the JAX
    backend without a distribution; elsewhere leave the model as it is. Returns whether it did.
    Call it after model.compile()."""
    if keras.backend.backend() != "jax" or model.steps_per_execution <= 1 \
            or keras.distribution.distribution() is not None or not model.jit_compile:
        return False
    import jax

    step = model.train_step

    def scanned_steps(state, batches):
        def body(state, batch):
            logs, state = step(state, batch)
            return state, logs

        state, logs = jax.lax.scan(body, state, batches)
        return jax.tree_util.tree_map(lambda values: values[-1], logs), state

    scanned = jax.jit(scanned_steps, donate_argnums=0)
    single = jax.jit(step, donate_argnums=0)

    def execution(state, iterator):
        batches = []
        for _ in range(model.steps_per_execution):
            try:
                batches.append(next(iterator))
            except StopIteration:
                break
        if not batches:
            raise StopIteration
        logs = None
        for group in same_shape_runs(batches):
            if len(group) == 1:
                logs, state = single(state, group[0])
            else:
                stacked = jax.tree_util.tree_map(lambda *parts: np.stack(parts), *group)
                logs, state = scanned(state, stacked)
        return logs, state

    def make_train_function(force=False):
        if model.train_function is None or force:
            model.train_function = execution

    model.make_train_function = make_train_function
    model.train_function = None
    model.fused_executions = True  # recorded by records.training_fields
    return True


def same_shape_runs(batches):
    """Consecutive batches whose arrays have the same shapes, in order."""
    import jax

    def shapes(batch):
        return [np.shape(leaf) for leaf in jax.tree_util.tree_leaves(batch)]

    runs = [[batches[0]]]
    for batch in batches[1:]:
        if shapes(batch) == shapes(runs[-1][0]):
            runs[-1].append(batch)
        else:
            runs.append([batch])
    return runs
