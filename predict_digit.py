"""Try a trained model on your own handwriting: which digit is in each picture?

Each image (a photo or a drawing: PNG, JPEG and the like; grey, colour, or drawn on a
transparent background) is made into an MNIST digit as MNIST's own were made (handwriting/digits.py:
the ink found and made bright on black, cropped, its longer side scaled to 20 pixels, centred by
its centre of mass in 28x28), then shaped for the model exactly as its training script does.
One line per image gives the most likely digit and the next two:

    photo.jpg: 7 (96.1%), then 1 (2.0%), 9 (0.8%)

A picture that cannot be read (no digit in it, a damaged file) is named, with why, in one error
line at the end (exit status 2); the others are still answered and their results written.

    python predict_digit.py docs/handwriting/seven.jpg    # the newest CNN run with defaults
    python predict_digit.py --script mlp docs/handwriting/seven.jpg  # the same for the MLP
    python predict_digit.py --evaluate --script cnn       # the model's MNIST test accuracy
    python predict_digit.py --evaluate --model results/cnn_mnist/20261205-173731/model.keras

A figure of each input, the 28x28 digit the model saw and its ten probabilities goes to a new
folder under results/predict_digit/, with a record.json.
"""
import glob
import json
import math
import os
import tempfile
import zipfile

from companion import cli  # isort: skip

SCRIPTS = {"mlp": "mlp_mnist", "cnn": "cnn_mnist", "rnn": "rnn_mnist"}


def build_parser():
    parser = cli.new_parser(__doc__)
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="pictures of one digit each")
    parser.add_argument("--model", metavar="PATH",
                        help="a model.keras file; default: the newest run of --script with the "
                             "listing's defaults under this repository's results/")
    parser.add_argument("--script", choices=sorted(SCRIPTS), default=None,
                        help="whose model to use when --model is not given (default: cnn); "
                             "with --model, checked against the model's input")
    parser.add_argument("--evaluate", action="store_true",
                        help="report the model's accuracy on MNIST's 10,000 test digits")
    cli.add_common_arguments(parser, dry_run="smoke test: --evaluate on 512 MNIST test digits")
    return parser


def nothing_to_do(args):
    return None if args.images or args.evaluate else "give one or more images, or --evaluate"


if __name__ == "__main__":  # the flags are checked before Keras is imported
    cli.parse(build_parser(), check=nothing_to_do)

from companion import backend, errors, lifecycle, mnist, records  # isort: skip
import keras
import matplotlib.pyplot as plt
import numpy as np

import cnn_mnist
import mlp_mnist
import rnn_mnist
from handwriting import digits  # the picture made into an MNIST digit
from tables import results_index  # which committed run is the listing's default

# each listing's model input, and its script's own preprocess (the same reshaping and scaling)
PREPROCESS = {(784,): mlp_mnist.preprocess, (28, 28, 1): cnn_mnist.preprocess,
              (28, 28): rnn_mnist.preprocess}
SCRIPT_OF_INPUT = {(784,): "mlp", (28, 28, 1): "cnn", (28, 28): "rnn"}


SHOWN = 24  # pictures drawn in predictions.png
THUMBNAIL = 512  # the longest side of a picture as predictions.png shows it
COMMITTED = os.path.join(os.path.dirname(os.path.realpath(__file__)), "results")  # via a link too


def default_model(script, results_dir=COMMITTED):
    """The newest model.keras of a run of the listing with its defaults (only --seed and
    --results-dir may differ) under results_dir/<script>_mnist/: the repository's own."""
    stem = SCRIPTS[script]
    for folder in sorted(glob.glob(os.path.join(glob.escape(results_dir), stem, "*")),
                         reverse=True):
        path = os.path.join(folder, "model.keras")
        record = results_index.read_record(os.path.join(folder, "record.json"))
        if record and os.path.exists(path) and results_index.run_with_defaults(record):
            return path
    raise errors.UserError(f"no run of {stem}.py with its defaults and a model.keras under "
                        f"{os.path.join(results_dir, stem)}; train one (python {stem}.py) or "
                        f"name a model with --model")


