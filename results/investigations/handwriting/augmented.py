"""The listing's CNN trained on MNIST digits moved about: does it read other people's digits?

Keras' own augmentation layers in front of the listing's CNN (cnn_mnist.build_model with the
listing's values, read from cnn_mnist.py's flags): RandomRotation(0.04) (up to 14 degrees
either way), RandomZoom(0.1) and RandomTranslation(0.1, 0.1), which act in training only.
These ranges were written here before the model was trained or measured, and are not tuned:
no part of the handwriting measurement chose them. It trains with the listing's settings
(Adam, 10 epochs, batches of 128, seed 1) and writes augmented/model.keras and
augmented/record.json (its MNIST test accuracy, beside the listing's in
results/cnn_mnist/). measure.py then reads the same pictures with it:

    python results/investigations/handwriting/augmented.py
    python results/investigations/handwriting/measure.py --part held-out --model augmented
"""
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
FOLDER = os.path.join(HERE, "augmented")
ROTATION, ZOOM, SHIFT = 0.04, 0.1, 0.1


def main():
    sys.path.insert(0, ROOT)
    import cnn_mnist
    from companion.backend import keras

    listing = cnn_mnist.build_parser().parse_args([])
    keras.utils.set_random_seed(listing.seed)
    (x_train, y_train), (x_test, y_test), num_labels, source = cnn_mnist.load_data()
    x_train, x_test = cnn_mnist.preprocess(x_train), cnn_mnist.preprocess(x_test)
    cnn = cnn_mnist.build_model(x_train.shape[1:], num_labels, listing.filters,
                                listing.kernel_size, listing.pool_size, listing.dropout)
    layers = keras.layers
    model = keras.Sequential([keras.Input(shape=x_train.shape[1:]),
                              layers.RandomRotation(ROTATION, fill_mode="constant"),
                              layers.RandomZoom(ZOOM, fill_mode="constant"),
                              layers.RandomTranslation(SHIFT, SHIFT, fill_mode="constant"),
                              *cnn.layers])
    model.compile(loss="categorical_crossentropy", optimizer=listing.optimizer,
                  metrics=["accuracy"])
    started = time.time()
    history = model.fit(x_train, y_train, epochs=listing.epochs, batch_size=listing.batch_size,
                        verbose=2)
    seconds = time.time() - started
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=listing.batch_size, verbose=0)
    print(f"Test accuracy: {100 * accuracy:.1f}%")
    os.makedirs(FOLDER, exist_ok=True)
    model.save(os.path.join(FOLDER, "model.keras"))
    record = {"command": "python results/investigations/handwriting/augmented.py",
              "augmentation": {"RandomRotation": ROTATION, "RandomZoom": ZOOM,
                               "RandomTranslation": [SHIFT, SHIFT]},
              "listing_values": {key: getattr(listing, key) for key in
                                 ("epochs", "batch_size", "optimizer", "dropout", "filters",
                                  "kernel_size", "pool_size", "seed")},
              "data": source.split(",")[0], "train_accuracy": history.history["accuracy"][-1],
              "test_accuracy": accuracy, "test_loss": loss, "seconds_training": seconds,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, keras "
                         f"{keras.__version__} ({keras.backend.backend()})"}
    with open(os.path.join(FOLDER, "record.json"), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
