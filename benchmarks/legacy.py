"""The code as it was before each speed-up, for the ablation rows of docs/performance.md.

Each function is a verbatim copy of the replaced code (commit named in its docstring) or
undoes a change in a built updater, so one run measures what the change bought.
"""
import chainer_compat  # noqa: F401  (before chainer)
import math

import numpy as np
from chainer.backend import get_array_module


def unfuse(updater):
    """Give ``updater``'s optimizers chainer's own update rules back (undo
    ``fused_updates.fuse``)."""
    for opt in updater.get_all_optimizers().values():
        rules = [p.update_rule for p in opt.target.params()]
        rules += list(getattr(opt, 'aae_rules', {}).values())
        for rule in rules:
            if rule is not None and type(rule).__name__.startswith('Fused'):
                rule.__class__ = type(rule).__mro__[2]     # (Fused..., mixin, chainer's rule)
    return updater


def _as_2d(a, xp):
    a = xp.asarray(a, dtype=xp.float64)
    return a.reshape(len(a), -1)


def parzen_log_likelihood(x, samples, sigma, batch_size=500, sample_batch_size=10000):
    """evaluation/parzen.py before commit "Parzen: one GEMM, one shift ..." (96af691).

    log p(x_j) under the Parzen window on ``samples``, for every row x_j of ``x``.

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
    out = xp.empty((len(sigmas), n), dtype=xp.float64)
    for start in range(0, n, batch_size):
        xb = x[start:start + batch_size]
        xb_sq = (xb ** 2).sum(axis=1)[:, None]
        # running log-sum-exp over sample chunks, one (max, sum) pair per sigma
        run_max = xp.full((len(sigmas), len(xb)), -np.inf)
        run_sum = xp.zeros((len(sigmas), len(xb)))
        for s0 in range(0, n_mu, sample_batch_size):
            mb = mu[s0:s0 + sample_batch_size]
            dist = xp.maximum(xb_sq - 2.0 * xb.dot(mb.T) + mu_sq[None, s0:s0 + len(mb)], 0.0)
            for i, s in enumerate(sigmas):
                a = dist * (-0.5 / (s * s))                       # -‖x - μ_i‖² / (2σ²)
                m = xp.maximum(run_max[i], a.max(axis=1))
                run_sum[i] = run_sum[i] * xp.exp(run_max[i] - m) + \
                    xp.exp(a - m[:, None]).sum(axis=1)
                run_max[i] = m
        log_norm = xp.asarray(math.log(n_mu) + 0.5 * d * np.log(2 * np.pi * sigmas ** 2))
        # log p(x) = logsumexp_i(...) - log N - (d/2) log(2πσ²)
        out[:, start:start + len(xb)] = run_max + xp.log(run_sum) - log_norm[:, None]
    return out[0] if scalar else out


def log_importance_weights(vae, x, n_samples):
    """vae/likelihood.py before commit "IWAE NLL: log p(x|z) as -softplus(...)" (e0b7e54)."""
    xp = vae.xp
    mu, ln_var = (v.array for v in vae.encode(x))
    eps = xp.random.standard_normal((n_samples,) + mu.shape).astype(mu.dtype)
    z = mu + xp.exp(0.5 * ln_var) * eps                                # z_i ~ q(z|x)
    log_q = -0.5 * (eps * eps + ln_var + LOG_2PI).sum(axis=-1)         # log q(z_i|x)
    log_pz = -0.5 * (z * z + LOG_2PI).sum(axis=-1)                     # log N(z_i; 0, I)
    logits = vae.decode(z.reshape(-1, z.shape[-1])).array.reshape((n_samples,) + x.shape)
    log_px = (x * logits - xp.logaddexp(0, logits)).sum(axis=-1)       # log p(x|z_i)
    return log_px + log_pz - log_q


LOG_2PI = math.log(2 * math.pi)


def mlp_rest(self, a, y=None):
    """vae.net.MLP.rest before commit 5a89c07 (reshape nodes even for (batch, units))."""
    import chainer.functions as F
    if y is not None:
        a = a + self.label_in(y)
    h = self.activation(a)
    if len(self.layers) > 1:
        lead = h.shape[:-1]
        h = F.reshape(h, (-1, h.shape[-1]))
        for layer in self.layers[1:]:
            h = self.activation(layer(h))
        h = F.reshape(h, lead + (h.shape[-1],))
    return h


def gaussian_kl(mu, ln_var):
    """vae.loss.gaussian_kl before commit 929d2b9 (chainer's composed KL, seven nodes)."""
    import chainer.functions as F
    return F.sum(F.gaussian_kl_divergence(mu, ln_var, reduce='no'), axis=-1)


def more_vae_nodes():
    """Undo both graph-node reductions of the VAE step in this process."""
    import vae.functions
    import vae.net
    vae.net.MLP.rest = mlp_rest
    vae.functions.gaussian_kl = gaussian_kl


def laplacian_pyramid(x, levels=3, ksize=5, sigma=1.0):
    """glo.loss.laplacian_pyramid before the separable blur (chainer's im2col convolution)."""
    from chainer import backend
    from glo.loss import blur, gaussian_kernel
    xp = backend.get_array_module(x)
    kernel = xp.asarray(gaussian_kernel(ksize, sigma, dtype=x.dtype))
    pyramid = []
    g = x
    for _ in range(levels):
        low = blur(g, kernel)
        pyramid.append(g - low)
        g = low[:, :, ::2, ::2]
    pyramid.append(g)
    return pyramid