# what a .keras archive holds (Keras 3's format), and how much its members may grow unpacked:
# weights compress little, so a member far larger than its packed size is padding or a bomb
KERAS_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")
MAX_UNPACKED = 4 * 1024 ** 3
MAX_RATIO = 25
# the weights each kind of layer builds, from its config and the input shape it was built for
WEIGHTS = {"Dense": lambda c, d: d * c["units"] + c["units"],
           "Conv1D": lambda c, d: math.prod(c["kernel_size"]) * d * c["filters"] + c["filters"],
           "Conv2D": lambda c, d: math.prod(c["kernel_size"]) * d * c["filters"] + c["filters"],
           "Conv3D": lambda c, d: math.prod(c["kernel_size"]) * d * c["filters"] + c["filters"],
           "SimpleRNN": lambda c, d: c["units"] * (d + c["units"] + 1),
           "LSTM": lambda c, d: 4 * c["units"] * (d + c["units"] + 1),
           "GRU": lambda c, d: 3 * c["units"] * (d + c["units"] + 2),
           "Embedding": lambda c, d: c["input_dim"] * c["output_dim"]}


def check_archive(path):
    """One line, before Keras reads it, when a .keras file would cost far more than its size:
    members Keras does not write, members that unpack to far more than they hold, or layers
    whose weights would take far more memory than the file's weights hold."""
    if not zipfile.is_zipfile(path):
        if path.lower().endswith(".keras"):  # Keras would say "File not found"
            raise errors.UserError(f"{path}: not a Keras model (a .keras file is a zip archive; "
                                   f"this one is cut short or of another format)")
        return  # an older .h5 model, or not a model: Keras says which
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        for member in members:
            if member.filename not in KERAS_MEMBERS and not member.filename.startswith("assets/"):
                raise errors.UserError(f"{path}: holds {digits.printable(member.filename)!r}, "
                                       f"which a Keras model file does not; not loaded")
            if member.file_size > MAX_RATIO * member.compress_size + 2 ** 20:
                raise errors.UserError(f"{path}: {member.filename} unpacks to "
                                       f"{member.file_size:,} bytes from {member.compress_size:,}; "
                                       f"not loaded")
        if sum(member.file_size for member in members) > MAX_UNPACKED:
            raise errors.UserError(f"{path}: unpacks to more than {MAX_UNPACKED // 1024 ** 3} GB; "
                                   f"not loaded")
        names = {member.filename: member for member in members}
        if "config.json" not in names or names["config.json"].file_size > 2 ** 24:
            return  # Keras says what is wrong
        weights = names.get("model.weights.h5")
        try:
            declared = sum(WEIGHTS[layer["class_name"]](layer["config"], input_width(layer))
                           for layer in every_layer(json.loads(archive.read("config.json")))
                           if layer["class_name"] in WEIGHTS)
        except RecursionError:
            raise errors.UserError(f"{path}: its configuration nests too deep to be a model; "
                                   f"not loaded") from None
        except (ValueError, KeyError, TypeError, IndexError):
            return  # a configuration Keras reads its own way
    held = weights.file_size if weights else 0
    if 4 * declared > 2 * held + 2 ** 20:
        raise errors.UserError(f"{path}: its layers declare {declared:,} weights "
                               f"({4 * declared / 1e6:,.0f} MB) but the file holds "
                               f"{held / 1e6:,.1f} MB of them; not loaded")


def every_layer(node):
    """Every layer's {"class_name", "config"} in a model's configuration, at any depth: inside a
    nested Sequential or Functional model, or wrapped (Bidirectional, TimeDistributed)."""
    if isinstance(node, dict):
        if isinstance(node.get("class_name"), str) and isinstance(node.get("config"), dict):
            yield node
        for value in node.values():
            yield from every_layer(value)
    elif isinstance(node, list):
        for value in node:
            yield from every_layer(value)


def input_width(layer):
    """The last axis of the input a layer was built for; 1 where the file does not say (a
    wrapped layer): the weights counted are then a lower bound."""
    shape = (layer.get("build_config") or {}).get("input_shape") or [1]
    return shape[-1] if isinstance(shape[-1], int) else 1


