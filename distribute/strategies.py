"""What --distribute asks for, set up with the engines Keras already has (distribute/__init__.py
holds the flags and their checks, read before Keras loads)."""
from dataclasses import dataclass

from companion import errors
from companion.backend import devices, keras, quiet_native_stderr
from distribute import tf_config


@dataclass
class Distribution:
    """What --distribute set up: the record's "distribution" and who writes the results."""
    name: str
    devices: list
    replicas: int = 1
    worker_index: int = 0
    workers: int = 1
    engine: str = "Keras' default device placement"

    @property
    def writes_results(self):
        """In multi-worker training every worker trains; only worker 0 (the chief) writes."""
        return self.worker_index == 0

    def summary(self):
        """e.g. 'mirrored: 2 replicas' or 'multi-worker: 2 replicas, worker 1 of 2'."""
        text = f"{self.name}: {self.replicas} replica{'s' if self.replicas > 1 else ''}"
        if self.workers > 1:
            text += f", worker {self.worker_index} of {self.workers}"
        return text

    def record(self):
        return {"distribute": self.name, "engine": self.engine, "replicas": self.replicas,
                "workers": self.workers, "worker_index": self.worker_index,
                "devices": self.devices}


def use(args):
    """Set up args.distribute before any model is built; return the Distribution.

    Call it before anything starts the backend's runtime (records.Run, devices()):
    splitting the CPU into logical devices is only possible before.
    """
    backend = keras.backend.backend()
    with quiet_native_stderr(unless_raising_one_of=errors.UserError):
        if backend == "tensorflow":
            return _tensorflow(args.distribute, args.cpu_devices)
        if backend == "jax":
            return _jax(args.distribute)
        return Distribution(args.distribute, devices())


def _tensorflow(name, cpu_devices):
    import tensorflow as tf

    if cpu_devices > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_devices)
    if name == "none":
        return Distribution(name, devices())
    workers, worker_index = [None], 0
    if name == "mirrored":
        local = (tf.config.list_logical_devices("GPU")
                 or tf.config.list_logical_devices("CPU"))
        strategy = tf.distribute.MirroredStrategy([device.name for device in local])
        _warn_if_alone(_device_names(local))
    elif name == "tpu":
        strategy = tf.distribute.TPUStrategy(_tpu_resolver(tf))
    else:  # multi-worker
        workers, worker_index = tf_config()  # one line, not a hang, when missing or malformed
        strategy = _multi_worker_strategy()
    tf.distribute.experimental_set_strategy(strategy)
    return Distribution(name, _device_names(strategy.extended.worker_devices),
                        replicas=strategy.num_replicas_in_sync, worker_index=worker_index,
                        workers=len(workers), engine=f"tf.distribute.{_strategy_name(strategy)}")


def _strategy_name(strategy):
    """The public tf.distribute class a strategy is, e.g. 'MirroredStrategy'."""
    return type(strategy).__name__.lstrip("_")


def _tpu_resolver(tf):
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except Exception as error:  # ValueError, NotFoundError, ...: the resolver's reasons vary
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise errors.UserError(f"--distribute tpu: no TPU found ({reason}); run on a Cloud TPU VM, "
                            f"or set TPU_NAME to the TPU's name") from None
    return resolver


def _multi_worker_strategy():
    import tensorflow as tf

    class _MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        """tf.distribute.MultiWorkerMirroredStrategy, reducing one value at a time.

        Keras 3's TensorFlow trainer asks it to reduce a tuple of per-replica batches, and
        per-replica scalars along axis 0; its collective implementation takes neither
        (keras-team/keras#20585: "Attempt to convert a value (PerReplica...)").
        """

        def reduce(self, reduce_op, value, axis):
            def reduce_one(per_replica):
                rank = self.experimental_local_results(per_replica)[0].shape.rank
                return super(_MultiWorkerMirroredStrategy, self).reduce(
                    reduce_op, per_replica, axis if rank else None)
            return tf.nest.map_structure(reduce_one, value)

    return _MultiWorkerMirroredStrategy()


def _jax(name):
    devices = keras.distribution.list_devices()
    if name == "tpu" and not any(str(device).startswith("tpu") for device in devices):
        seen = ", ".join(map(str, devices))
        raise errors.UserError(f"--distribute tpu: no TPU found (JAX sees {seen}); run on a Cloud "
                            f"TPU VM with jax[tpu] installed")
    if name == "none":
        return Distribution(name, _device_names(devices[:1]))
    if name == "mirrored":
        _warn_if_alone(_device_names(devices))
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return Distribution(name, _device_names(devices), replicas=len(devices),
                        engine="keras.distribution.DataParallel")


def _warn_if_alone(devices):
    if len(devices) == 1:
        hint = ("--cpu-devices N splits the CPU" if keras.backend.backend() == "tensorflow"
                else "install the backend's GPU build to use GPUs")
        print(f"warning: --distribute mirrored found one device ({devices[0]}); it trains "
              f"alone ({hint})")


def _device_names(devices):
    """'/job:localhost/replica:0/task:0/device:CPU:1' or a LogicalDevice -> 'cpu:1'."""
    names = []
    for device in devices:
        text = getattr(device, "name", device)
        text = str(text).rsplit("/", 1)[-1]
        names.append(text.removeprefix("device:").lower())
    return names
