"""predict_digit.py's picture steps measured on handwriting that was never MNIST's.

Two sources, both offline: digits drawn as pen strokes by handwriting/pen_digits.py (every
style of every digit, photographed in every condition), and UCI's optdigits as scikit-learn
ships it (`load_digits`: 1,797 digits written by 43 people, 8x8), scaled up and photographed in
the same conditions, one condition per digit in turn. Each picture goes through the pipeline
(handwriting/digits.py) and, for comparison, through a plain resize (the picture in grey, its
ink made light on dark, scaled to 28x28), then to the committed CNN.

Two parts, fixed before any measurement: the pipeline was tuned on `tune` (generator seed 0,
optdigits' even indices); `held-out` (generator seeds 1 and 2, optdigits' odd indices) was not
looked at while tuning. The steps are never told which condition made a picture.

    python results/investigations/handwriting/measure.py --part held-out   # then the page:
    python results/investigations/handwriting/measure.py --report

`--without-photo` reads the same optdigits, both parts, with no photo at all: MNIST's own steps
(the ink's box scaled to 20 pixels, centred by its mass) on each 8x8 digit as
optdigits_pictures scales it up. No picture step is in the way there, so it is the most a
pipeline that makes MNIST digits could give a model on them (`without-photo.json`).
"""
import argparse
import collections
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
# models other than the listing's, each in a folder here (augmented.py made it)
MODELS = ("augmented",)
PARTS = {"tune": {"seeds": [0], "optdigits": "even"},
         "held-out": {"seeds": [1, 2], "optdigits": "odd"}}


def plain_resize(picture):
    """What a reader gets without the pipeline: grey, ink light on dark, stretched, 28x28."""
    import numpy as np
    from PIL import Image

    grey = np.asarray(picture.convert("L"), dtype=np.float64)
    if np.median(grey) >= 128:
        grey = 255 - grey
    grey = (grey - grey.min()) * (255 / max(grey.max() - grey.min(), 1e-9))
    small = Image.fromarray(grey.astype(np.float32), mode="F").resize((28, 28),
                                                                       Image.Resampling.BOX)
    return np.clip(np.asarray(small), 0, 255).astype(np.uint8)


