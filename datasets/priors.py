"""Prior samplers p(z) for the adversarial autoencoder (Makhzani et al. 2015, arXiv:1511.05644,
Sec. 2.1 / Fig. 2 and Fig. 4: a 2-D Gaussian, a mixture of 10 2-D Gaussians, a swiss roll).

The mixture and swiss-roll parameters are those of the seed author's Chainer implementation,
musyoku/adversarial-autoencoder, ``aae/sampler.py`` (``gaussian_mixture``,
``supervised_gaussian_mixture``, ``swiss_roll``, ``supervised_swiss_roll``):

* mixture: component k is N(0, diag(0.5², 0.05²)) rotated by the angle 2πk/K and shifted by
  1.4 along that angle, i.e. std 0.5 along the radius and 0.05 across it; for dim > 2 the same
  construction is applied to every pair of dimensions.
* swiss roll: u = (U(0,1) + k)/K, radius 3√u, angle 4π√u (slice k of the roll is class k).

Every sampler is label-conditioned (Fig. 4 / Sec. 4 of the paper: the label picks the mixture
component or the slice of the roll); the label value ``K`` ("unlabelled", the extra label of
the semi-supervised setting) and ``labels=None`` pick a component uniformly at random.

Deviation, stated: for dim > 2 musyoku's *unconditional* sampler draws a new component for each
pair of dimensions; here one component per example is shared by all pairs (as in his
supervised sampler), so that the returned labels describe the whole code.
"""
import numpy as np

from datasets._random import array_module, as_rng, integers, uniform01


def _components(n, n_classes, labels, rng):
    """Component index per example: the label, or a random one for None / label == n_classes."""
    if n_classes < 1:
        raise ValueError('n_classes must be >= 1, got {}'.format(n_classes))
    if labels is None:
        return integers(rng, n_classes, n)
    xp = array_module(rng)
    labels = xp.asarray(labels)
    if labels.shape != (n,):
        raise ValueError('labels must have shape ({},), got {}'.format(n, labels.shape))
    if xp is not np:        # on the GPU: no range check, no count, so no wait for the device
        k = labels.astype(np.int64)
        return xp.where(k == n_classes, integers(rng, n_classes, n), k)
    if labels.size and (labels.min() < 0 or labels.max() > n_classes):
        raise ValueError('labels must lie in 0..{} ({} = unlabelled), got {}..{}'.format(
            n_classes, n_classes, labels.min(), labels.max()))
    k = labels.astype(np.int64)          # a copy
    unlabelled = k == n_classes
    k[unlabelled] = integers(rng, n_classes, int(unlabelled.sum()))
    return k


def sample_gaussian(n, dim, std=1.0, rng=None):
    """z ~ N(0, std² I): float32 ``(n, dim)`` (on the GPU for a CuPy ``rng``)."""
    rng = as_rng(rng)
    return (std * rng.normal(size=(n, dim))).astype(np.float32)


#: the mixture's shape (musyoku's sampler): centres on a circle of this radius, std along
#: and across the radius
MIXTURE_RADIUS, MIXTURE_RADIAL_STD, MIXTURE_TANGENTIAL_STD = 1.4, 0.5, 0.05


def sample_gaussian_mixture(n, n_classes=10, labels=None, dim=2, radius=MIXTURE_RADIUS,
                            radial_std=MIXTURE_RADIAL_STD,
                            tangential_std=MIXTURE_TANGENTIAL_STD, rng=None):
    """Mixture of ``n_classes`` elongated 2-D Gaussians on a circle (musyoku's sampler).

    Returns ``(z, k)``: float32 ``(n, dim)`` and the int64 component of each example.
    """
    if dim % 2:
        raise ValueError('dim must be even (the mixture is 2-D per pair of dims), got {}'
                         .format(dim))
    rng = as_rng(rng)
    xp = array_module(rng)
    k = _components(n, n_classes, labels, rng)
    angle = (2.0 * np.pi * k / n_classes)[:, None]                 # component k at 2πk/K
    along = radial_std * rng.normal(size=(n, dim // 2))            # along the radius
    across = tangential_std * rng.normal(size=(n, dim // 2))       # across it
    cos, sin = xp.cos(angle), xp.sin(angle)
    z = xp.empty((n, dim), dtype=np.float64)
    z[:, 0::2] = along * cos - across * sin + radius * cos         # rotate, then shift by 1.4
    z[:, 1::2] = along * sin + across * cos + radius * sin
    return z.astype(np.float32), k


def sample_swiss_roll(n, n_classes=10, labels=None, rng=None, dim=2, max_radius=3.0,
                      max_angle=4.0 * np.pi):
    """Swiss roll cut into ``n_classes`` slices (musyoku's sampler).

    u = (U(0,1) + k)/K;  z = 3√u (cos 4π√u, sin 4π√u).  For dim > 2 every pair of dims gets
    its own u from the same slice k.  Returns ``(z, k)`` like :func:`sample_gaussian_mixture`.
    """
    if dim % 2:
        raise ValueError('dim must be even, got {}'.format(dim))
    rng = as_rng(rng)
    xp = array_module(rng)
    k = _components(n, n_classes, labels, rng)
    u = (uniform01(rng, (n, dim // 2)) + k[:, None]) / n_classes   # u = (U(0,1) + k) / K
    r = max_radius * xp.sqrt(u)                                    # radius 3√u
    theta = max_angle * xp.sqrt(u)                                 # angle 4π√u
    z = xp.empty((n, dim), dtype=np.float64)
    z[:, 0::2] = r * xp.cos(theta)
    z[:, 1::2] = r * xp.sin(theta)
    return z.astype(np.float32), k
