"""Binarization of grey-level MNIST for Bernoulli decoders.

* Static (fixed once): a threshold at 0.5, or one seeded Bernoulli(x) draw kept for the whole
  run (the fixed binarized MNIST of Larochelle & Murray 2011 / Salakhutdinov & Murray 2008).
* Dynamic: a fresh Bernoulli(x) draw every time a minibatch is used, as the VAE seed article
  describes, and as Kingma's code does: dpkingma/nips14-ssl ``gpulearn_z_x.py``,
  ``epoch_vae_adam``: ``x_minibatch['x'] = np.random.binomial(n=1, p=x_minibatch['x'])`` for
  every minibatch when ``bernoulli_x`` (its MNIST setting).

All functions accept NumPy or CuPy arrays and return the same kind (``xp``), so the draw happens
on the device that holds the batch.
"""
import numpy as np

import chainer
from chainer.backend import get_array_module


def _float_dtype(x):
    return x.dtype if x.dtype.kind == 'f' else np.float32


def binarize_static(x, method='threshold', seed=0, threshold=0.5):
    """Fixed binarization: ``x > threshold`` or one Bernoulli(x) draw from ``seed``.

    The Bernoulli uniforms are drawn with NumPy from ``seed`` (then moved to the array's
    device), so the static binarization is the same on CPU and GPU.
    """
    xp = get_array_module(x)
    dtype = _float_dtype(x)
    if method == 'threshold':
        return (x > threshold).astype(dtype)
    if method == 'bernoulli':
        u = np.random.default_rng(seed).random(x.shape)
        return (xp.asarray(u) < x).astype(dtype)                   # b ~ Bernoulli(x), fixed
    raise ValueError("method must be 'threshold' or 'bernoulli', got {!r}".format(method))


def binarize_dynamic(x, rng=None):
    """A fresh Bernoulli(x) draw: returns ``(u < x)`` with ``u ~ U(0, 1)``, same xp and dtype.

    ``rng``: None uses the global ``numpy.random`` / ``cupy.random`` state (seeded by
    ``expkit.Experiment``); or a ``numpy.random.Generator`` / ``RandomState`` for NumPy input,
    a ``cupy.random.RandomState`` for CuPy input.
    """
    xp = get_array_module(x)
    if rng is None:
        u = xp.random.random_sample(x.shape)
    elif isinstance(rng, np.random.Generator):
        u = rng.random(x.shape)
    else:
        u = rng.random_sample(x.shape)
    return (xp.asarray(u) < x).astype(_float_dtype(x))             # x_b ~ Bernoulli(x)


class DynamicBinarizeConverter(chainer.dataset.Converter):
    """Chainer converter: ``concat_examples`` to the device, then binarize afresh.

    Args:
        keys: which arrays of the batch to binarize. None binarizes the batch itself when it is
            one array, or element 0 when it is a tuple (``(x, y)`` datasets); otherwise an int
            / dict key or a tuple of them.
        padding: passed to ``concat_examples``.
        rng: see :func:`binarize_dynamic`.

    Example: ``StandardUpdater(it, opt, converter=DynamicBinarizeConverter(), device=dev)``.
    """

    def __init__(self, keys=None, padding=None, rng=None):
        self.keys = keys
        self.padding = padding
        self.rng = rng

    def __call__(self, batch, device=None):
        arrays = chainer.dataset.concat_examples(batch, device, self.padding)
        if isinstance(arrays, (tuple, list)):
            keys = (0,) if self.keys is None else self.keys
            keys = keys if isinstance(keys, (tuple, list)) else (keys,)
            arrays = list(arrays)
            for k in keys:
                arrays[k] = binarize_dynamic(arrays[k], self.rng)
            return tuple(arrays)
        if isinstance(arrays, dict):
            if self.keys is None:
                raise ValueError('DynamicBinarizeConverter on dict batches needs keys=...')
            keys = self.keys if isinstance(self.keys, (tuple, list)) else (self.keys,)
            arrays = dict(arrays)
            for k in keys:
                arrays[k] = binarize_dynamic(arrays[k], self.rng)
            return arrays
        return binarize_dynamic(arrays, self.rng)
