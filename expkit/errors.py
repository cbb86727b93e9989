"""Errors that end an experiment with a one-line message and exit status 2."""


class UsageError(Exception):
    """Bad command-line input: the message is one line that names the fix."""
