"""Each listing script read from its `load_data` down meets the book's listing in the book's
order: its comments verbatim, its layer classes by name, its last line."""
import os

import pytest

from conftest import ROOT

LOAD = ["# load mnist dataset", "# compute the number of labels", "# convert to one-hot vector"]
TEST = ["model.evaluate(", 'print("\\nTest accuracy: %.1f%%" % (100.0 * acc))']


def train(optimizer):
    return ["model.summary()", "# loss function for one-hot vector",
            f"# use of {optimizer} optimizer", "# accuracy is good metric for classification tasks",
            "model.compile(", "# train the network", "model.fit("]



LISTINGS = {
    "mlp_mnist.py": LOAD + [
        "# image dimensions (assumed square)", "# resize and normalize", "# network parameters",
        "# model is a 3-layer MLP with ReLU and dropout after each layer", "layers.Dense(",
        "layers.Activation(", "layers.Dropout(", "# this is the output for one-hot vector",
        'layers.Activation("softmax")'] + train("adam")
        + ["# validate the model on test dataset to determine generalization"] + TEST,
    "cnn_mnist.py": LOAD + [
        "# input image dimensions", "# resize and normalize", "# network parameters",
        "# image is processed as is (square grayscale)",
        "# model is a stack of CNN-ReLU-MaxPooling", "layers.Conv2D(", "layers.MaxPooling2D(",
        "layers.Flatten()", "# dropout added as regularizer", "layers.Dropout(",
        "# output layer is 10-dim one-hot vector",
        'layers.Activation("softmax")'] + train("adam") + TEST,
    "rnn_mnist.py": LOAD + [
        "# resize and normalize", "# network parameters",
        "# model is RNN with 256 units, input is 28-dim vector 28 timesteps",
        "layers.SimpleRNN(", 'layers.Dense(', 'layers.Activation("softmax")'] + train("sgd")
        + TEST,
}


@pytest.mark.parametrize("script", sorted(LISTINGS))
def test_listing_lines_come_in_the_books_order(script):
    with open(os.path.join(ROOT, script)) as f:
        text = f.read()
    position = text.index("def load_data")  # the reader starts at the listing's first line
    for line in LISTINGS[script]:
        found = text.find(line, position)
        assert found >= 0, f"{script}: {line!r} missing or out of the book's order"
        position = found + len(line)


def test_the_listings_stay_light_and_send_the_reader_to_the_reasons():
    """Issue 40: at most 1.5 times the book repository's 273 lines for the four, and each
    script's header names the page that gives every deviation's reason."""
    scripts = ["mnist_samples.py", *sorted(LISTINGS)]
    texts = [open(os.path.join(ROOT, script)).read() for script in scripts]
    assert sum(len(text.splitlines()) for text in texts) <= 410
    for script, text in zip(scripts, texts):
        assert "docs/listings.md" in text.split('"""')[1], script