def optdigits_digits(which):
    """(index, digit, ink) of optdigits' even or odd indices: each 8x8 digit scaled up to 230
    pixels a side, its ink from 0 to 1."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    data = load_digits()
    for index in range(0 if which == "even" else 1, len(data.target), 2):
        eight = data.images[index].astype(np.float32) / 16
        big = np.asarray(Image.fromarray(eight, mode="F").resize((230, 230),
                                                                  Image.Resampling.BICUBIC))
        yield index, int(data.target[index]), np.clip(big, 0, 1)


def optdigits_pictures(which):
    import numpy as np

    from handwriting import pen_digits

    for number, (index, digit, big) in enumerate(optdigits_digits(which)):
        condition = pen_digits.CONDITIONS[number % len(pen_digits.CONDITIONS)]
        rng = np.random.default_rng([index, 8])
        strength = np.zeros((360, 360))
        strength[65:295, 65:295] = big
        yield {"source": "optdigits", "index": index, "digit": digit,
               "condition": condition}, pen_digits.photo(strength, condition, rng)


def mnist_steps(big):
    """MNIST's own steps on a digit's ink (0-1, no paper): the ink's box scaled to BOX pixels
    on its longer side, then centred by its mass, as handwriting/digits.py ends."""
    import numpy as np
    from PIL import Image

    from handwriting import digits

    ink = np.where(big >= digits.NOISE, big * 255, 0).astype(np.float32)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = digits.BOX / max(ink.shape)
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    small = np.asarray(Image.fromarray(ink, mode="F").resize(size, Image.Resampling.LANCZOS),
                       dtype=np.float64)
    return digits.centred(np.clip(small * (255 / max(small.max(), 1e-9)), 0, 255))


def without_photo():
    """Every model's answers on optdigits' digits through mnist_steps, both parts."""
    import keras
    import numpy as np

    import predict_digit

    record = {"command": "python results/investigations/handwriting/measure.py "
                         "--without-photo", "code": commit(), "machine": machine(keras),
              "models": {}}
    for name in (None, *MODELS):
        path = model_path(name, predict_digit)
        model, preprocess = predict_digit.load(path)
        answers = {}
        for part, settings in PARTS.items():
            digits_ = list(optdigits_digits(settings["optdigits"]))
            outputs = model.predict(preprocess(np.stack([mnist_steps(big)
                                                         for _, _, big in digits_])), verbose=0)
            answers[part] = [{"index": index, "digit": digit, "answer": int(np.argmax(output))}
                             for (index, digit, _), output in zip(digits_, outputs)]
        record["models"][os.path.relpath(path, ROOT)] = answers
    write_record("without-photo.json", record)


def commit():
    """The code that measures."""
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, cwd=ROOT).stdout.strip()


def machine(keras):
    return (f"{platform.machine()}, {os.cpu_count()} CPUs, keras {keras.__version__} "
            f"({keras.backend.backend()})")


def model_path(name, predict_digit):
    return (os.path.join(HERE, name, "model.keras") if name
            else predict_digit.default_model("cnn"))


def write_record(name, record):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
        f.write("\n")


def generated_pictures(seeds):
    from handwriting import pen_digits

    for seed in seeds:
        for digit, style, condition, picture in pen_digits.every_picture(seed):
            yield {"source": "pen strokes", "seed": seed, "digit": digit, "style": style,
                   "condition": condition}, picture


def measure(part, model_name=None):
    import keras
    import numpy as np

    import predict_digit
    from companion.errors import UserError
    from handwriting import digits

    code = commit()  # the code that measures: taken before, not after, the long run
    path = model_path(model_name, predict_digit)
    model, preprocess = predict_digit.load(path)
    settings = PARTS[part]
    rows = []
    pictures = [*generated_pictures(settings["seeds"]), *optdigits_pictures(settings["optdigits"])]
    for row, picture in pictures:
        row["doubts"] = []
        try:
            seen = digits.to_mnist(picture, "picture", row["doubts"])
        except UserError as error:
            seen, row["refused"] = None, str(error).split(": ", 1)[1]
        plain = plain_resize(picture)
        batch = np.stack([plain] if seen is None else [seen, plain])
        outputs = model.predict(preprocess(batch), verbose=0)
        if seen is not None:
            row["answer"], row["confidence"] = int(np.argmax(outputs[0])), float(outputs[0].max())
        row["plain_answer"] = int(np.argmax(outputs[-1]))
        rows.append(row)
    record = {"part": part, "command": f"python results/investigations/handwriting/measure.py "
                                       f"--part {part}"
                                       + (f" --model {model_name}" if model_name else ""),
              "model": os.path.relpath(path, ROOT), "code": code, "machine": machine(keras),
              "settings": settings, "pictures": rows}
    write_record(f"{part}-{model_name}.json" if model_name else f"{part}.json", record)
    return record


def share(rows, key="answer"):
    right = sum(row.get(key) == row["digit"] for row in rows)
    return f"{100 * right / len(rows):.1f}% ({right}/{len(rows)})" if rows else "-"


def table(rows, group, title):
    groups = collections.defaultdict(list)
    for row in rows:
        groups[row[group]].append(row)
    unphotographed = all("without_photo" in row for row in rows)
    lines = [f"| {title} | pictures | pipeline right | plain resize right | refused |"
             + (" no photo: MNIST's steps on the 8x8 digit |" if unphotographed else ""),
             "|---|---|---|---|---|" + ("---|" if unphotographed else "")]
    for name in sorted(groups, key=lambda g: (str(type(g)), g)):
        members = groups[name]
        refused = sum("refused" in row for row in members)
        lines.append(f"| {name} | {len(members)} | {share(members)} | "
                     f"{share(members, 'plain_answer')} | {refused} |"
                     + (f" {share(members, 'without_photo')} |" if unphotographed else ""))
    return lines


def report():
    lines = ["# The picture pipeline on handwriting that was never MNIST's", "",
             "Generated by `python results/investigations/handwriting/measure.py --report` from "
             "the records beside it (`tune.json`, `held-out.json`; `*-augmented.json` for "
             "the model augmented.py trained), made by "
             "`python results/investigations/handwriting/measure.py --part PART`. How the "
             "pictures are made and which part is which: the script's docstring. A refused "
             "picture (one line, no answer) counts as not right.", ""]
    unphotographed = {}
    if os.path.exists(os.path.join(HERE, "without-photo.json")):
        with open(os.path.join(HERE, "without-photo.json"), encoding="utf-8") as f:
            unphotographed = json.load(f)
        lines += [f"The column \"no photo\" reads the same optdigits with no photo and no "
                  f"picture step: MNIST's own steps on each 8x8 digit, the most a pipeline that "
                  f"makes MNIST digits could give the model (`{unphotographed['command']}`, code "
                  f"{unphotographed['code']}, {unphotographed['machine']}).", ""]
    for part in ("held-out", "tune", *(f"{part}-{name}" for part in ("held-out", "tune")
                                       for name in MODELS)):
        path = os.path.join(HERE, f"{part}.json")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        rows = record["pictures"]
        answers = {row["index"]: row["answer"] for row in unphotographed.get(
            "models", {}).get(record["model"], {}).get(record["part"], [])}
        for row in rows:
            if row["source"] == "optdigits" and row["index"] in answers:
                row["without_photo"] = answers[row["index"]]
        confident = [row for row in rows if row.get("confidence", 0) > 0.99]
        confident_wrong = sum(row["answer"] != row["digit"] for row in confident)
        undoubted = [row for row in confident if not row["doubts"]]
        undoubted_wrong = sum(row["answer"] != row["digit"] for row in undoubted)
        lines += [f"## {part}" + (" (not looked at while tuning)" if part.startswith("held-out")
                                  else " (the pipeline was tuned on these)"), "",
                  f"Model `{record['model']}`, code {record['code']}, {record['machine']}. "
                  f"Answers above 99% confidence: {confident_wrong} wrong of {len(confident)}; "
                  f"of those whose line says no doubt, {undoubted_wrong} wrong of "
                  f"{len(undoubted)}.", ""]
        trained = os.path.join(os.path.dirname(os.path.join(ROOT, record["model"])),
                               "record.json")
        with open(trained, encoding="utf-8") as f:
            lines += [f"Its MNIST test accuracy: {100 * json.load(f)['test_accuracy']:.2f}%.", ""]
        for source in ("pen strokes", "optdigits"):
            members = [row for row in rows if row["source"] == source]
            lines += [f"**{source}**: pipeline {share(members)}, plain resize "
                      f"{share(members, 'plain_answer')}"
                      + (f"; no photo {share(members, 'without_photo')}" if members and all(
                          "without_photo" in row for row in members) else "") + ".", ""]
            lines += table(members, "condition", "condition") + [""]
            lines += table(members, "digit", "digit") + [""]
        styles = [row for row in rows if row["source"] == "pen strokes"]
        for row in styles:
            row["digit style"] = f"{row['digit']} {row['style']}"
        lines += table(styles, "digit style", "pen strokes: digit and style") + [""]
    with open(os.path.join(HERE, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--part", choices=sorted(PARTS))
    parser.add_argument("--model", choices=MODELS, default=None,
                        help="a model beside this script (default: the committed CNN listing's)")
    parser.add_argument("--without-photo", action="store_true",
                        help="every model on optdigits' 8x8 digits with no photo (both parts)")
    parser.add_argument("--report", action="store_true", help="rewrite README.md only")
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    if args.part:
        measure(args.part, args.model)
    if args.without_photo:
        without_photo()
    report()


if __name__ == "__main__":
    main()
