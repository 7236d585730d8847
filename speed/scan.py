"""One compiled program per execution on JAX: the steps of one `steps_per_execution` as a single
jitted `jax.lax.scan`, reached through the listing's own `model.fit`.

Keras 3.15's JAX trainer runs the steps of one execution as a Python loop of jitted steps, so
on an accelerator every one of an epoch's 469 small steps is launched on its own, and the time
goes into launching them. TensorFlow's trainer already runs an execution's steps inside one
compiled loop; PyTorch's runs one step per execution. Here the model's own `train_step` (the
same loss, optimizer state, metrics and dropout seeds, threaded through the scan as Keras
threads them through its loop) is scanned over the execution's batches. Batches of another
shape (an epoch's smaller last batch) run as single steps, as Keras runs them.

With the training set on the device (`resident`, by default on a GPU or TPU), fit()'s in-memory
arrays go to the device once per fit(), and each execution is one program that draws the
epoch's order on the device from the run's seed, gathers its batches there and scans the steps,
the smaller last batch as its own step: nothing is batched or copied on the host per epoch.
Inputs it does not cover (a generator, a dataset, sample or class weights, a validation split)
take the path above.

Callbacks, the progress display and the history then see one update per execution, as they do
for any `steps_per_execution`. With `--steps-per-execution epoch` that is once per epoch.
"""
import inspect
import math

import numpy as np

from companion.backend import keras


def fuse_executions(model, resident=None):
    """Make model.fit run each execution of several steps as one compiled scan, on the JAX
    backend without a distribution; elsewhere leave the model as it is. `resident`: keep
    fit()'s arrays on the device (None: when JAX computes on a GPU or TPU). Returns whether it
    fused. Call it after model.compile()."""
    if keras.backend.backend() != "jax" or model.steps_per_execution <= 1 \
            or keras.distribution.distribution() is not None or not model.jit_compile:
        return False
    import jax

    step = model.train_step
    scanned = jax.jit(scan_steps(step), donate_argnums=0)
    single = jax.jit(step, donate_argnums=0)
    on_device = {"epochs": None}  # a DeviceEpochs while a covered fit() runs

    def execution(state, iterator):
        if on_device["epochs"] is not None:
            return on_device["epochs"].execution(state, iterator, model.steps_per_execution)
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
    if resident is None:
        resident = jax.default_backend() != "cpu"
    if resident:
        keep_training_set_on_device(model, step, on_device)
    return True


def scan_steps(step):
    """(state, stacked batches) -> (the last step's logs, state): `step` scanned over them."""
    import jax

    def scanned_steps(state, batches):
        def body(state, batch):
            logs, state = step(state, batch)
            return state, logs

        state, logs = jax.lax.scan(body, state, batches)
        return jax.tree_util.tree_map(lambda values: values[-1], logs), state

    return scanned_steps


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


def keep_training_set_on_device(model, step, on_device):
    """Wrap model.fit: a call it covers (resident_arrays) trains from the device."""
    fit = model.fit
    signature = inspect.signature(fit)

    def fit_from_device(*args, **kwargs):
        arguments = signature.bind(*args, **kwargs)
        arguments.apply_defaults()
        arrays = resident_arrays(arguments.arguments)
        model.device_resident = arrays is not None  # recorded by records.training_fields
        if arrays is None:
            return fit(*args, **kwargs)
        options = arguments.arguments
        on_device["epochs"] = DeviceEpochs(step, *arrays, options["batch_size"] or 32,
                                           shuffle=options["shuffle"],
                                           seed=np.random.randint(2**31 - 1))
        try:
            return fit(*args, **kwargs)
        finally:
            on_device["epochs"] = None

    model.fit = fit_from_device


def resident_arrays(options):
    """fit()'s (x, y) when the device-resident path covers the call, else None."""
    x, y = options["x"], options["y"]
    import jax

    def array(value):
        return isinstance(value, (np.ndarray, jax.Array))

    covered = (array(x) and array(y) and len(x) == len(y) and len(x) > 0
               and options["shuffle"] in (True, False) and options["sample_weight"] is None
               and options["class_weight"] is None and not options["validation_split"]
               and options["steps_per_epoch"] is None
               and not keras.config.max_steps_per_epoch())
    return (x, y) if covered else None


def as_floatx(array):
    """Floats in Keras' float type, as Keras' data adapter casts them (to_categorical's float64
    labels become float32); other arrays as they are."""
    floatx = keras.config.floatx()
    if keras.backend.is_float_dtype(array.dtype) and \
            keras.backend.standardize_dtype(array.dtype) != floatx:
        return array.astype(floatx)
    return array


class DeviceEpochs:
    """One fit()'s training set on the device, and the compiled programs that train from it.

    Keras' fit() loop hands each execution the epoch's batch iterator, a new one each epoch:
    that is how an execution here knows an epoch has begun. The iterator itself is never read,
    so no batch is made on the host."""

    def __init__(self, step, x, y, batch_size, shuffle, seed):
        import jax

        self.step, self.batch_size, self.shuffle = step, batch_size, shuffle
        self.x, self.y = jax.device_put(as_floatx(x)), jax.device_put(as_floatx(y))
        self.samples = len(x)
        self.full_batches = self.samples // batch_size
        self.steps_per_epoch = math.ceil(self.samples / batch_size)
        self.key = jax.random.key(seed)
        self.epoch, self.iterator, self.position = -1, None, 0
        self.programs = {}

    def execution(self, state, iterator, steps):
        """Train the execution's next `steps` steps of the epoch (fewer at its end)."""
        if iterator is not self.iterator:
            self.iterator, self.epoch, self.position = iterator, self.epoch + 1, 0
        count = min(steps, self.steps_per_epoch - self.position)
        if count <= 0:
            raise StopIteration
        full = max(0, min(count, self.full_batches - self.position))
        program = self.program(full, last_batch=full < count)
        logs, state = program(state, self.x, self.y, self.key, self.epoch, self.position)
        self.position += count
        return logs, state

    def order(self, key, epoch):
        """The epoch's order of the samples: drawn on the device from the run's seed."""
        import jax
        import jax.numpy as jnp

        if not self.shuffle:
            return jnp.arange(self.samples)
        return jax.random.permutation(jax.random.fold_in(key, epoch), self.samples)

    def program(self, full, last_batch):
        """The compiled program for `full` full batches from a position, then the smaller last
        batch if `last_batch`; one per shape of execution, kept."""
        if (full, last_batch) in self.programs:
            return self.programs[(full, last_batch)]
        import jax

        size, step = self.batch_size, self.step

        def run(state, x, y, key, epoch, position):
            order = self.order(key, epoch)

            def batch(indices):
                return x[indices], y[indices]

            def body(state, start):
                logs, state = step(state, batch(jax.lax.dynamic_slice_in_dim(order, start, size)))
                return state, logs

            logs = None
            if full:
                state, logs = jax.lax.scan(body, state, (position + jax.numpy.arange(full)) * size)
                logs = jax.tree_util.tree_map(lambda values: values[-1], logs)
            if last_batch:
                logs, state = step(state, batch(order[self.full_batches * size:]))
            return logs, state

        self.programs[(full, last_batch)] = jax.jit(run, donate_argnums=0)
        return self.programs[(full, last_batch)]
