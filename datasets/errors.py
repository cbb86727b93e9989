"""Errors and warnings raised by :mod:`datasets`.

``DataError`` messages are ONE line: the file or folder, the problem, and what to do.
``expkit.run_main`` turns a ``DataError`` into that line on stderr and exit status 2.
"""


class DataError(Exception):
    """A data file or folder is missing, corrupt or unusable (one-line message)."""


class DataWarning(UserWarning):
    """The data actually used differs from what the paper used (e.g. the mnist-5k fallback)."""