def load(path):
    """The model and its script's preprocess; one line when it is not an MNIST classifier."""
    if not path.strip():
        raise errors.UserError("--model: expected a model file, got ''")
    if not os.path.isfile(path):
        raise errors.UserError(f"{path}: no such model file")
    check_archive(path)
    try:
        with backend.quiet_native_stderr(unless_raising_one_of=Exception), \
                tempfile.TemporaryDirectory() as scratch, records.temporary_files_in(scratch):
            # without its training configuration: a model trained on another backend (PyTorch)
            # would otherwise import that backend here, which crashes beside TensorFlow; what
            # Keras unpacks goes to a folder removed however the load ends
            model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds for a file that is not a model
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise errors.UserError(f"{path}: not a Keras model ({reason})") from None
    shape = tuple(model.input_shape[1:]) if isinstance(model.input_shape, tuple) else None
    if shape not in PREPROCESS or tuple(model.output_shape[1:]) != (10,):
        raise errors.UserError(f"{path}: its input {model.input_shape} and output "
                            f"{model.output_shape} do not fit MNIST's 28x28 digits and 10 "
                            f"labels (a model of mlp_mnist.py, cnn_mnist.py or rnn_mnist.py "
                            f"does)")
    return model, PREPROCESS[shape]


def in_project(path):
    """A path as a record keeps it: relative to the project where it lies inside it (a record
    names no folder of the machine that made it), else as given."""
    project = os.path.dirname(os.path.realpath(__file__))
    full = os.path.realpath(path)
    return os.path.relpath(full, project) if full.startswith(project + os.sep) else path


def check_script(model, path, script):
    """One line when --script names another listing than the one whose input the model takes."""
    own = SCRIPT_OF_INPUT[tuple(model.input_shape[1:])]
    if script and script != own:
        raise errors.UserError(f"{path}: a model of {SCRIPTS[own]}.py (input "
                               f"{tuple(model.input_shape[1:])}), not of {SCRIPTS[script]}.py; "
                               f"leave --script out with --model")


def as_probabilities(outputs, path):
    """The model's outputs as probabilities: as they are when they already are (the listings end
    in a softmax), else through a softmax, said once (a model that ends in logits)."""
    if not np.all(np.isfinite(outputs)):
        raise errors.UserError(f"{path}: the model's outputs are not numbers (NaN or infinite: "
                               f"its weights are); use another model, or train it again")
    if np.all(outputs >= 0) and np.allclose(outputs.sum(axis=1), 1, atol=1e-3):
        return outputs
    print(f"note: {digits.printable(path)} gives scores, not probabilities (no softmax at its "
          f"end); a softmax is applied to them")
    exponentials = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def describe(path, probabilities, doubts=()):
    """'photo.jpg: 7 (96.1%), then 1 (2.0%), 9 (0.8%)', the name on one line whatever it holds,
    and what the picture's steps doubted ('; a ruled line crossed the digit: check ...')."""
    first, second, third = np.argsort(probabilities)[::-1][:3]
    doubted = f"; {', '.join(doubts)}: check what the model saw" if doubts else ""
    return (f"{digits.printable(path)}: {first} ({100 * probabilities[first]:.1f}%), then {second} "
            f"({100 * probabilities[second]:.1f}%), {third} ({100 * probabilities[third]:.1f}%)"
            f"{doubted}")


