"""Gaussian Parzen-window log-likelihood (Goodfellow et al. 2014, "Generative Adversarial
Nets", Sec. 5 and Table 1; official code goodfeli/adversarial ``parzen_ll.py``, after
Breuleux et al. 2011):

* fit an isotropic Gaussian kernel on the model samples μ_1..μ_N (N = 10,000 in the paper):
  log p(x) = logsumexp_i(-‖x - μ_i‖² / (2σ²)) - log N - (d/2) log(2πσ²);
* choose σ from ``logspace(-1, 0, 10)`` by the mean log-likelihood of a validation set
  (parzen_ll.py uses the first 1,000 images of MNIST train[50000:60000]);
* report the mean over the test set ± its standard error ``std / sqrt(n)`` (numpy std, ddof 0,
  as parzen_ll.py does).

Batched over test rows and sample chunks with a running log-sum-exp, so memory stays at a few
``batch_size x sample_batch_size`` float64 matrices (~40 MB each with the defaults) whatever N
is.  The squared distances are computed once per chunk (one GEMM) and shifted once by each
row's minimum; every σ then costs one scale, exp and sum over the matrix, split over as many
threads as NumPy's BLAS uses (10k samples x 10k test rows x 10 σ: ~20 s on 2 cores,
docs/performance.md).  Works on NumPy or CuPy arrays (``xp``).
"""
import math

import numpy as np
from chainer.backend import get_array_module

from evaluation.inference import blas_threads

DEFAULT_SIGMAS = np.logspace(-1, 0, 10)


def _as_2d(a, xp):
    a = xp.asarray(a, dtype=xp.float64)
    return a.reshape(len(a), -1)


def _threads(xp):
    """Threads for the exponentials: as many as NumPy's BLAS may use, 1 for CuPy."""
    return blas_threads() if xp is np else 1


def _log_sum_exp_rows(dist, coefs, xp, threads=1):
    """``(len(coefs), rows)``: log sum_i exp(-c dist[r, i]) for every c in ``coefs``.

    With m_r = min_i dist[r, i] it is -c m_r + log sum_i exp(-c (dist[r, i] - m_r)): one
    shift serves every σ, each σ then costs a scale, an exp and a sum (in place, no
    temporaries), and the largest term is exp(0) = 1, so nothing overflows or underflows
    to an empty sum. ``dist`` is overwritten. NumPy releases the GIL in these loops, so
    ``threads`` > 1 splits the rows over a thread pool.
    """
    if threads > 1 and len(dist) >= 2 * threads:
        from concurrent.futures import ThreadPoolExecutor
        parts = np.array_split(np.arange(len(dist)), threads)
        with ThreadPoolExecutor(threads) as pool:
            done = list(pool.map(lambda r: _log_sum_exp_rows(dist[r[0]:r[-1] + 1], coefs, xp),
                                 parts))
        return xp.concatenate(done, axis=1)
    m = xp.maximum(dist.min(axis=1), 0.0)              # ‖x - μ‖² >= 0 (rounding)
    dist -= m[:, None]
    xp.maximum(dist, 0.0, out=dist)
    out = xp.empty((len(coefs), len(dist)))
    t = xp.empty_like(dist)
    for i, c in enumerate(coefs):
        xp.multiply(dist, -c, out=t)
        xp.exp(t, out=t)
        out[i] = xp.log(t.sum(axis=1)) - c * m
    return out


