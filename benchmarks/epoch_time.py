"""Seconds per epoch of the MLP, CNN and RNN listings: the book's way, this project's default,
and the lower bound that the machine's arithmetic sets.

For each listing it measures, each in a fresh process, on real MNIST:
  (a) book:    the listing as printed, plain Keras defaults (compile without speed settings);
  (b) default: the script's own defaults (its --jit-compile and --steps-per-execution);
and reports the median epoch time after a warm-up epoch, samples per second, the process's peak
memory, this machine's measured float32 matrix-multiply rate and the training FLOPs per epoch
counted from the model's layers, whose ratio is the lower bound. Writes results/BENCHMARKS.md.

    python benchmarks/epoch_time.py            # about 6 minutes on a 2-core CPU
    python benchmarks/epoch_time.py --quick    # under a minute: 6,000 samples an epoch
"""
import argparse
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

def layer_flops(layer):
    """(forward, recurrent) FLOPs (multiply-adds x 2) of one sample through `layer`: the whole
    forward pass, and the part of it that multiplies the hidden state, whose gradient
    backpropagation through time needs even in a first layer. Layers without weights
    (activations, pooling, dropout) are memory-bound and count as 0."""
    name = type(layer).__name__
    if name == "Dense":
        inputs, units = layer.kernel.shape
        return 2 * inputs * units, 0
    if name == "Conv2D":
        kernel_h, kernel_w, channels_in, channels_out = layer.kernel.shape
        _, out_h, out_w, _ = layer.output.shape
        return 2 * kernel_h * kernel_w * channels_in * channels_out * out_h * out_w, 0
    if name in ("SimpleRNN", "LSTM", "GRU"):
        gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[name]
        timesteps, features = layer.input.shape[1:]
        units = layer.cell.units
        recurrent = 2 * timesteps * gates * units * units
        return 2 * timesteps * gates * features * units + recurrent, recurrent
    return 0, 0


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

def worker(model_name, mode, epochs, samples):
    """Train the listing for `epochs` epochs on `samples` digits; print one JSON line."""
    import resource

    import companion  # first: imports Keras quietly
    from companion import cli, mnist, records

    import keras

    script = __import__(MODELS[model_name])
    parser = script.build_parser()
    args = parser.parse_args([])
    (x_train, y_train), _, _ = mnist.load_data()
    x_train = script.preprocess(x_train[:samples])
    y_train = keras.utils.to_categorical(y_train[:samples])
    keras.utils.set_random_seed(1)
    model = BUILDERS[model_name](script, args, x_train.shape[1:])
    if mode == "book":
        speed = {}
    elif mode == "default":
        speed = cli.speed_settings(args)
    else:  # a JSON object of compile() settings, to explore
        speed = json.loads(mode)
    model.compile(loss="categorical_crossentropy", optimizer=args.optimizer,
                  metrics=["accuracy"], **speed)
    epoch_log = records.EpochLog()
    model.fit(x_train, y_train, epochs=epochs, batch_size=args.batch_size,
              callbacks=[epoch_log], verbose=0)
    timed = [entry["seconds"] for entry in epoch_log.epochs[1:]]  # the first is the warm-up
    print(json.dumps({
        "model": model_name, "mode": mode, "speed_settings": speed or "Keras defaults",
        "backend": keras.backend.backend(), "devices": companion.devices(),
        "samples": samples, "epoch_seconds": timed,
        "median_seconds": statistics.median(timed),
        "flops_per_sample": training_flops_per_sample(model),
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "final_loss": epoch_log.epochs[-1]["loss"],
    }))


