"""Sample-quality metrics in the feature space of the frozen MNIST classifier
(:mod:`evaluation.features`), for the generator table (experiments/evaluate_generators.py).

* :func:`frechet_distance` -- the Fréchet distance between Gaussians fitted to two feature
  sets (Heusel et al. 2017, Eq. 6, "FID" with Inception features; here the MNIST net's):
  ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``, in float64 with scipy's matrix
  square root.
* :func:`precision_recall` -- improved precision and recall (Kynkäänniemi et al. 2019, Sec. 2,
  Eqs. 1-2): each set's manifold is the union of balls around its points reaching their k-th
  nearest neighbour in the set (k = 3); precision is the share of generated points inside the
  real manifold, recall the share of real points inside the generated one.
* :func:`digit_coverage` -- the classifier's predicted-class histogram of the samples: how
  many of the 10 digits are drawn, the KL divergence of the histogram from uniform, and the
  classifier's mean confidence (max softmax probability).
"""
import warnings

import numpy as np
from scipy import linalg

from evaluation.metrics import squared_distances


def gaussian_stats(features):
    """Mean and covariance (float64, unbiased) of an ``(n, d)`` feature set."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError('features must be (n >= 2, d), got shape %s' % (f.shape,))
    return f.mean(axis=0), np.cov(f, rowvar=False)


def _sqrtm(m):
    """scipy's matrix square root, quietly (a dead ReLU unit makes S_a S_b singular, which is
    fine here); SciPy < 1.18 also returns an error estimate with ``disp=False``."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        out = linalg.sqrtm(m)
    return out[0] if isinstance(out, tuple) else out


def frechet_distance_stats(mu_a, cov_a, mu_b, cov_b, eps=1e-6):
    """``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 sqrtm(S_a S_b))`` (Heusel et al. 2017, Eq. 6).
    A singular product gets ``eps`` on both diagonals, as the reference implementation
    (bioinf-jku/TTUR ``fid.py``) does; a negligible imaginary part from round-off is dropped."""
    diff = np.asarray(mu_a, np.float64) - np.asarray(mu_b, np.float64)
    covmean = _sqrtm(cov_a.dot(cov_b))
    if not np.isfinite(covmean).all():
        offset = np.eye(len(cov_a)) * eps
        covmean = _sqrtm((cov_a + offset).dot(cov_b + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError('imaginary component %g in sqrtm' % np.abs(covmean.imag).max())
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(covmean))


def frechet_distance(features_a, features_b):
    """The Fréchet distance between Gaussians fitted to two ``(n, d)`` feature sets."""
    return frechet_distance_stats(*gaussian_stats(features_a), *gaussian_stats(features_b))


def knn_radii(features, k=3, chunk=2000):
    """Squared distance of each point to its k-th nearest neighbour in its own set (itself
    excluded)."""
    f = np.asarray(features, dtype=np.float64)
    if len(f) <= k:
        raise ValueError('need more than k = %d points, got %d' % (k, len(f)))
    radii = np.empty(len(f))
    for i in range(0, len(f), chunk):
        d = squared_distances(f[i:i + chunk], f)
        radii[i:i + chunk] = np.partition(d, k, axis=1)[:, k]   # column 0 is the point itself
    return radii


def manifold_coverage(points, manifold, radii, chunk=2000):
    """Share of ``points`` inside the union of balls ``|x - m| <= r_m`` over ``manifold``."""
    p, m = np.asarray(points, np.float64), np.asarray(manifold, np.float64)
    inside = np.empty(len(p), dtype=bool)
    for i in range(0, len(p), chunk):
        inside[i:i + chunk] = (squared_distances(p[i:i + chunk], m) <= radii[None, :]).any(1)
    return float(inside.mean())


def precision_recall(real, fake, k=3):
    """Improved precision and recall (Kynkäänniemi et al. 2019) of ``fake`` against ``real``
    feature sets, with k-NN balls of size ``k`` (their default 3)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    return {'precision': manifold_coverage(fake, real, knn_radii(real, k)),
            'recall': manifold_coverage(real, fake, knn_radii(fake, k)), 'k': k}


def digit_coverage(probs, min_share=0.01):
    """From the classifier's class probabilities of the samples ``(n, 10)``:
    ``classes_drawn`` (classes that are the argmax of at least ``min_share`` of the samples,
    one tenth of a uniform share), ``kl_from_uniform`` (KL(histogram || uniform), nats; 0 for
    equal classes, log 10 = 2.30 for one class), ``histogram`` and ``confidence`` (mean max
    probability)."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or not len(p):
        raise ValueError('probs must be (n >= 1, classes), got shape %s' % (p.shape,))
    n_classes = p.shape[1]
    hist = np.bincount(p.argmax(1), minlength=n_classes) / len(p)
    nz = hist[hist > 0]
    return {'classes_drawn': int((hist >= min_share).sum()),
            'kl_from_uniform': float((nz * np.log(nz * n_classes)).sum()),
            'histogram': hist.tolist(), 'confidence': float(p.max(1).mean())}
