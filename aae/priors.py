"""The imposed priors p(z) of the AAE experiments, by name, and the inverse question for
Fig. 4: which mixture component / swiss-roll slice does a code lie on?

Samplers are datasets.priors' (the seed author's: 10 2-D Gaussians on a circle of radius
1.4, std 0.5 along / 0.05 across the radius; a swiss roll with slice k = class k).
"""
import numpy as np

from datasets.priors import sample_gaussian, sample_gaussian_mixture, sample_swiss_roll

PRIORS = ('gaussian', 'mixture', 'swissroll')


def sample_prior(name, n, z_dim=2, labels=None, n_classes=10, std=1.0, rng=None):
    """``(z, component)``: z ~ p(z) float32 (n, z_dim); component None for the Gaussian.

    ``labels`` (mixture / swiss roll): component per example, ``n_classes`` = any (Fig. 3).
    ``rng``: see :mod:`datasets._random` (a CuPy random state samples on the GPU).
    """
    if name == 'gaussian':
        return sample_gaussian(n, z_dim, std=std, rng=rng), None
    if name == 'mixture':
        return sample_gaussian_mixture(n, n_classes, labels=labels, dim=z_dim, rng=rng)
    if name == 'swissroll':
        return sample_swiss_roll(n, n_classes, labels=labels, dim=z_dim, rng=rng)
    raise ValueError('unknown prior %r; choose one of %s' % (name, ', '.join(PRIORS)))


class Prior:
    """The imposed p(z), sampled where training runs: ``prior(n, labels=None, xp=numpy)``.

    The updaters call it with their device's array module, so on a GPU the samples (and the
    labels that pick their components, Fig. 4) never leave the device.
    """

    def __init__(self, name, z_dim=2, n_classes=10, std=1.0):
        if name not in PRIORS:
            raise ValueError('unknown prior %r; choose one of %s' % (name, ', '.join(PRIORS)))
        self.name, self.z_dim, self.n_classes, self.std = name, z_dim, n_classes, std

    def __call__(self, n, labels=None, xp=np):
        rng = None if xp is np else xp.random.get_random_state()
        return sample_prior(self.name, n, self.z_dim, labels, self.n_classes, self.std,
                            rng=rng)[0]


def mixture_component(z, n_classes=10):
    """Nearest component by angle (component k sits at angle 2 pi k / K) of 2-D codes."""
    angle = np.arctan2(z[:, 1], z[:, 0])
    return np.round(angle / (2 * np.pi / n_classes)).astype(int) % n_classes


def swiss_roll_slice(z, n_classes=10, max_radius=3.0):
    """Slice of the roll by radius: r = 3 sqrt(u), slice k holds u in [k/K, (k+1)/K)."""
    u = (np.linalg.norm(z[:, :2], axis=1) / max_radius) ** 2
    return np.clip(np.floor(u * n_classes), 0, n_classes - 1).astype(int)


def component_of(name, z, n_classes=10):
    return mixture_component(z, n_classes) if name == 'mixture' else \
        swiss_roll_slice(z, n_classes)
