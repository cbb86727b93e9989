"""Low-dimensional data distributions with known densities, for the GAN experiments.

* :class:`GaussianPair1D`: a 1-D Gaussian "data" density p_d and a Gaussian "model" density
  p_g, with the optimal discriminator D*(x) = p_d/(p_d + p_g) (Goodfellow et al. 2014,
  Prop. 1, Fig. 1) and JSD(p_d || p_g) by numerical integration (Goodfellow et al. 2014,
  Thm. 1: C(G) = -log 4 + 2 JSD).
* The 8-Gaussian ring and the 25-Gaussian grid with PacGAN's parameters (Lin et al. 2018,
  "PacGAN", Sec. 5.1, following VEEGAN, Srivastava et al. 2017), as in the official code
  fjxmlzn/PacGAN ``synthetic_data_experiments/2DRing_GAN&PacGAN/config.py``: 8 modes at
  (cos 2πi/8, sin 2πi/8), std 0.01; and ``2DGrid_GAN&PacGAN/config.py``: 25 modes at
  {-4,-2,0,2,4}², std 0.05; equal weights.
* A 2-D swiss roll in data space, as in Gulrajani et al. 2017 (WGAN-GP), official code
  igul222/improved_wgan_training ``gan_toy.py``: sklearn ``make_swiss_roll(noise=0.25)``,
  coordinates (x, z), divided by 7.5.
"""
import itertools

import numpy as np
from scipy import integrate, special, stats

from datasets._random import as_rng, integers

RING_MODES = np.array([[np.cos(2 * np.pi * i / 8), np.sin(2 * np.pi * i / 8)]
                       for i in range(8)], dtype=np.float64)
RING_STD = 0.01
GRID_MODES = np.array(list(itertools.product(range(-4, 5, 2), range(-4, 5, 2))),
                      dtype=np.float64)
GRID_STD = 0.05
SWISS_ROLL_NOISE = 0.25
SWISS_ROLL_SCALE = 7.5


class GaussianPair1D(object):
    """Data N(mu_data, sd_data²) and model N(mu_model, sd_model²) on the real line."""

    def __init__(self, mu_data, sd_data, mu_model, sd_model):
        if sd_data <= 0 or sd_model <= 0:
            raise ValueError('standard deviations must be > 0')
        self.mu_data, self.sd_data = float(mu_data), float(sd_data)
        self.mu_model, self.sd_model = float(mu_model), float(sd_model)

    def sample_data(self, n, rng=None):
        """x ~ p_d: float32 ``(n, 1)``."""
        return (self.mu_data + self.sd_data * as_rng(rng).normal(size=(n, 1))).astype(
            np.float32)

    def sample_model(self, n, rng=None):
        """x ~ p_g: float32 ``(n, 1)``."""
        return (self.mu_model + self.sd_model * as_rng(rng).normal(size=(n, 1))).astype(
            np.float32)

    def logpdf_data(self, x):
        return stats.norm.logpdf(np.asarray(x, dtype=np.float64), self.mu_data, self.sd_data)

    def logpdf_model(self, x):
        return stats.norm.logpdf(np.asarray(x, dtype=np.float64), self.mu_model, self.sd_model)

    def pdf_data(self, x):
        return np.exp(self.logpdf_data(x))

    def pdf_model(self, x):
        return np.exp(self.logpdf_model(x))

    def optimal_discriminator(self, x):
        """D*(x) = p_d(x) / (p_d(x) + p_g(x))  (Goodfellow et al. 2014, Prop. 1).

        Computed as sigmoid(log p_d - log p_g), so it stays exact far in the tails.
        """
        return special.expit(self.logpdf_data(x) - self.logpdf_model(x))

    def jsd(self):
        """JSD(p_d || p_g) in nats (0 for equal densities, ln 2 for disjoint ones).

        JSD = ½ KL(p_d || m) + ½ KL(p_g || m), m = ½ (p_d + p_g), by ``scipy.integrate.quad``
        on an interval covering both densities to 12 standard deviations, split at both means.
        """
        def half_kl(logp):
            def integrand(x):
                lp, lq = self.logpdf_data(x), self.logpdf_model(x)
                log_m = np.logaddexp(lp, lq) - np.log(2.0)          # m = (p_d + p_g) / 2
                own = lp if logp == 'data' else lq
                return np.exp(own) * (own - log_m)
            return integrand

        lo = min(self.mu_data - 12 * self.sd_data, self.mu_model - 12 * self.sd_model)
        hi = max(self.mu_data + 12 * self.sd_data, self.mu_model + 12 * self.sd_model)
        points = sorted({self.mu_data, self.mu_model})
        total = 0.0
        for which in ('data', 'model'):
            value, _ = integrate.quad(half_kl(which), lo, hi, points=points, limit=500)
            total += 0.5 * value
        return float(min(max(total, 0.0), np.log(2.0)))


def _mixture(n, modes, std, rng, return_labels):
    rng = as_rng(rng)
    k = integers(rng, len(modes), n)
    x = (modes[k] + std * rng.normal(size=(n, modes.shape[1]))).astype(np.float32)
    return (x, k) if return_labels else x


def sample_ring(n, rng=None, modes=RING_MODES, std=RING_STD, return_labels=False):
    """8 Gaussians on the unit circle, std 0.01 (PacGAN): float32 ``(n, 2)`` [, mode index]."""
    return _mixture(n, np.asarray(modes, dtype=np.float64), std, rng, return_labels)


def sample_grid(n, rng=None, modes=GRID_MODES, std=GRID_STD, return_labels=False):
    """25 Gaussians on {-4,-2,0,2,4}², std 0.05 (PacGAN): float32 ``(n, 2)`` [, mode index]."""
    return _mixture(n, np.asarray(modes, dtype=np.float64), std, rng, return_labels)


def sample_swiss_roll_2d(n, rng=None, noise=SWISS_ROLL_NOISE, scale=SWISS_ROLL_SCALE):
    """2-D swiss roll (WGAN-GP's gan_toy.py): make_swiss_roll(n, noise)[:, (x, z)] / 7.5."""
    from sklearn.datasets import make_swiss_roll
    seed = int(integers(as_rng(rng), 2 ** 31 - 1, 1)[0])
    points, _ = make_swiss_roll(n_samples=n, noise=noise, random_state=seed)
    return (points[:, [0, 2]] / scale).astype(np.float32)