def plot_predictions(thumbnails, seen, probabilities, names, steps=None):
    """Each of the first SHOWN pictures, the ink found in it and what was kept as the digit
    (`steps`, digits.to_mnist's), what the model saw, and its probabilities; the title says how
    many more there were (their answers are in record.json)."""
    steps = steps or [{}] * len(thumbnails)
    figure, axes = plt.subplots(len(thumbnails), 5, figsize=(15, 2.6 * len(thumbnails)),
                                squeeze=False)
    if len(names) > len(thumbnails):
        figure.suptitle(f"the first {len(thumbnails)} of {len(names)} pictures; every answer is "
                        f"in record.json", fontsize=10)
    for row, (picture, digit, p, name, step) in enumerate(zip(thumbnails, seen, probabilities,
                                                               names, steps)):
        axes[row, 0].imshow(picture)
        axes[row, 0].set_title(digits.printable(os.path.basename(name)), fontsize=9)
        for column, (key, title) in enumerate((("ink", "the ink found"),
                                               ("kept", "kept as the digit")), 1):
            if key in step:
                axes[row, column].imshow(step[key], cmap="gray")
            axes[row, column].set_title(title, fontsize=9)
        axes[row, 3].imshow(digit, cmap="gray")
        axes[row, 3].set_title("what the model saw (28x28)", fontsize=9)
        for ax in axes[row, :4]:
            ax.axis("off")
        axes[row, 4].bar(range(10), 100 * p, color=["tab:blue"] * 10)
        axes[row, 4].bar([int(np.argmax(p))], [100 * p.max()], color="tab:orange")
        axes[row, 4].set(xticks=range(10), ylim=(0, 100), ylabel="probability, %")
    figure.tight_layout()
    return figure


def main(argv=None):
    args = cli.parse(build_parser(), argv, check=nothing_to_do)
    path = default_model(args.script or "cnn") if args.model is None else args.model
    model, preprocess = load(path)
    check_script(model, path, args.script)
    print(f"Model: {os.path.relpath(path)}")
    # every picture is read and checked before anything is predicted or written; only its
    # 28x28 digit is kept, and a thumbnail of the first SHOWN, so memory stays flat
    images, seen, thumbnails, doubts, steps, refused = [], [], [], [], [], []
    for image in args.images:
        doubted, shown_steps = [], {} if len(thumbnails) < SHOWN else None
        try:
            picture = digits.read_image(image)
            seen.append(digits.to_mnist(picture, image, doubted, shown_steps))
        except errors.UserError as error:  # said at the end; the other pictures are answered
            refused.append(str(error))
            continue
        images.append(image)
        doubts.append(doubted)
        steps.append(shown_steps)
        if len(thumbnails) < SHOWN:
            picture.thumbnail((THUMBNAIL, THUMBNAIL))
            thumbnails.append(np.asarray(picture.convert("RGB")))
        del picture
    if refused and not images:  # nothing to answer: nothing is written
        raise errors.UserError(refusal(refused, len(args.images)))
    run = records.Run(__file__, args)
    fields = {"model_file": in_project(path), "refused": refused}
    if args.evaluate:
        _, (x_test, y_test), _ = mnist.load_data(dry_run=args.dry_run)
        model.compile(loss="categorical_crossentropy", metrics=["accuracy"])  # as the listings
        with lifecycle.backend_call():  # a Ctrl-C or kill waits for the call's end
            loss, accuracy = model.evaluate(preprocess(x_test), keras.utils.to_categorical(y_test),
                                            batch_size=128, verbose=0)
        print(f"{path}: test accuracy {100 * accuracy:.2f}% on {len(y_test):,} MNIST test digits")
        fields["test_accuracy"] = accuracy
    figures = {}
    if seen:
        seen = np.stack(seen)
        with lifecycle.backend_call():
            outputs = model.predict(preprocess(seen), verbose=0)
        probabilities = as_probabilities(outputs, path)
        for image, p, doubted in zip(images, probabilities, doubts):
            print(describe(image, p, doubted))
        fields["predictions"] = [
            {"image": image, "digit": int(np.argmax(p)), "probabilities": p.round(6).tolist(),
             "doubts": doubted}
            for image, p, doubted in zip(images, probabilities, doubts)]
        figures["predictions.png"] = plot_predictions(thumbnails, seen, probabilities, images,
                                                      steps[:len(thumbnails)])
    folder = run.write(figures, **fields)
    if refused:
        raise errors.UserError(refusal(refused, len(args.images)))
    return folder


def refusal(refused, pictures):
    """The one line for the pictures that could not be read: the reason itself for one alone."""
    if pictures == 1:
        return refused[0]
    return f"{len(refused)} of {pictures} pictures could not be read: {'; '.join(refused)}"


if __name__ == "__main__":
    lifecycle.run_main(main)
