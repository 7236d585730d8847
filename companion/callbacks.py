"""The callbacks every training script passes to model.fit: a progress display that fits where
the output goes, and the per-epoch log that the record keeps (and that stops a diverged run)."""
import sys
import time

import numpy as np

from companion import lifecycle
from companion.backend import keras


class ProgressBar(keras.callbacks.ProgbarLogger):
    """Keras' progress display, fitted to where the output goes: the bar on a terminal, one line
    per epoch (as verbose=2) in a log file, a pipe or CI; it stops at the last step, where Keras'
    bar counts past it with several steps per call (keras-team/keras#20861). Every fit() and
    evaluate() shows it, so a Ctrl-C or `kill` stops the run here, at a step's end."""

    def set_params(self, params):
        super().set_params(params)
        if self.verbose == 1 and not sys.stdout.isatty():
            self.verbose = 2

    def _last_step(self, batch):
        return batch if self.target is None else min(batch, self.target - 1)

    def on_train_begin(self, logs=None):
        lifecycle.backend_call_begins()
        super().on_train_begin(logs)

    def on_test_begin(self, logs=None):
        lifecycle.backend_call_begins()
        super().on_test_begin(logs)

    def on_predict_begin(self, logs=None):
        lifecycle.backend_call_begins()
        super().on_predict_begin(logs)

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(self._last_step(batch), logs)
        lifecycle.stop_if_asked()

    def on_test_batch_end(self, batch, logs=None):
        super().on_test_batch_end(self._last_step(batch), logs)
        lifecycle.stop_if_asked()

    def on_predict_batch_end(self, batch, logs=None):
        super().on_predict_batch_end(self._last_step(batch), logs)
        lifecycle.stop_if_asked()

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        lifecycle.backend_call_ends()

    def on_test_end(self, logs=None):
        super().on_test_end(logs)
        lifecycle.backend_call_ends()

    def on_predict_end(self, logs=None):
        super().on_predict_end(logs)
        lifecycle.backend_call_ends()


class EpochLog(keras.callbacks.Callback):
    """Keeps each epoch's logs (loss, accuracy) and seconds. A loss no longer finite ends
    training after that epoch, as keras.callbacks.TerminateOnNaN would, and the record says
    where (null for the value: JSON has no NaN)."""

    def __init__(self):
        super().__init__()
        self.epochs = []
        self.diverged_at_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        entry = {"epoch": epoch + 1, "seconds": round(time.perf_counter() - self._start, 3)}
        entry.update({key: finite_or_none(value) for key, value in (logs or {}).items()})
        self.epochs.append(entry)
        if entry.get("loss") is None and self.diverged_at_epoch is None:
            self.diverged_at_epoch = epoch + 1
            self.model.stop_training = True
            print(f"\nwarning: training {self.status}")  # the progress bar has not ended its line

    @property
    def status(self):
        if self.diverged_at_epoch is None:
            return "finished"
        return f"diverged: the training loss was not finite after epoch {self.diverged_at_epoch}"


def finite_or_none(value):
    value = float(value)
    return value if np.isfinite(value) else None