def parzen_log_likelihood(x, samples, sigma, batch_size=500, sample_batch_size=10000):
    """log p(x_j) under the Parzen window on ``samples``, for every row x_j of ``x``.

    ``sigma``: a float -> float64 array ``(n,)``; a sequence of floats -> ``(len(sigma), n)``.
    Returns the array on the device of ``x`` (NumPy for NumPy input).
    """
    xp = get_array_module(x)
    x = _as_2d(x, xp)
    mu = _as_2d(samples, xp)
    if x.shape[1] != mu.shape[1]:
        raise ValueError('x has {} dims but samples have {}'.format(x.shape[1], mu.shape[1]))
    if len(mu) == 0:
        raise ValueError('samples is empty')
    scalar = np.ndim(sigma) == 0
    sigmas = np.atleast_1d(np.asarray(sigma, dtype=np.float64))
    if (sigmas <= 0).any():
        raise ValueError('sigma must be > 0, got {}'.format(sigmas))
    n, d, n_mu = len(x), x.shape[1], len(mu)
    mu_sq = (mu ** 2).sum(axis=1)
    coefs = 0.5 / (sigmas * sigmas)
    threads = _threads(xp)
    out = xp.full((len(sigmas), n), -np.inf, dtype=xp.float64)
    for start in range(0, n, batch_size):
        xb = x[start:start + batch_size]
        xb_sq = (xb ** 2).sum(axis=1)[:, None]
        acc = out[:, start:start + len(xb)]
        for s0 in range(0, n_mu, sample_batch_size):
            mb = mu[s0:s0 + sample_batch_size]
            dist = xb.dot(mb.T)                                   # BLAS threads
            dist *= -2.0
            dist += xb_sq
            dist += mu_sq[None, s0:s0 + len(mb)]                  # ‖x - μ_i‖²
            # log sum_i exp(-‖x - μ_i‖² / (2σ²)) of this chunk, rows split over threads
            acc[...] = xp.logaddexp(acc, _log_sum_exp_rows(dist, coefs, xp, threads))
        log_norm = xp.asarray(math.log(n_mu) + 0.5 * d * np.log(2 * np.pi * sigmas ** 2))
        # log p(x) = logsumexp_i(...) - log N - (d/2) log(2πσ²)
        acc -= log_norm[:, None]
    return out[0] if scalar else out


def select_sigma(samples, x_valid, sigmas=DEFAULT_SIGMAS, batch_size=500,
                 sample_batch_size=10000):
    """σ with the highest mean validation log-likelihood; returns ``(sigma, mean_lls)``."""
    sigmas = np.atleast_1d(np.asarray(sigmas, dtype=np.float64))
    ll = parzen_log_likelihood(x_valid, samples, sigmas, batch_size, sample_batch_size)
    means = np.array([float(v) for v in ll.mean(axis=1)])
    return float(sigmas[int(np.argmax(means))]), means


def parzen_evaluate(samples, x_valid, x_test, sigmas=DEFAULT_SIGMAS, batch_size=500,
                    sample_batch_size=10000, sigma=None, return_ll=False):
    """The paper's protocol: σ by validation, then test mean ± standard error.

    ``sigma`` given: skip the selection and use it.  Returns a dict with ``mean``,
    ``std_error``, ``sigma``, ``n_samples``, ``n_test``, ``sigmas`` and ``valid_ll`` (the mean
    validation log-likelihood per candidate σ; empty when ``sigma`` was given).  Values are in
    nats, for data in the scale it is given in ([0, 1] pixels for MNIST, as in the paper).
    ``return_ll``: return ``(dict, ll)``, ``ll`` the log-likelihood of every test image.
    """
    valid_ll = []
    if sigma is None:
        sigma, valid_ll = select_sigma(samples, x_valid, sigmas, batch_size, sample_batch_size)
    ll = parzen_log_likelihood(x_test, samples, float(sigma), batch_size, sample_batch_size)
    ll = np.asarray(ll.get() if hasattr(ll, 'get') else ll)
    result = {
        'mean': float(ll.mean()),
        'std_error': float(ll.std() / np.sqrt(len(ll))),          # se = std / sqrt(n)
        'sigma': float(sigma),
        'n_samples': int(len(samples)),
        'n_test': int(len(ll)),
        'sigmas': [float(s) for s in np.atleast_1d(sigmas)],
        'valid_ll': [float(v) for v in valid_ll],
    }
    return (result, ll) if return_ll else result


def sklearn_parzen_log_likelihood(x, samples, sigma, leaf_size=40):
    """log p(x_j) from scikit-learn's ``KernelDensity(kernel='gaussian', bandwidth=sigma)``
    fitted to ``samples``, the evaluator some public AAE reproductions report (e.g.
    1henrypage/adversarial-autoencoders, ``src/likelihood.py``). Kept for comparison only.

    It is exact while ``samples`` fit in one leaf of its tree (``leaf_size``). With more, its
    tree traversal stops on bounds that, in 784 dimensions where every kernel value is
    below exp(-300), are loose by hundreds of nats, and it returns their midpoint: on MNIST
    it reports real training digits about 220 nats *more* likely than the exact sum does
    (tests/test_evaluation.py; docs/results/aae.md, Table 1). Numbers from it and from
    :func:`parzen_log_likelihood` are not on one scale.
    """
    from sklearn.neighbors import KernelDensity
    kde = KernelDensity(kernel='gaussian', bandwidth=float(sigma), leaf_size=leaf_size)
    kde.fit(np.asarray(_as_2d(samples, np), dtype=np.float64))
    return kde.score_samples(np.asarray(_as_2d(x, np), dtype=np.float64))
