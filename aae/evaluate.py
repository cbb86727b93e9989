"""Inference helpers for the AAE experiments: batched encoding/decoding in test mode, and
the grid over the Gaussian prior's percentiles of Fig. 2e (arXiv:1511.05644)."""
import numpy as np
from scipy.special import ndtri     # inverse CDF of N(0, 1)

import chainer.functions as F

from evaluation.inference import predict


def encode(enc, x, device=None, batchsize=1000):
    """Codes of ``x`` (NumPy) in test mode: z, or (q(y|x), z) for a categorical encoder."""
    def codes(xb):
        out = enc(xb)
        return (F.softmax(out[0]), out[1]) if isinstance(out, tuple) else out
    return predict(codes, x, device=device, batchsize=batchsize)


def decode(dec, z, cond=None, device=None, batchsize=1000):
    """Decoder means p(x|z) (or p(x|y,z)) for NumPy codes, in test mode, as NumPy."""
    return predict(dec, z, cond, device=device, batchsize=batchsize)


def reconstruction_errors(enc, dec, x, device=None, cond=None):
    """Mean squared error per pixel and mean Euclidean cost per image of dec(enc(x))."""
    z = encode(enc, x, device)
    if isinstance(z, tuple):               # categorical encoder: decoder input [q(y|x), z]
        cond, z = z
    err = (decode(dec, z, cond, device) - x) ** 2
    return float(err.mean()), float(err.sum(1).mean())


def wrong_label_reconstruction(enc, dec, x, device=None, seed=0):
    """How much a categorical AAE's decoder uses y: the reconstruction MSE per pixel of x
    from [one-hot argmax q(y|x), z] and from [a one-hot of another class, drawn at random,
    z]. A ratio near 1 means the decoder ignores y (all the content is in z)."""
    q_y, z = encode(enc, x, device)
    k = q_y.shape[1]
    own = q_y.argmax(1)
    other = (own + np.random.RandomState(seed).randint(1, k, size=len(own))) % k
    eye = np.eye(k, dtype=np.float32)
    mse_own = float(((decode(dec, z, eye[own], device) - x) ** 2).mean())
    mse_other = float(((decode(dec, z, eye[other], device) - x) ** 2).mean())
    return {'mse_own_one_hot': mse_own, 'mse_other_one_hot': mse_other,
            'ratio': mse_other / mse_own}


def gaussian_percentile_grid(n, std=1.0, low=0.05, high=0.95):
    """n x n codes at evenly spaced percentiles of N(0, std^2) on each axis (Fig. 2e).

    Row r, column c holds z = (ppf(p_c), ppf(p_{n-1-r})): z1 grows to the right, z2 upwards,
    so the image grid has the same orientation as the scatter plot.
    """
    q = std * ndtri(np.linspace(low, high, n))
    z1, z2 = np.meshgrid(q, q[::-1])
    return np.stack([z1.ravel(), z2.ravel()], 1).astype(np.float32)


def box_grid(n, lo, hi):
    """n x n codes on an even grid over the box [lo, hi]^2, same orientation as above."""
    q = np.linspace(lo, hi, n)
    z1, z2 = np.meshgrid(q, q[::-1])
    return np.stack([z1.ravel(), z2.ravel()], 1).astype(np.float32)
