"""Shared datasets: MNIST (with mirrors, cache and a loud offline fallback), Fashion-MNIST,
scikit-learn digits, binarization, semi-supervised splits, AAE priors and GAN toy data.

    from datasets import load, DataError
    data = load('mnist', data_dir=None, download=True)   # or 'fashion-mnist', 'digits'
    data.x_train, data.y_train, data.x_test, data.y_test  # float32 (N, D) in [0, 1]; int32
    data.hold_out(10000)                                  # x_val, y_val: the last 10,000
    data.image_shape, data.info                           # info goes into results.json

See docs/results/datasets.md for where each dataset comes from and the fallback protocols.
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
from datasets.errors import DataError, DataWarning

__all__ = ['load', 'Dataset', 'DataError', 'DataWarning', 'NAMES']

NAMES = ('mnist', 'fashion-mnist', 'digits')


class Dataset(object):
    """Train/test arrays plus ``image_shape`` and the ``info`` dict recorded in results.json."""

    def __init__(self, x_train, y_train, x_test, y_test, image_shape, info):
        self.x_train, self.y_train = x_train, y_train
        self.x_val, self.y_val = x_train[:0], y_train[:0]
        self.x_test, self.y_test = x_test, y_test
        self.image_shape = tuple(image_shape)
        self.info = info

    def hold_out(self, n):
        """Move the last ``n`` training images into ``x_val``/``y_val`` (the papers'
        50k/10k protocol on MNIST: validation = training images 50,000..59,999)."""
        n_all = len(self.x_train)
        if not 0 <= n < n_all:
            raise ValueError('cannot hold out %d of %d training images' % (n, n_all))
        k = n_all - n
        self.x_train, self.x_val = self.x_train[:k], self.x_train[k:]
        self.y_train, self.y_val = self.y_train[:k], self.y_train[k:]
        self.info.update(n_train=int(k), n_validation=int(n),
                         validation_indices=[int(k), int(n_all)] if n else None)

    def subset(self, n_train=None, n_test=None):
        """Keep the first ``n_train`` training images and the first ``n_test`` test (and at
        most ``n_test`` validation) images; None keeps all."""
        self.x_train, self.y_train = self.x_train[:n_train], self.y_train[:n_train]
        self.x_test, self.y_test = self.x_test[:n_test], self.y_test[:n_test]
        self.x_val, self.y_val = self.x_val[:n_test], self.y_val[:n_test]
        if n_train is not None or n_test is not None:
            self.info.update(n_train=len(self.x_train), n_test=len(self.x_test),
                             subset={'n_train': n_train, 'n_test': n_test})
            if 'n_validation' in self.info:
                self.info['n_validation'] = len(self.x_val)

    @property
    def name(self):
        return self.info['name']

    @property
    def n_classes(self):
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    def __repr__(self):
        return '<Dataset {}: train {} validation {} test {} image {}>'.format(
            self.name, self.x_train.shape, self.x_val.shape, self.x_test.shape,
            self.image_shape)


def load(name='mnist', data_dir=None, download=True, **kwargs):
    """Load a dataset by name; any problem raises a one-line :class:`DataError`.

    ``data_dir``: a folder holding the dataset's files (``--data-dir``).  ``download``: allow
    network downloads (MNIST only).  Extra keyword arguments go to the dataset's loader.
    """
    if name == 'mnist':
        from datasets.mnist import load_mnist
        return load_mnist(data_dir=data_dir, download=download, **kwargs)
    if name == 'fashion-mnist':
        from datasets.other import load_fashion_mnist
        return load_fashion_mnist(data_dir=data_dir, **kwargs)
    if name == 'digits':
        from datasets.other import load_digits
        return load_digits(**kwargs)
    raise DataError('unknown dataset {!r}; choose one of {}'.format(name, ', '.join(NAMES)))
