"""Evaluation benchmarks: Parzen-window log-likelihood and the importance-sampled NLL.

``parzen``: Goodfellow et al.'s Parzen estimate with 10,000 samples and 10 sigma values
(``logspace(-1, 0, 10)``), 784-D, float64, measured on slices of 500 test rows; the full job
(10,000 test rows x 10,000 samples x 10 sigmas) takes 10,000 / (rows/s) seconds, as every
row is independent. Ours: ``evaluation.parzen.parzen_log_likelihood`` with all sigmas in one
call; plain: the direct NumPy/SciPy transcription (``cdist`` once, then ``logsumexp`` per
sigma; Chainer has nothing to add here); PyTorch: ``cdist`` and ``logsumexp`` in float64.

``nll``: the IWAE protocol's test NLL, log p(x) ~ log mean_i p(x|z_i) p(z_i) / q(z_i|x) with
k = 5,000 samples (Burda et al. 2016), for the IWAE-recipe M1 784-200-200-50 tanh, measured
on slices of 100 test images (one batch of ``iw_log_likelihood``); the full 10,000-image test
set takes 10,000 / (images/s) seconds. Ours: ``vae.likelihood.iw_log_likelihood``; plain
Chainer: the same estimate written with ``F.gaussian``, ``F.bernoulli_nll``,
``F.gaussian_nll`` and ``F.logsumexp`` in chunks of samples; PyTorch: the same in torch.
"""
import chainer_compat  # noqa: F401  (before chainer)
import math

import chainer
import chainer.functions as F
import numpy as np

from benchmarks import data, flops
from benchmarks.harness import Benchmark

N_SAMPLES, P_ROWS, N_SIGMAS = 10000, 500, 10
K, NLL_BATCH, CHUNK = 5000, 100, 50       # chunk: samples per decoder call (plain, torch)


def _parzen_data(tiny, rows=P_ROWS):
    n = 1000 if tiny else N_SAMPLES
    return data.images(n, seed=2).astype(np.float64), data.images(rows, seed=3)


def _sigmas():
    return np.logspace(-1, 0, N_SIGMAS)


def ours_parzen(tiny=False):
    from evaluation.parzen import parzen_log_likelihood
    samples, x = _parzen_data(tiny)
    return lambda: parzen_log_likelihood(x, samples, _sigmas())


def ours_parzen_before(tiny=False):
    from benchmarks import legacy
    samples, x = _parzen_data(tiny)
    return lambda: legacy.parzen_log_likelihood(x, samples, _sigmas())


def ours_parzen_full(tiny=False):
    """The whole job at once: 10,000 test rows (1,000 if tiny)."""
    from evaluation.parzen import parzen_log_likelihood
    samples, x = _parzen_data(tiny, rows=1000 if tiny else 10000)
    return lambda: parzen_log_likelihood(x, samples, _sigmas())


def plain_parzen(tiny=False):
    from scipy.spatial.distance import cdist
    from scipy.special import logsumexp
    samples, x = _parzen_data(tiny)
    d = x.shape[1]

    def step():
        dist = cdist(x.astype(np.float64), samples, 'sqeuclidean')
        return [logsumexp(-dist / (2 * s * s), axis=1) - math.log(len(samples))
                - 0.5 * d * math.log(2 * math.pi * s * s) for s in _sigmas()]
    return step


def torch_parzen(tiny=False):
    import torch
    samples, x = (torch.from_numpy(a.astype(np.float64)) for a in _parzen_data(tiny))
    d = x.shape[1]

    def step():
        dist = torch.cdist(x, samples) ** 2
        return [torch.logsumexp(-dist / (2 * s * s), dim=1) - math.log(len(samples))
                - 0.5 * d * math.log(2 * math.pi * s * s) for s in _sigmas()]
    return step


# ------------------------------------------------------------------------ NLL
def _vae_and_x():
    from vae.net import VAE
    vae = VAE(784, 50, (200, 200), 'tanh')
    x = (data.images(NLL_BATCH, seed=4) > 0.5).astype(np.float32)
    return vae, x


def _k(tiny):
    return 100 if tiny else K


def ours_nll(tiny=False):
    from vae.likelihood import iw_log_likelihood
    vae, x = _vae_and_x()
    return lambda: iw_log_likelihood(vae, x, n_samples=_k(tiny), batch_size=NLL_BATCH)


def ours_nll_before(tiny=False):
    import vae.likelihood
    from benchmarks import legacy
    vae.likelihood.log_importance_weights = legacy.log_importance_weights   # this worker only
    return ours_nll(tiny)