def measure(model_name, mode, epochs, samples):
    completed = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker", model_name, mode,
         "--epochs", str(epochs), "--samples", str(samples)],
        cwd=ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"epoch_time.py: the {model_name} {mode} measurement failed:\n"
                         f"{completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- the report ------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_SAMPLES} samples an epoch, 1 timed epoch (under a minute)")
    parser.add_argument("--models", default="mlp,cnn,rnn", help="which listings, e.g. mlp,cnn")
    parser.add_argument("--output", default=os.path.join(ROOT, "results", "BENCHMARKS.md"),
                        help="the Markdown report to write")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, default=TRAIN_SAMPLES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker, args.epochs, args.samples)
        return
    models = args.models.split(",")
    unknown = set(models) - set(MODELS)
    if unknown:
        parser.error(f"argument --models: unknown {', '.join(sorted(unknown))} "
                     f"(choose from {', '.join(MODELS)})")
    samples = QUICK_SAMPLES if args.quick else TRAIN_SAMPLES
    epochs = {"mlp": 6, "cnn": 4, "rnn": 5} if not args.quick else {name: 2 for name in MODELS}

    rows = []
    for name in models:
        for mode in ("book", "default"):
            result = measure(name, mode, epochs[name], samples)
            rows.append(result)
            print(f"{name:4s} {mode:8s} {result['median_seconds']:7.2f} s/epoch "
                  f"({samples / result['median_seconds']:,.0f} samples/s), "
                  f"{result['peak_memory_mb']:.0f} MB, {result['speed_settings']}", flush=True)
    # Last, in this process: a backend that reserves the accelerator's memory (JAX does) must
    # not hold it while the measurements above run in their own processes.
    import companion  # (imports Keras quietly)
    on_accelerator = any(not device.startswith("cpu") for device in companion.devices())
    size = 8192 if on_accelerator else 2048  # big enough to keep an accelerator busy
    rate = matmul_rate(size)
    print(f"float32 matrix multiply: {rate:.0f} GFLOP/s")
    for result in rows:
        result["bound_seconds"] = result["flops_per_sample"] * samples / (rate * 1e9)
        print(f"{result['model']:4s} {result['mode']:8s} bound {result['bound_seconds']:.3g} s")
    write_report(args.output, rows, rate, size, samples, args.quick)
    print(f"Report: {args.output}")


def write_report(path, rows, rate, size, samples, quick):
    from companion import records

    by_key = {(row["model"], row["mode"]): row for row in rows}
    first = rows[0]
    lines = [
        "# Seconds per epoch: the book's way, this project's default, and the bound", "",
        f"Made by `python benchmarks/epoch_time.py{' --quick' if quick else ''}` on "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d')}: {records.cpu_name()}, "
        f"{os.cpu_count()} cores, "
        f"Keras backend {first['backend']} on {', '.join(first['devices'])}; "
        f"{samples:,} samples an epoch, batch 128; median of the epochs after a warm-up epoch, "
        "each configuration in a fresh process.", "",
        f"Measured float32 matrix-multiply rate: **{rate:.0f} GFLOP/s** ({size} x {size}, "
        "through the backend, 8 products per timing). Bound = training FLOPs per epoch (forward, weight gradients, input "
        "gradients, counted from the model's Dense, Conv2D and recurrent layers) / that rate.",
        "",
        "| listing | FLOP per epoch | bound, s | (a) book, s | (b) default, s | (b) settings | "
        "samples/s (b) | peak MB (a) / (b) | (a)/(b) | (b)/bound |",
        "|---|---|---|---|---|---|---|---|---|---|"]
    for name in MODELS:
        if (name, "book") not in by_key:
            continue
        book, default = by_key[(name, "book")], by_key[(name, "default")]
        flops = default["flops_per_sample"] * samples
        lines.append(
            f"| {name} | {flops / 1e9:,.1f} G | {default['bound_seconds']:.3g} | "
            f"{book['median_seconds']:.2f} | {default['median_seconds']:.2f} | "
            f"{settings_text(default['speed_settings'])} | "
            f"{samples / default['median_seconds']:,.0f} | "
            f"{book['peak_memory_mb']:.0f} / {default['peak_memory_mb']:.0f} | "
            f"{book['median_seconds'] / default['median_seconds']:.2f} | "
            f"{default['median_seconds'] / default['bound_seconds']:.2f} |")
    lines += ["", "Raw measurements:", "", "```json",
              json.dumps(rows, indent=1), "```", ""]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace(path + ".tmp", path)


def settings_text(settings):
    if isinstance(settings, str):
        return settings
    return ", ".join(f"{key}={value}" for key, value in settings.items())


if __name__ == "__main__":
    main()
