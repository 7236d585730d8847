"""What a listing run needs and the book leaves out, one job a module, importing those above.

- errors       the one exception for a problem the reader can fix (one line, exit 2)
- files        where a run may write (checked first); a file written all at once
- lifecycle    how a script ends: one line and a status for bad input, Ctrl-C, kill, full disk
- keras_setup  what Keras will start with (packages, keras.json, backend), read first
- cli          the flags with the book's defaults, checked before Keras is imported
- backend      Keras started quietly; the devices
- download     Keras' own downloads, never hanging without a network
- mnist        MNIST from Keras' cache, a download or a PyPI package, checked on every load
- callbacks    the progress display and the per-epoch log every fit() is given
- environment, plots, records
               what a run leaves: its machine, its figures, its folder and record.json

Beside it, importing from it and never the other way: distribute/ (--distribute), speed/
(--fast, --scan), handwriting/ (predict_digit.py), sentiment/ (lstm_gru_text.py), tables/
(reproduce.py and the results index). The protocol experiment lives beside its runs in
results/investigations/protocols/.
"""
import os

# The scripts draw into files (plots.py) whatever backend the environment names for matplotlib:
# one it does not know would stop matplotlib's import, which Keras' own import starts.
os.environ.pop("MPLBACKEND", None)