def plain_nll(tiny=False):
    vae, x = _vae_and_x()
    k = _k(tiny)

    def step():
        with chainer.no_backprop_mode(), chainer.using_config('train', False):
            mu, ln_var = vae.encode(x)
            chunks = []
            for _ in range(0, k, CHUNK):
                mu_r, ln_var_r = F.tile(mu, (CHUNK, 1)), F.tile(ln_var, (CHUNK, 1))
                x_r = np.tile(x, (CHUNK, 1))
                z = F.gaussian(mu_r, ln_var_r)
                log_px = -F.sum(F.bernoulli_nll(x_r, vae.decode(z), reduce='no'), axis=1)
                log_pz = -F.sum(F.gaussian_nll(z, np.zeros_like(z.array),
                                               np.zeros_like(z.array), reduce='no'), axis=1)
                log_qz = -F.sum(F.gaussian_nll(z, mu_r, ln_var_r, reduce='no'), axis=1)
                chunks.append(F.reshape(log_px + log_pz - log_qz, (CHUNK, len(x))))
            return F.logsumexp(F.concat(chunks, axis=0), axis=0).array - math.log(k)
    return step


def torch_nll(tiny=False):
    import torch
    from torch import nn
    import torch.nn.functional as TF
    enc = nn.Sequential(nn.Linear(784, 200), nn.Tanh(), nn.Linear(200, 200), nn.Tanh(),
                        nn.Linear(200, 100))
    dec = nn.Sequential(nn.Linear(50, 200), nn.Tanh(), nn.Linear(200, 200), nn.Tanh(),
                        nn.Linear(200, 784))
    x = torch.from_numpy(_vae_and_x()[1])
    k = _k(tiny)
    log_2pi = math.log(2 * math.pi)

    def step():
        with torch.no_grad():
            mu, ln_var = enc(x).chunk(2, dim=1)
            chunks = []
            for _ in range(0, k, CHUNK):
                eps = torch.randn(CHUNK, *mu.shape)
                z = mu + (0.5 * ln_var).exp() * eps
                logits = dec(z)
                log_px = -TF.binary_cross_entropy_with_logits(
                    logits, x.expand_as(logits), reduction='none').sum(-1)
                log_pz = -0.5 * (z * z + log_2pi).sum(-1)
                log_qz = -0.5 * (eps * eps + ln_var + log_2pi).sum(-1)
                chunks.append(log_px + log_pz - log_qz)
            return torch.logsumexp(torch.cat(chunks).double(), 0) - math.log(k)
    return step


# ------------------------------------------------------------------------ specs
_NLL_CHUNK = 2 ** 22 // (NLL_BATCH * 784)          # iw_log_likelihood's samples per chunk
_NLL_PASSES = [(1, flops.mlp(NLL_BATCH, [784, 200, 200, 100]))] + \
    [(1, flops.mlp(NLL_BATCH * min(_NLL_CHUNK, K - i), [50, 200, 200, 784]))
     for i in range(0, K, _NLL_CHUNK)]

BENCHMARKS = [
    Benchmark('parzen', 'Parzen window, 10k samples x 10 sigmas, 784-D float64, per test row',
              __name__, P_ROWS, passes=[], steps=1, max_repeats=3, warmup=1,
              extrapolate=10000, full_job='Parzen, 10k test x 10k samples x 10 sigmas',
              impls={'ours': 'ours_parzen', 'chainer': 'plain_parzen', 'torch': 'torch_parzen',
                     'before:parzen': 'ours_parzen_before'},
              note='no roofline (float64); "plain Chainer" is plain NumPy/SciPy here'),
    Benchmark('parzen_full', 'Parzen, the full job in one call: 10k test x 10k samples x 10 '
              'sigmas', __name__, 10000, passes=[], steps=1, max_repeats=1, warmup=0,
              extrapolate=10000, full_job='Parzen, measured in one call (not extrapolated)',
              impls={'ours': 'ours_parzen_full'},
              note='ours only, measured once, not extrapolated (the check of the 1-minute '
                   'target)'),
    Benchmark('nll', 'IWAE NLL, k = 5,000, M1 784-200-200-50, per test image', __name__,
              NLL_BATCH, passes=_NLL_PASSES, steps=1, max_repeats=2, warmup=1,
              extrapolate=10000, full_job='NLL, 10k test images, k = 5,000',
              impls={'ours': 'ours_nll', 'chainer': 'plain_nll', 'torch': 'torch_nll',
                     'before:nll': 'ours_nll_before'}),
]
