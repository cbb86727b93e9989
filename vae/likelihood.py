"""Test-set evaluation of a trained M1 VAE: ELBO and importance-sampled log-likelihood.

The importance-sampled estimate is the IWAE evaluation protocol (Burda, Grosse &
Salakhutdinov 2016, Sec. 5 / Eq. 8 with k = 5000):

    log p(x) ~= log 1/k sum_{i=1..k} p(x|z_i) p(z_i) / q(z_i|x),   z_i ~ q(z|x),

a lower bound that tightens to log p(x) as k grows, and equals the ELBO in expectation at
k = 1.  It is computed as a running log-sum-exp over chunks of samples so memory stays
bounded (``max_elements`` decoder outputs at a time) whatever k is.
"""
import math

import numpy as np
import chainer
from chainer.backend import get_array_module

from evaluation.inference import blas_threads, predict
from vae.loss import gaussian_kl, bernoulli_log_likelihood

LOG_2PI = math.log(2 * math.pi)


def _logsumexp(a, axis):
    xp = get_array_module(a)
    m = a.max(axis=axis)
    return m + xp.log(xp.exp(a - xp.expand_dims(m, axis)).sum(axis=axis))


def _to_device(vae, x):
    return vae.device.send(np.asarray(x, dtype=np.float32)) if isinstance(x, np.ndarray) \
        else x


def log_importance_weights(vae, x, n_samples):
    """log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x), shape (n_samples, batch)."""
    xp = vae.xp
    mu, ln_var = (v.array for v in vae.encode(x))
    eps = xp.random.standard_normal((n_samples,) + mu.shape).astype(mu.dtype)
    z = mu + xp.exp(0.5 * ln_var) * eps                                # z_i ~ q(z|x)
    log_q = -0.5 * (eps * eps + ln_var + LOG_2PI).sum(axis=-1)         # log q(z_i|x)
    log_pz = -0.5 * (z * z + LOG_2PI).sum(axis=-1)                     # log N(z_i; 0, I)
    logits = vae.decode(z.reshape(-1, z.shape[-1])).array.reshape((n_samples,) + x.shape)
    log_px = bernoulli_log_px(x, logits)                               # log p(x|z_i)
    return log_px + log_pz - log_q


#: rows of decoder output per block of :func:`bernoulli_log_px` (~200 KB float32: L2-sized)
ROWS_PER_BLOCK = 64


def _log_px_block(x, a):
    """log p(x|a) summed over the last axis for one block; ``a`` is overwritten.

    x a - softplus(a) = -softplus(s a) with s = 1 - 2x for binary x, and
    softplus(t) = max(t, 0) + log(1 + exp(-|t|)) in place (``log`` rather than float32
    ``log1p``, which NumPy does not vectorise; absolute error < 1.2e-7 a pixel).
    """
    xp = get_array_module(a)
    a *= 1 - 2 * x                                                     # t = (1 - 2x) a
    pos = xp.maximum(a, 0)
    xp.abs(a, out=a)
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    a += 1
    xp.log(a, out=a)
    a += pos                                                           # softplus(t)
    return -a.sum(axis=-1)


def bernoulli_log_px(x, logits, threads=None):
    """sum_d log Bernoulli(x_d; sigmoid(logits_d)) over the last axis, ``x`` binary (B, D)
    against ``logits`` (..., B, D), which are overwritten.

    On NumPy it works block by block (:data:`ROWS_PER_BLOCK` rows of each sample) so the
    seven element-wise passes stay in cache, and splits the blocks over ``threads``
    (default: as many as NumPy's BLAS uses), as NumPy releases the GIL in them. Grey (non
    binary) x falls back to x a - logaddexp(0, a).
    """
    xp = get_array_module(logits)
    if not bool(((x == 0) | (x == 1)).all()):
        return (x * logits - xp.logaddexp(0, logits)).sum(axis=-1)
    lead, (b, d) = logits.shape[:-2], logits.shape[-2:]
    if xp is not np:    # a GPU: one pass over everything (blocks would mean ~13 launches each)
        return _log_px_block(x, logits)
    flat = logits.reshape(-1, b, d)
    out = xp.empty(flat.shape[:2], dtype=logits.dtype)
    blocks = [(i, s) for i in range(len(flat)) for s in range(0, b, ROWS_PER_BLOCK)]

    def run(part):
        for i, s in part:
            e = min(s + ROWS_PER_BLOCK, b)
            out[i, s:e] = _log_px_block(x[s:e], flat[i, s:e])
    threads = 1 if xp is not np else (threads or blas_threads())
    if threads > 1 and len(blocks) >= 2 * threads:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, [blocks[k::threads] for k in range(threads)]))
    else:
        run(blocks)
    return out.reshape(lead + (b,))


def iw_log_likelihood(vae, x, n_samples=5000, batch_size=100, max_elements=2 ** 22):
    """Importance-sampled log p(x) per example (nats), x binary (N, D).

    Memory: at most ``max_elements`` floats of decoder output (plus the same order of
    temporaries) are alive at once: samples are drawn in chunks of
    ``max_elements // (batch * D)`` and folded into a running log-sum-exp.
    """
    xp = vae.xp

    def log_p(xb):
        chunk = max(1, min(n_samples, max_elements // (len(xb) * xb.shape[1])))
        total = xp.full(len(xb), -np.inf, dtype=np.float64)
        for done in range(0, n_samples, chunk):
            log_w = log_importance_weights(vae, xb, min(chunk, n_samples - done))
            total = xp.logaddexp(total, _logsumexp(log_w.astype(np.float64), axis=0))
        return total - math.log(n_samples)
    return predict(log_p, _to_device(vae, x), device=vae.device, batchsize=batch_size)


def elbo(vae, x, batch_size=500):
    """Per-example ELBO log p(x|z) - KL (one z sample, KL in closed form; K&W Eq. 10)."""
    def bound(xb):
        mu, ln_var = vae.encode(xb)
        z = chainer.functions.gaussian(mu, ln_var)
        return bernoulli_log_likelihood(xb, vae.decode(z)) - gaussian_kl(mu, ln_var)
    return predict(bound, _to_device(vae, x), device=vae.device, batchsize=batch_size)
