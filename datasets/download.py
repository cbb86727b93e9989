"""Download with a list of mirrors, MD5 verification and atomic writes into a cache folder.

chainer's ``get_mnist`` only knows yann.lecun.com, which often refuses requests today, so
:mod:`datasets.mnist` passes several mirrors.  For each file: try the mirrors in order; a
mirror that errors (HTTP error, timeout, refused) or serves bytes with the wrong MD5 is
skipped; the bytes go to a temporary file in the cache folder that is ``os.replace``-d onto the
final name only after the MD5 matched, so no partial or wrong file is ever left behind.
"""
import hashlib
import os
import socket
import sys
import tempfile
import urllib.error
import urllib.request

from datasets.errors import DataError

_CHUNK = 1 << 16


def md5sum(path):
    h = hashlib.md5()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def cache_root():
    """Root cache folder, documented in docs/results/datasets.md.

    ``$CHAINER_GENERATIVE_CACHE`` if set, else ``$CHAINER_DATASET_ROOT/chainer-generative`` if
    that is set, else ``~/.cache/chainer-generative``.
    """
    if os.environ.get('CHAINER_GENERATIVE_CACHE'):
        return os.environ['CHAINER_GENERATIVE_CACHE']
    if os.environ.get('CHAINER_DATASET_ROOT'):
        return os.path.join(os.environ['CHAINER_DATASET_ROOT'], 'chainer-generative')
    return os.path.join(os.path.expanduser('~'), '.cache', 'chainer-generative')


class DownloadError(DataError):
    """Every mirror failed for a file (the message lists why, one mirror per clause).

    ``failures``: list of ``(url, reason)``.
    """

    def __init__(self, message, failures=()):
        super(DownloadError, self).__init__(message)
        self.failures = list(failures)


def _is_connection_error(err):
    """True for failures that say the host is unreachable (so its other files are skipped)."""
    if isinstance(err, urllib.error.HTTPError):
        return False
    reason = getattr(err, 'reason', err)
    return isinstance(reason, (socket.gaierror, socket.timeout, ConnectionError, OSError))


def _reason(err):
    """A short one-line reason for a failed download."""
    if isinstance(err, urllib.error.HTTPError):
        return 'HTTP {}'.format(err.code)
    reason = getattr(err, 'reason', None) or err
    return ' '.join(str(reason).split()) or type(err).__name__


def fetch(filename, md5, mirrors, cache_dir, timeout=10.0, skip=None, log=sys.stderr):
    """Return ``(path, url)``: ``cache_dir/filename``, downloaded from ``url`` if it was missing
    (``url`` is None when a copy with the right MD5 was already in the cache).

    Args:
        filename: file name appended to each mirror's base URL.
        md5: expected hex MD5 of the file, or None to accept any bytes.
        mirrors: base URLs, tried in order.
        cache_dir: destination folder (created if needed).
        timeout: seconds per connection attempt.
        skip: a set of mirrors already known to be unreachable; unreachable ones are added.
        log: where the one-line progress messages go (None: silent).
    """
    final = os.path.join(cache_dir, filename)
    if os.path.exists(final):
        if md5 is None or md5sum(final) == md5:
            return final, None
        os.remove(final)                           # a stale or damaged copy: fetch it again
    try:
        os.makedirs(cache_dir, exist_ok=True)
    except OSError as e:
        raise DownloadError('{}: cannot create the cache folder ({}); set '
                            '$CHAINER_GENERATIVE_CACHE to a writable folder'.format(
                                cache_dir, e.strerror or e))
    skip = set() if skip is None else skip
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip('/') + '/' + filename
        if mirror in skip:
            failures.append((url, 'unreachable'))
            continue
        fd, tmp = tempfile.mkstemp(prefix='.' + filename + '.', suffix='.part', dir=cache_dir)
        try:
            h = hashlib.md5()
            with os.fdopen(fd, 'wb') as out:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    for block in iter(lambda: response.read(_CHUNK), b''):
                        h.update(block)
                        out.write(block)
            if md5 is not None and h.hexdigest() != md5:
                raise ValueError('wrong MD5 {} (expected {})'.format(h.hexdigest(), md5))
            os.replace(tmp, final)
            if log is not None:
                print('datasets: downloaded {} -> {}'.format(url, final), file=log)
            return final, url
        except Exception as e:                     # noqa: B902 -- any failure: next mirror
            if _is_connection_error(e):
                skip.add(mirror)
            failures.append((url, _reason(e)))
            if log is not None:
                print('datasets: download failed: {}: {}'.format(*failures[-1]), file=log)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise DownloadError('{}: every mirror failed ({}); check the network, or download the file '
                        'yourself and pass --data-dir'.format(
                            filename, '; '.join('{}: {}'.format(*f) for f in failures)),
                        failures)
