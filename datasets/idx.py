"""Reader and writer for the IDX format of the MNIST files (LeCun et al., "THE MNIST DATABASE",
http://yann.lecun.com/exdb/mnist/, section "FILE FORMATS FOR THE MNIST DATABASE").

An IDX file is a 4-byte magic number ``0x00 0x00 <dtype> <ndim>``, then ``ndim`` big-endian
uint32 sizes, then the data.  MNIST and Fashion-MNIST use dtype ``0x08`` (unsigned byte):
labels have magic ``0x00000801`` (ndim 1), images ``0x00000803`` (ndim 3).  Files may be
gzip-compressed (``.gz``) or raw.  Every problem becomes a one-line :class:`DataError`.
"""
import gzip
import os
import zlib

import numpy as np

from datasets.errors import DataError

UBYTE = 0x08
LABELS_MAGIC = 0x00000801
IMAGES_MAGIC = 0x00000803
_FIX = 're-download it or point --data-dir elsewhere'


def _read_bytes(path):
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as e:
        raise DataError('{}: cannot read: {}; check the path and its permissions'.format(
            path, e.strerror or e))
    if raw[:2] == b'\x1f\x8b':                       # gzip magic, whatever the file name
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError('{}: corrupt gzip data ({}); {}'.format(path, e, _FIX))
    if str(path).endswith('.gz'):
        raise DataError('{}: named .gz but is not gzip data; {}'.format(path, _FIX))
    return raw


def read_idx(path, magic=None):
    """Return the array stored in the IDX file ``path`` (uint8, shape from its header).

    ``magic``: the expected magic number (``LABELS_MAGIC`` or ``IMAGES_MAGIC``), or None for
    any unsigned-byte IDX file.
    """
    buf = _read_bytes(path)
    if len(buf) < 4:
        raise DataError('{}: truncated: {} bytes, too short for an IDX header; {}'.format(
            path, len(buf), _FIX))
    zero, dtype, ndim = int.from_bytes(buf[:2], 'big'), buf[2], buf[3]
    found = int.from_bytes(buf[:4], 'big')
    if zero != 0 or dtype != UBYTE or ndim == 0 or (magic is not None and found != magic):
        want = '0x{:08x}'.format(magic) if magic is not None else '0x000008NN'
        raise DataError('{}: bad IDX magic number 0x{:08x} (expected {}); not an MNIST-style '
                        'file, {}'.format(path, found, want, _FIX))
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise DataError('{}: truncated: header needs {} bytes but file holds {}; {}'.format(
            path, header, len(buf), _FIX))
    shape = tuple(int.from_bytes(buf[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
    expected = int(np.prod(shape, dtype=np.int64))
    body = len(buf) - header
    if body != expected:
        what = 'truncated' if body < expected else 'too long'
        raise DataError('{}: {}: header says shape {} ({} bytes) but file holds {} data bytes; '
                        '{}'.format(path, what, 'x'.join(map(str, shape)), expected, body, _FIX))
    return np.frombuffer(buf, dtype=np.uint8, offset=header).reshape(shape)


def read_images(path, image_shape=(28, 28)):
    """Images as uint8 ``(N, H, W)``; a different ``H x W`` than ``image_shape`` is an error."""
    x = read_idx(path, IMAGES_MAGIC)
    if x.shape[1:] != tuple(image_shape):
        raise DataError('{}: wrong image size: header says {} images of {}x{} but {}x{} is '
                        'expected; {}'.format(path, x.shape[0], x.shape[1], x.shape[2],
                                              image_shape[0], image_shape[1], _FIX))
    return x


def read_labels(path, n_classes=10):
    """Labels as uint8 ``(N,)``; values outside ``0..n_classes-1`` are an error."""
    y = read_idx(path, LABELS_MAGIC)
    if y.size and int(y.max()) >= n_classes:
        raise DataError('{}: label {} out of range 0..{}; {}'.format(
            path, int(y.max()), n_classes - 1, _FIX))
    return y


def read_pair(images_path, labels_path, image_shape=(28, 28), n_classes=10):
    """Read an images/labels file pair and check that they hold the same number of examples."""
    x = read_images(images_path, image_shape)
    y = read_labels(labels_path, n_classes)
    if len(x) != len(y):
        raise DataError('{}: holds {} labels but {} holds {} images; the two files do not '
                        'belong together, {}'.format(labels_path, len(y),
                                                     os.path.basename(str(images_path)), len(x),
                                                     _FIX))
    return x, y


def write_idx(path, array, compress=None):
    """Write a uint8 array as an IDX file (gzip if ``compress`` or the name ends in .gz).

    Used by the tests to make fixture files; written atomically (temp file + ``os.replace``).
    """
    a = np.ascontiguousarray(array, dtype=np.uint8)
    payload = bytes([0, 0, UBYTE, a.ndim]) + b''.join(
        int(s).to_bytes(4, 'big') for s in a.shape) + a.tobytes()
    if compress if compress is not None else str(path).endswith('.gz'):
        payload = gzip.compress(payload, compresslevel=1, mtime=0)
    tmp = '{}.tmp{}'.format(path, os.getpid())
    with open(tmp, 'wb') as f:
        f.write(payload)
    os.replace(tmp, path)
    return path
