"""Fashion-MNIST (Xiao et al. 2017) and the scikit-learn 8x8 digits.

Fashion-MNIST uses the MNIST IDX format and file names, and is looked for in ``data_dir``
(``--data-dir``), then ``$FASHION_MNIST_DIR``, then ``/usr/share/datasets/fashion-mnist/``
(Debian/Ubuntu package ``dataset-fashion-mnist``).  Nothing is downloaded.  Debian recompresses
the ``.gz`` files, so their MD5 differs from Zalando's published one; such files are official
when the MD5 of their decompressed IDX bytes is (:data:`FASHION_CONTENT_MD5`, as in
:mod:`datasets.mnist`).  A folder that holds the real MNIST files (recognised by their
official MD5) is refused, since the names are the same.

Digits: ``sklearn.datasets.load_digits`` (1,797 images of 8x8, grey levels 0..16, scaled to
[0, 1] by /16), split with a fixed seed (0) and stratified into 1,497 train / 300 test.
"""
import os

import numpy as np

from datasets import download as dl
from datasets.errors import DataError
from datasets.mnist import (FILES, MD5 as MNIST_MD5, _read, check_files, find_split, official,
                            stratified_split)

DEBIAN_DIR = '/usr/share/datasets/fashion-mnist'
FASHION_MD5 = {                      # github.com/zalandoresearch/fashion-mnist README
    'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
    'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
    't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
    't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
}
#: MD5 of the decompressed IDX files (torchvision-style loaders' ``raw_data`` tables; the
#: label ones re-derived by decompressing Zalando's published .gz files)
FASHION_CONTENT_MD5 = {
    'train-images-idx3-ubyte.gz': 'f4a8712d7a061bf5bd6d2ca38dc4d50a',
    'train-labels-idx1-ubyte.gz': '9018921c3c673c538a1fc5bad174d6f9',
    't10k-images-idx3-ubyte.gz': '8181f5470baa50b63fa0f6fddb340f0a',
    't10k-labels-idx1-ubyte.gz': '15d484375f8d13e6eb1aabb0c3f46965',
}
CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt',
           'Sneaker', 'Bag', 'Ankle boot')
HOW_TO_GET = ('apt-get install dataset-fashion-mnist, or pass --data-dir DIR (or set '
              '$FASHION_MNIST_DIR) with the four Fashion-MNIST files')


def load_fashion_mnist(data_dir=None, md5=None, content_md5=None):
    """Fashion-MNIST from the first of data_dir, $FASHION_MNIST_DIR, the Debian package folder.

    ``md5``/``content_md5``: checksum tables as in :func:`datasets.mnist.load_mnist` (tests).
    """
    from datasets import Dataset
    if data_dir is not None:
        folder, origin = data_dir, '--data-dir'
    elif os.environ.get('FASHION_MNIST_DIR'):
        folder, origin = os.environ['FASHION_MNIST_DIR'], '$FASHION_MNIST_DIR'
    else:
        folder, origin = DEBIAN_DIR, 'the dataset-fashion-mnist package'
    if not os.path.isdir(folder):
        raise DataError('{}: no such folder ({}); {}'.format(folder, origin, HOW_TO_GET))
    train, test = find_split(folder, FILES['train']), find_split(folder, FILES['test'])
    if train is None or test is None:
        raise DataError('{}: Fashion-MNIST needs {} ({}); {}'.format(
            folder, ', '.join(FILES['train'] + FILES['test']), origin, HOW_TO_GET))
    md5s, verified = check_files(train + test, FASHION_MD5 if md5 is None else md5,
                                 FASHION_CONTENT_MD5 if content_md5 is None else content_md5)
    if any(MNIST_MD5.get(f) == v for f, v in md5s.items()):
        raise DataError('{}: holds the MNIST digits, not Fashion-MNIST (same file names, MNIST '
                        'MD5); {}'.format(folder, HOW_TO_GET))
    (x_train, y_train), (x_test, y_test) = _read(train), _read(test)
    info = {
        'name': 'fashion-mnist',
        'protocol': 'Fashion-MNIST: {} train / {} test images of 28x28, 10 classes'.format(
            len(x_train), len(x_test)),
        'n_train': int(len(x_train)), 'n_test': int(len(x_test)), 'image_shape': [28, 28],
        'md5': md5s,
        'md5_official': official(verified),
        'md5_verified_by': verified,
        'source': {'train': list(train), 'test': list(test)},
        'notes': [] if official(verified) else [
            'MD5 differs from Zalando\'s, also of the decompressed files; IDX headers and '
            'sizes validated'],
        'classes': list(CLASSES),
    }
    return Dataset(x_train, y_train, x_test, y_test, (28, 28), info)


def load_digits(n_test=300, seed=0):
    """scikit-learn's 8x8 digits in [0, 1]: 1,497 train / 300 test (stratified, seeded)."""
    from datasets import Dataset
    import sklearn.datasets
    bunch = sklearn.datasets.load_digits()
    x = (bunch.data / 16.0).astype(np.float32)                    # grey levels 0..16 -> [0, 1]
    y = bunch.target.astype(np.int32)
    tr, te = stratified_split(y, n_test, seed)
    path = os.path.join(os.path.dirname(sklearn.datasets.__file__), 'data', 'digits.csv.gz')
    md5s = {os.path.basename(path): dl.md5sum(path)} if os.path.exists(path) else {}
    info = {
        'name': 'digits',
        'protocol': 'scikit-learn digits (UCI optdigits test set): {} images of 8x8, /16, '
                    'stratified split (seed {}) into {} train / {} test'.format(
                        len(y), seed, len(tr), len(te)),
        'n_train': int(len(tr)), 'n_test': int(len(te)), 'image_shape': [8, 8],
        'md5': md5s, 'md5_official': None,
        'source': {'train': path, 'test': path}, 'notes': [],
    }
    return Dataset(x[tr], y[tr], x[te], y[te], (8, 8), info)
