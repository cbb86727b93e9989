"""Download with a list of mirrors, MD5 verification and atomic writes into a cache folder.

chainer's ``get_mnist`` only knows yann.lecun.com, which often refuses requests today, so
:mod:`datasets.mnist` passes several mirrors.  For each file: try the mirrors in order; a
mirror that errors (HTTP error, timeout, refused) or serves bytes with the wrong MD5 is
skipped; the bytes go to a temporary file in the cache folder that is ``os.replace``-d onto the
final name only after the MD5 matched, so no partial or wrong file is ever left behind.
A file whose ``.gz`` MD5 differs is still official when the MD5 of its decompressed IDX bytes
is the official one (mirrors and distributions recompress the files): :func:`verify`.
"""
import gzip
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


def content_md5(path):
    """MD5 of the IDX bytes in ``path``: of its decompressed content if it is gzip data."""
    with open(path, 'rb') as f:
        raw = f.read()
    if raw[:2] == b'\x1f\x8b':
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, ValueError):
            return None
    return hashlib.md5(raw).hexdigest()


def verify(path, md5=None, content=None):
    """How ``path`` matches the official checksums: ``'gz'`` (the file's own MD5 is ``md5``,
    the fast path), ``'content'`` (the MD5 of its decompressed IDX bytes is ``content``: a
    recompressed or raw copy of the official data), or None (neither, or no checksum known)."""
    if md5 is not None and md5sum(path) == md5:
        return 'gz'
    if content is not None and content_md5(path) == content:
        return 'content'
    return None


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


def fetch(filename, md5, mirrors, cache_dir, timeout=10.0, skip=None, log='stderr',
          content=None):
    """Return ``(path, url)``: ``cache_dir/filename``, downloaded from ``url`` if it was missing
    (``url`` is None when a copy with the right MD5 was already in the cache).

    Args:
        filename: file name appended to each mirror's base URL.
        md5: expected hex MD5 of the file, or None to accept any bytes.
        content: expected MD5 of the decompressed bytes; a file whose own MD5 differs from
            ``md5`` is accepted when this one matches (see :func:`verify`).
        mirrors: base URLs, tried in order.
        cache_dir: destination folder (created if needed).
        timeout: seconds per connection attempt.
        skip: a set of mirrors already known to be unreachable; unreachable ones are added.
        log: where the one-line progress messages go: a file, ``'stderr'`` (the
            ``sys.stderr`` of the call, not of the import) or None (silent).
    """
    if log == 'stderr':
        log = sys.stderr
    final = os.path.join(cache_dir, filename)
    if os.path.exists(final):
        if md5 is None or verify(final, md5, content):
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
            if md5 is not None and h.hexdigest() != md5 and verify(tmp, None, content) is None:
                raise ValueError('wrong MD5 {} (expected {}{})'.format(
                    h.hexdigest(), md5, ' or content MD5 ' + content if content else ''))
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
