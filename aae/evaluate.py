"""Inference helpers for the AAE experiments: batched encoding/decoding in test mode, and
the grid over the Gaussian prior's percentiles of Fig. 2e (arXiv:1511.05644)."""
import numpy as np
from scipy.special import ndtri     # inverse CDF of N(0, 1)

import chainer


def _batches(n, batchsize):
    for start in range(0, n, batchsize):
        yield slice(start, min(n, start + batchsize))


def encode(enc, x, device=None, batchsize=1000):
    """Codes of ``x`` (NumPy) in test mode: z, or (q(y|x), z) for a categorical encoder."""
    device = device or chainer.get_device('@numpy')
    ys, zs = [], []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for s in _batches(len(x), batchsize):
            out = enc(device.send(x[s]))
            if isinstance(out, tuple):
                ys.append(chainer.backend.CpuDevice().send(chainer.functions.softmax(
                    out[0]).array))
                out = out[1]
            zs.append(chainer.backend.CpuDevice().send(out.array))
    z = np.concatenate(zs)
    return (np.concatenate(ys), z) if ys else z


def decode(dec, z, cond=None, device=None, batchsize=1000):
    """Decoder means p(x|z) (or p(x|y,z)) for NumPy codes, in test mode, as NumPy."""
    device = device or chainer.get_device('@numpy')
    out = []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for s in _batches(len(z), batchsize):
            c = None if cond is None else device.send(cond[s])
            out.append(chainer.backend.CpuDevice().send(dec(device.send(z[s]), c).array))
    return np.concatenate(out)


def reconstruction_errors(enc, dec, x, device=None, cond=None):
    """Mean squared error per pixel and mean Euclidean cost per image of dec(enc(x))."""
    z = encode(enc, x, device)
    if isinstance(z, tuple):               # categorical encoder: decoder input [q(y|x), z]
        cond, z = z
    err = (decode(dec, z, cond, device) - x) ** 2
    return float(err.mean()), float(err.sum(1).mean())


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
