"""The one error the project's code raises for a problem the reader can fix: a bad file, a
missing package, absent hardware. lifecycle.run_main prints it as one line, exit status 2."""


class UserError(Exception):
    """A problem the reader can fix (a bad file, a missing package); printed as one line."""
