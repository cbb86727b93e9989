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

from evaluation.inference import predict
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
    log_px = (x * logits - xp.logaddexp(0, logits)).sum(axis=-1)       # log p(x|z_i)
    return log_px + log_pz - log_q


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
