"""Seconds per epoch of the MLP, CNN and RNN listings on Keras' own path, against the lower
bounds that the machine's arithmetic sets.

For each listing it measures, each in a fresh process, on real MNIST, Keras' own path (the
listing's compile() and fit(), as a default run of the script trains) on the TensorFlow
backend and, when jax is installed, on the JAX backend, in interleaved rounds so that a slow
spell of a shared machine falls on both; it reports the median epoch time over every round's
epochs after the warm-up epoch, samples per second and the process's peak memory (where the
platform reports it). Two lower bounds: the training FLOPs per epoch counted from the model's
layers over (1) the machine's large-matrix multiply rate and (2) the rate the backend's kernels
reach at the listing's own layer shapes (batch 128), the time an epoch would take if it were
nothing but those kernels back to back. Writes results/BENCHMARKS.md. What --fast gains over
Keras' own path is benchmarks/speed_table.py's measurement.

    python benchmarks/epoch_time.py            # every listing, 2 interleaved rounds
    python benchmarks/epoch_time.py --quick    # smoke mode: 6,000 samples an epoch
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

MODELS = {"mlp": "mlp_mnist", "cnn": "cnn_mnist", "rnn": "rnn_mnist"}
TRAIN_SAMPLES = 60000
QUICK_SAMPLES = 6000


# --- counting FLOPs -------------------------------------------------------------------------

GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}  # weight matrices per recurrent cell


def layer_kernels(layer, batch=1):
    """The forward kernels of one weighted layer for a batch, as (operation, input shape, weight
    shape, FLOPs per call, calls per batch). A recurrent layer has two, each called once per
    timestep: the input's product, then the hidden state's. Layers without weights
    (activations, pooling, dropout) are memory-bound and have none."""
    name = type(layer).__name__
    if name == "Dense":
        inputs, units = layer.kernel.shape
        return [("matmul", (batch, inputs), (inputs, units), 2 * batch * inputs * units, 1)]
    if name == "Conv2D":
        _, height, width, channels_in = layer.input.shape
        kernel_h, kernel_w, _, channels_out = layer.kernel.shape
        _, out_h, out_w, _ = layer.output.shape
        flops = 2 * batch * kernel_h * kernel_w * channels_in * channels_out * out_h * out_w
        return [("conv", (batch, height, width, channels_in), tuple(layer.kernel.shape), flops, 1)]
    if name in GATES:
        timesteps, features = layer.input.shape[1:]
        units = layer.cell.units
        width = GATES[name] * units
        return [("matmul", (batch, features), (features, width), 2 * batch * features * width,
                 timesteps),
                ("matmul", (batch, units), (units, width), 2 * batch * units * width, timesteps)]
    return []


def multiplies_hidden_state(layer, index):
    """Whether kernel `index` of `layer` multiplies the hidden state, whose gradient
    backpropagation through time needs even in a first layer."""
    return type(layer).__name__ in GATES and index == 1


def layer_flops(layer):
    """(forward, recurrent) FLOPs (multiply-adds x 2) of one sample through `layer`: the whole
    forward pass, and the part of it that multiplies the hidden state."""
    costs = [flops * calls for *_, flops, calls in layer_kernels(layer)]
    return sum(costs), sum(cost for index, cost in enumerate(costs)
                           if multiplies_hidden_state(layer, index))


def training_flops_per_sample(model):
    """Forward + weight gradients (each the forward's cost) + input gradients: for every
    weighted layer but the first, whose input is the data, and the first's recurrent part."""
    costs = [layer_flops(layer) for layer in model.layers]
    costs = [cost for cost in costs if cost[0]]
    forward = sum(cost[0] for cost in costs)
    return 2 * forward + costs[0][1] + sum(cost[0] for cost in costs[1:])


def matmul_rate(size, products=8, repeats=5):
    """Measured float32 GFLOP/s of size x size matrix products through the Keras backend.

    Each timing runs `products` products and brings back one number, their total, so that
    neither a GPU's asynchronous launch nor the copy of a result to the host is timed.
    """
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    a = keras.ops.convert_to_tensor(rng.standard_normal((size, size), dtype=np.float32))
    b = keras.ops.convert_to_tensor(rng.standard_normal((size, size), dtype=np.float32))

    def timed():
        start = time.perf_counter()
        total = sum(keras.ops.sum(keras.ops.matmul(a, b)) for _ in range(products))
        keras.ops.convert_to_numpy(total)
        return time.perf_counter() - start

    timed()  # warm-up
    seconds = statistics.median(timed() for _ in range(repeats))
    return 2 * size ** 3 * products / seconds / 1e9


def kernel_seconds(operation, input_shape, weight_shape, calls=50):
    """Median seconds of one call of `operation` on random data, through the Keras backend.

    The calls run in one compiled loop (tf.function, jax.jit), so that no per-call Python
    dispatch is timed; each call's input or weights (whichever is smaller) depend on the
    previous call's result (by adding it times zero), so that no compiler can hoist the call
    out of the loop; that addition is timed with it.
    """
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    x = keras.ops.convert_to_tensor(rng.standard_normal(input_shape, dtype=np.float32))
    w = keras.ops.convert_to_tensor(rng.standard_normal(weight_shape, dtype=np.float32))
    op = keras.ops.matmul if operation == "matmul" else keras.ops.conv

    perturb_input = np.prod(input_shape) < np.prod(weight_shape)  # the cheaper one to touch

    def loop(x, w):
        def body(_, total):
            if perturb_input:
                return total + keras.ops.sum(op(x + total * 0.0, w))
            return total + keras.ops.sum(op(x, w + total * 0.0))
        return keras.ops.fori_loop(0, calls, body, keras.ops.zeros(()))

    loop = compiled(loop)

    def timed():
        start = time.perf_counter()
        keras.ops.convert_to_numpy(loop(x, w))
        return (time.perf_counter() - start) / calls

    timed()  # warm-up, compilation included
    return statistics.median(timed() for _ in range(5))


def compiled(function):
    """`function` compiled by the backend's own compiler (PyTorch's runs it eagerly)."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        return tf.function(function)
    if keras.backend.backend() == "jax":
        import jax
        return jax.jit(function)
    return function


def kernel_bound(model, samples, batch=128):
    """Seconds per epoch if training were nothing but the model's forward kernels at the rates
    they reach at these shapes, each counted as often as training runs it (forward, weight
    gradient, and input gradient except for the data's own input), back to back; and the
    per-kernel rates, for the report."""
    steps = samples / batch
    seconds, rates = 0.0, []
    weighted = [layer for layer in model.layers if layer_flops(layer)[0]]
    for position, layer in enumerate(weighted):
        for index, (operation, input_shape, weight_shape, flops, calls) in enumerate(
                layer_kernels(layer, batch)):
            passes = 3 if position > 0 or multiplies_hidden_state(layer, index) else 2
            call_seconds = kernel_seconds(operation, input_shape, weight_shape)
            seconds += passes * calls * call_seconds * steps
            rates.append({"layer": layer.name, "operation": operation,
                          "shapes": [list(input_shape), list(weight_shape)],
                          "gflops_per_second": round(flops / call_seconds / 1e9, 1)})
    return seconds, rates


# --- one measurement, in its own process -----------------------------------------------------

# Each script's build_model(), with the arguments its main() passes.
BUILDERS = {
    "mlp": lambda script, args, shape: script.build_model(
        shape[0], 10, args.hidden_units, args.dropout, args.l2, args.activation),
    "cnn": lambda script, args, shape: script.build_model(
        shape, 10, args.filters, args.kernel_size, args.pool_size, args.dropout),
    "rnn": lambda script, args, shape: script.build_model(
        shape, 10, args.units, args.dropout, args.cell),
}

def peak_memory_mb():
    """The process's peak resident memory in MB, or None where `resource` is missing (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(model_name, epochs, samples):
    """Train the listing on Keras' own path for `epochs` epochs on `samples` digits; print one
    JSON line."""
    from companion import backend, callbacks, mnist  # isort: skip (Keras, quietly)
    import keras

    (x_train, y_train), _, _ = mnist.load_data()
    keras.utils.set_random_seed(1)
    script, args, model = build_listing(model_name)
    x_train = script.preprocess(x_train[:samples])
    y_train = keras.utils.to_categorical(y_train[:samples])
    model.compile(loss="categorical_crossentropy", optimizer=args.optimizer, metrics=["accuracy"])
    epoch_log = callbacks.EpochLog()
    model.fit(x_train, y_train, epochs=epochs, batch_size=args.batch_size,
              callbacks=[epoch_log], verbose=0)
    timed = [entry["seconds"] for entry in epoch_log.epochs[1:]]  # the first is the warm-up
    print(json.dumps({
        "model": model_name, "backend": keras.backend.backend(), "devices": backend.devices(),
        "samples": samples, "epoch_seconds": timed,
        "median_seconds": statistics.median(timed),
        "flops_per_sample": training_flops_per_sample(model),
        "peak_memory_mb": peak_memory_mb(),
        "final_loss": epoch_log.epochs[-1]["loss"],
    }))


def measure(model_name, backend_name, epochs, samples):
    """One configuration in a fresh process on the named backend."""
    completed = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker", model_name,
         "--epochs", str(epochs), "--samples", str(samples)],
        cwd=ROOT, capture_output=True, text=True,
        env=dict(os.environ, KERAS_BACKEND=backend_name))
    if completed.returncode != 0:
        raise SystemExit(f"epoch_time.py: the {model_name} {backend_name} measurement failed:\n"
                         f"{completed.stderr[-2000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["mode"] = backend_name
    return result


def combine(rounds):
    """One configuration's rounds -> one result: every timed epoch, their median."""
    result = dict(rounds[0])
    result["epoch_seconds"] = [seconds for one in rounds for seconds in one["epoch_seconds"]]
    result["round_medians"] = [one["median_seconds"] for one in rounds]
    result["median_seconds"] = statistics.median(result["epoch_seconds"])
    peaks = [one["peak_memory_mb"] for one in rounds if one["peak_memory_mb"] is not None]
    result["peak_memory_mb"] = max(peaks) if peaks else None
    return result


# --- the report ------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=(__doc__ or " ").splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_SAMPLES} samples an epoch, 1 round, 1 timed epoch")
    parser.add_argument("--models", default="mlp,cnn,rnn", help="which listings, e.g. mlp,cnn")
    parser.add_argument("--rounds", type=int, default=2,
                        help="interleaved rounds of each backend, each in fresh processes")
    parser.add_argument("--output", default=os.path.join(ROOT, "results", "BENCHMARKS.md"),
                        help="the Markdown report to write")
    parser.add_argument("--worker", metavar="MODEL", help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, default=TRAIN_SAMPLES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.epochs, args.samples)
        return
    models = args.models.split(",")
    unknown = set(models) - set(MODELS)
    if unknown:
        parser.error(f"argument --models: unknown {', '.join(sorted(unknown))} "
                     f"(choose from {', '.join(MODELS)})")
    samples = QUICK_SAMPLES if args.quick else TRAIN_SAMPLES
    rounds = 1 if args.quick else args.rounds
    epochs = {"mlp": 5, "cnn": 3, "rnn": 4} if not args.quick else {name: 2 for name in MODELS}
    modes = ["tensorflow"] + (["jax"] if importlib.util.find_spec("jax") is not None else [])

    rows = []
    for name in models:
        measured = {mode: [] for mode in modes}
        for _ in range(rounds):
            for mode in modes:
                result = measure(name, mode, epochs[name], samples)
                measured[mode].append(result)
                print(f"{name:4s} {mode:10s} {result['median_seconds']:7.2f} s/epoch "
                      f"({samples / result['median_seconds']:,.0f} samples/s)", flush=True)
        rows += [combine(measured[mode]) for mode in modes]
    # Last, in this process: a backend that reserves the accelerator's memory (JAX does) must
    # not hold it while the measurements above run in their own processes.
    from companion import backend  # (imports Keras quietly)
    on_accelerator = any(not device.startswith("cpu") for device in backend.devices())
    size = 8192 if on_accelerator else 2048  # big enough to keep an accelerator busy
    rate = matmul_rate(size)
    print(f"float32 matrix multiply: {rate:.0f} GFLOP/s")
    kernels = {name: kernel_bound(build_listing(name)[2], samples) for name in models}
    for result in rows:
        result["bound_seconds"] = result["flops_per_sample"] * samples / (rate * 1e9)
        result["kernel_bound_seconds"], result["kernel_rates"] = kernels[result["model"]]
        print(f"{result['model']:4s} {result['mode']:8s} bound {result['bound_seconds']:.3g} s, "
              f"at the layers' kernel rates {result['kernel_bound_seconds']:.3g} s")
    write_report(args.output, rows, rate, size, samples, args.quick, rounds)
    print(f"Report: {args.output}")


def build_listing(name):
    """The listing's script module, its default flags and its model, built in this process."""
    import numpy as np

    from companion import cli

    script = __import__(MODELS[name])
    args = cli.parse(script.build_parser(), [])
    shape = script.preprocess(np.zeros((1, 28, 28), dtype=np.uint8)).shape[1:]
    return script, args, BUILDERS[name](script, args, shape)


def megabytes(value):
    return "-" if value is None else f"{value:.0f}"


def write_report(path, rows, rate, size, samples, quick, rounds):
    from companion import environment
    from companion.files import write_atomically

    by_key = {(row["model"], row["mode"]): row for row in rows}
    first = rows[0]
    has_jax = any(row["mode"] == "jax" for row in rows)
    lines = [
        "# Seconds per epoch on Keras' own path, and the bounds", "",
        f"Made by `python benchmarks/epoch_time.py{' --quick' if quick else ''}` on "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d')}: "
        f"{environment.cpu_info()['processor']}, {os.cpu_count()} cores, on "
        f"{', '.join(first['devices'])}; {samples:,} samples an epoch, batch 128; {rounds} "
        "interleaved round(s), each configuration in a fresh process; median of all rounds' "
        "epochs after each process's warm-up epoch.", "",
        f"Measured float32 matrix-multiply rate: **{rate:.0f} GFLOP/s** ({size} x {size}, "
        "through the backend, 8 products per timing). FLOP bound = training FLOPs per epoch "
        "(forward, weight gradients, input gradients, counted from the model's Dense, Conv2D "
        "and recurrent layers) / that rate. Kernel bound = the same kernels at the rates the "
        "backend reaches at the listing's own shapes (batch 128; table below), back to back.",
        "",
        "| listing | FLOP per epoch | FLOP bound, s | kernel bound, s | TensorFlow, s | "
        "samples/s | peak MB | / FLOP bound | / kernel bound |"
        + (" JAX, s | TensorFlow / JAX |" if has_jax else ""),
        "|---|---|---|---|---|---|---|---|---|" + ("---|---|" if has_jax else "")]
    lines += [listing_line(name, by_key, samples) for name in MODELS
              if (name, "tensorflow") in by_key]
    lines += ["", "Kernel rates at the listing's shapes (forward kernels, batch 128, through "
              f"the {first['backend']} backend, 50 calls in one compiled loop):", "",
              "| listing | layer | kernel | shapes | GFLOP/s |", "|---|---|---|---|---|"]
    for name in MODELS:
        if (name, "tensorflow") in by_key:
            for kernel in by_key[(name, "tensorflow")]["kernel_rates"]:
                shapes = " x ".join("(" + ", ".join(map(str, shape)) + ")"
                                    for shape in kernel["shapes"])
                lines.append(f"| {name} | {kernel['layer']} | {kernel['operation']} | {shapes} | "
                             f"{kernel['gflops_per_second']:,.0f} |")
    lines += ["", "Raw measurements:", "", "```json",
              json.dumps(rows, indent=1), "```", ""]
    write_atomically(path, "\n".join(lines))


def listing_line(name, by_key, samples):
    """One listing's row of the report's first table."""
    own = by_key[(name, "tensorflow")]
    flops = own["flops_per_sample"] * samples
    line = (f"| {name} | {flops / 1e9:,.1f} G | {own['bound_seconds']:.3g} | "
            f"{own['kernel_bound_seconds']:.3g} | {own['median_seconds']:.2f} | "
            f"{samples / own['median_seconds']:,.0f} | {megabytes(own['peak_memory_mb'])} | "
            f"{own['median_seconds'] / own['bound_seconds']:.2f} | "
            f"{own['median_seconds'] / own['kernel_bound_seconds']:.2f} |")
    if (name, "jax") in by_key:
        jax_row = by_key[(name, "jax")]
        line += (f" {jax_row['median_seconds']:.2f} | "
                 f"{own['median_seconds'] / jax_row['median_seconds']:.2f} |")
    return line


if __name__ == "__main__":
    main()
