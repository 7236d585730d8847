"""Files that a stop (Ctrl-C, kill) never leaves half-written: reports, figures, benchmarks."""
import contextlib
import os
import tempfile


@contextlib.contextmanager
def replacing(path, mode, suffix):
    """A temporary file beside `path` that replaces it when the block ends, and is removed when
    the block is stopped (Ctrl-C, kill): a stop leaves the old file or the new one, never half
    of one, and no stray temporary file."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    # a hidden name that .gitignore names: a commit made during a write never takes it
    f = tempfile.NamedTemporaryFile(mode, dir=folder, delete=False, prefix=".writing-",
                                    suffix=suffix)
    try:
        with f:
            yield f
        os.chmod(f.name, 0o644)
        os.replace(f.name, path)
    except BaseException:
        os.remove(f.name)
        raise


def write_atomically(path, text):
    """Write `text` to `path` so that a stop leaves the old file or the new one."""
    with replacing(path, "w", ".tmp") as f:
        f.write(text)
