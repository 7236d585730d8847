"""Listing 1.3.1: count MNIST's labels, draw 25 random digits (mnist-sampler-1.3.1.py).

Prints the number of train and test images of each digit (the book: 60,000 train, 10,000 test)
and writes a 5x5 grid of random training digits, mnist-samples.png, into a new folder under
results/mnist_samples/. Every line not the listing's is tagged (the reasons: docs/listings.md).

    python mnist_samples.py             # a new random sample each --seed
    python mnist_samples.py --dry-run   # 2,048 training and 512 test digits
"""
from companion import cli  # isort: skip


def build_parser():
    """Not in the listing: the flags."""
    parser = cli.new_parser(__doc__)
    cli.add_common_arguments(parser, dry_run="smoke test: 2,048 training and 512 test digits")
    return parser


if __name__ == "__main__":  # not in the listing: the flags, checked before Keras loads
    cli.parse(build_parser())

from companion import lifecycle, mnist, records  # isort: skip  (not in the listing)
import matplotlib.pyplot as plt
import numpy as np


def main(argv=None):  # not in the listing: the steps below in order, and the run's record
    args = cli.parse(build_parser(), argv)
    np.random.seed(args.seed)  # not in the listing, which samples unseeded: --seed repeats a run
    # load dataset
    # (not in the listing: a checked file, download or package, `source`; --dry-run's slice)
    (x_train, y_train), (x_test, y_test), source = mnist.load_data(dry_run=args.dry_run)
    run = records.Run(__file__, args)  # not in the listing: the run's record, once data is good
    # count the number of unique train labels
    # (not in the listing's spelling: np.unique's counts as plain ints, for the record)
    train_counts = mnist.label_counts(y_train)
    print("Train labels: ", train_counts)
    # count the number of unique test labels
    test_counts = mnist.label_counts(y_test)  # (the same, for y_test)
    print("Test labels: ", test_counts)
    # sample 25 mnist digits from train dataset
    indexes = np.random.randint(0, x_train.shape[0], size=25)
    images = x_train[indexes]
    labels = y_train[indexes]
    # plot the 25 mnist digits
    figure = plt.figure(figsize=(5, 5))
    for i in range(len(indexes)):
        plt.subplot(5, 5, i + 1)
        image = images[i]
        plt.imshow(image, cmap="gray")
        plt.axis("off")
    # (not here: the listing's savefig, show and close; run.write saves and closes the figure)
    return run.write({"mnist-samples.png": figure},
                     data={"source": source, "train_samples": int(len(y_train)),
                           "test_samples": int(len(y_test))},
                     train_label_counts=train_counts, test_label_counts=test_counts,
                     sample_indexes=indexes.tolist(), sample_labels=labels.tolist())


if __name__ == "__main__":
    lifecycle.run_main(main)
