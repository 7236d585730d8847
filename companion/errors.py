"""The one error the project's code raises for a problem the reader can fix: a bad file, a
missing package, absent hardware. lifecycle.run_main prints it as one line, exit status 2;
a value quoted in such a line is shortened()."""


class UserError(Exception):
    """A problem the reader can fix (a bad file, a missing package); printed as one line."""


def shortened(value, limit=80):
    """repr(value), cut to `limit` characters, so that an error line stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 5]}...' ({len(text)} chars)"
