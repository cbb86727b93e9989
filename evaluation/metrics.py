"""Evaluation metrics shared by the experiments.

* :func:`classification_error` -- fraction of wrong predictions (Kingma et al. 2014 Table 2,
  Makhzani et al. 2015 Tables 2-3 report it in %).
* :func:`cluster_accuracy` -- label each cluster, then score: by the majority label of its
  members, or by the AAE paper's rule (Makhzani et al. 2015, Sec. 6: "for each cluster i, we
  found the validation example x_n that maximizes q(y_i | x_n), and assigned the label of x_n
  to all the points in the cluster i").
* :func:`hungarian_accuracy` -- best one-to-one cluster→label matching
  (``scipy.optimize.linear_sum_assignment``), the usual unsupervised-clustering accuracy.
* :func:`mmd` -- unbiased MMD² (Gretton et al. 2012, JMLR, Eq. 3) with Gaussian kernels, to
  compare learned codes with prior samples; default bandwidth by the median heuristic.
* :func:`mode_coverage` -- PacGAN's mode statistics for the ring / grid toy data (Lin et al.
  2018, Sec. 5.1; fjxmlzn/PacGAN ``pacgan/extensions.py`` MetricLogger): a sample is
  "high quality" if it lies within 3 standard deviations of its nearest mode; a mode is
  captured if at least ``min_count`` (20 of 2,500) high-quality samples are nearest to it.
"""
import numpy as np
from scipy.optimize import linear_sum_assignment


def _labels(a, name):
    a = np.asarray(a.get() if hasattr(a, 'get') else a)
    if a.ndim != 1:
        raise ValueError('{} must be 1-D, got shape {}'.format(name, a.shape))
    return a


def classification_error(pred_labels, true_labels):
    """Fraction of ``pred_labels != true_labels``, in [0, 1]."""
    pred, true = _labels(pred_labels, 'pred_labels'), _labels(true_labels, 'true_labels')
    if pred.shape != true.shape:
        raise ValueError('pred_labels and true_labels differ in length: {} vs {}'.format(
            len(pred), len(true)))
    if len(true) == 0:
        raise ValueError('no labels to compare')
    return float(np.mean(pred != true))


def confusions(pred_labels, true_labels, n_classes, top=5):
    """Where a classifier errs: the confusion matrix (row = true class, column = predicted;
    nested lists of counts) and its ``top`` largest off-diagonal cells as ``[true,
    predicted, count]``, largest first (ties by class)."""
    pred, true = _labels(pred_labels, 'pred_labels'), _labels(true_labels, 'true_labels')
    if pred.shape != true.shape:
        raise ValueError('pred_labels and true_labels differ in length: {} vs {}'.format(
            len(pred), len(true)))
    matrix = np.bincount(true * n_classes + pred, minlength=n_classes ** 2)
    matrix = matrix.reshape(n_classes, n_classes)
    off = [(-int(matrix[t, p]), t, p) for t in range(n_classes) for p in range(n_classes)
           if t != p and matrix[t, p]]
    return {'matrix': matrix.tolist(),
            'most_confused': [[t, p, -c] for c, t, p in sorted(off)[:top]]}


def equal_clusters_error_floor(true_labels, n_clusters, n_classes=None):
    """The least error any labelling of ``n_clusters`` clusters **of equal size** can reach
    on ``true_labels`` (ours, a closed form for the AAE's uniform Cat(K) prior, Sec. 5-6).

    Each cluster holds c = N / K images (fractions allowed) and is labelled with one class;
    the images of class k that can be labelled right are at most min(n_k, m_k c), where m_k
    clusters take label k. So the floor is 1 - max_m sum_k min(n_k, m_k c) / N over
    sum_k m_k = K. Each term is concave in m_k, so handing out clusters one at a time to the
    class that gains most finds the maximum. With K = number of classes it is the error a
    classifier predicting every class equally often must make: sum_k max(0, n_k - N/K) / N.
    """
    true = _labels(true_labels, 'true_labels').astype(np.int64)
    if n_clusters < 1 or len(true) == 0:
        raise ValueError('need n_clusters >= 1 and some labels')
    counts = np.bincount(true, minlength=n_classes or 0).astype(np.float64)
    size = len(true) / n_clusters
    taken = np.zeros(len(counts))
    for _ in range(n_clusters):
        gain = np.minimum(counts, (taken + 1) * size) - np.minimum(counts, taken * size)
        taken[np.argmax(gain)] += 1
    return float(1 - np.minimum(counts, taken * size).sum() / len(true))


def assign_cluster_labels(cluster_ids, true_labels, scores=None):
    """Label per cluster: dict ``{cluster: label}``.

    scores None: the majority label of the cluster's members (ties -> smallest label).
    scores ``(N,)``: q(y = own cluster | x_n); each cluster takes the label of its member with
    the highest score.
    scores ``(N, K)``: q(y = i | x_n) for every cluster i; cluster i takes the label of the
    example (over all N) with the highest q(y_i | x_n) -- the AAE paper's rule, Sec. 6.
    """
    clusters = _labels(cluster_ids, 'cluster_ids')
    true = _labels(true_labels, 'true_labels')
    if clusters.shape != true.shape:
        raise ValueError('cluster_ids and true_labels differ in length')
    mapping = {}
    if scores is None:
        for c in np.unique(clusters):
            mapping[int(c)] = int(np.argmax(np.bincount(true[clusters == c])))
        return mapping
    scores = np.asarray(scores.get() if hasattr(scores, 'get') else scores)
    if scores.ndim == 1:
        if scores.shape != clusters.shape:
            raise ValueError('scores (N,) must match cluster_ids')
        for c in np.unique(clusters):
            members = np.flatnonzero(clusters == c)
            mapping[int(c)] = int(true[members[np.argmax(scores[members])]])
        return mapping
    if scores.ndim == 2 and len(scores) == len(clusters):
        for c in range(scores.shape[1]):
            mapping[c] = int(true[np.argmax(scores[:, c])])       # argmax_n q(y_c | x_n)
        return mapping
    raise ValueError('scores must be (N,) or (N, K), got shape {}'.format(scores.shape))


def cluster_accuracy(cluster_ids, true_labels, scores=None, mapping=None):
    """Accuracy after labelling each cluster (see :func:`assign_cluster_labels`).

    ``mapping``: a ``{cluster: label}`` dict found on another set (e.g. the AAE protocol labels
    clusters on validation data and then scores test data); clusters missing from it count as
    errors.
    """
    clusters = _labels(cluster_ids, 'cluster_ids')
    true = _labels(true_labels, 'true_labels')
    if mapping is None:
        mapping = assign_cluster_labels(clusters, true, scores)
    pred = np.array([mapping.get(int(c), -1) for c in clusters])
    return 1.0 - classification_error(pred, true)


def hungarian_accuracy(cluster_ids, true_labels):
    """Accuracy of the best one-to-one matching of clusters to labels (extra clusters or
    labels stay unmatched and count as errors)."""
    clusters = _labels(cluster_ids, 'cluster_ids')
    true = _labels(true_labels, 'true_labels')
    if clusters.shape != true.shape:
        raise ValueError('cluster_ids and true_labels differ in length')
    _, c_idx = np.unique(clusters, return_inverse=True)
    _, t_idx = np.unique(true, return_inverse=True)
    counts = np.zeros((c_idx.max() + 1, t_idx.max() + 1), dtype=np.int64)
    np.add.at(counts, (c_idx, t_idx), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(true))


def squared_distances(a, b):
    """``(len(a), len(b))``: ‖a_i - b_j‖², one GEMM (clipped at 0 against rounding)."""
    return np.maximum((a ** 2).sum(1)[:, None] - 2.0 * a.dot(b.T) + (b ** 2).sum(1)[None], 0.0)


def median_heuristic(x, y, max_points=1000, seed=0):
    """Median pairwise Euclidean distance of the pooled sample (Gretton et al. 2012, Sec. 8);
    at most ``max_points`` points (seeded subsample) are used."""
    z = np.concatenate([x, y])
    if len(z) > max_points:
        z = z[np.random.default_rng(seed).choice(len(z), max_points, replace=False)]
    d = squared_distances(z, z)[np.triu_indices(len(z), k=1)]
    return float(np.sqrt(np.median(d)))


def _kernel_sum(a, b, sigmas, same, chunk=1024):
    """Σ_{i,j} Σ_σ exp(-‖a_i - b_j‖² / (2σ²)), excluding i = j when ``same``."""
    total = 0.0
    for s in range(0, len(a), chunk):
        d = squared_distances(a[s:s + chunk], b)
        k = sum(np.exp(-d / (2.0 * sig ** 2)) for sig in sigmas)
        if same:
            idx = np.arange(len(d))
            k[idx, s + idx] = 0.0
        total += float(k.sum())
    return total


def mmd(x, y, sigmas=None):
    """Unbiased MMD² between samples ``x (m, d)`` and ``y (n, d)`` (Gretton et al. 2012, Eq. 3):

        MMD²_u = 1/(m(m-1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n-1)) Σ_{i≠j} k(y_i, y_j)
                 - 2/(mn) Σ_{i,j} k(x_i, y_j),

    with k = Σ_σ exp(-‖a - b‖² / (2σ²)).  ``sigmas``: a float or a list (kernels summed);
    None -> one bandwidth by the median heuristic.  Can be slightly negative when the two
    distributions are equal (it is unbiased).
    """
    x = np.asarray(x.get() if hasattr(x, 'get') else x, dtype=np.float64)
    y = np.asarray(y.get() if hasattr(y, 'get') else y, dtype=np.float64)
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    if x.shape[1] != y.shape[1]:
        raise ValueError('x and y differ in dimension: {} vs {}'.format(x.shape[1], y.shape[1]))
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError('mmd needs at least 2 points in each sample')
    if sigmas is None:
        sigmas = [median_heuristic(x, y)]
    sigmas = [float(s) for s in np.atleast_1d(sigmas)]
    if any(s <= 0 for s in sigmas):
        raise ValueError('sigmas must be > 0')
    kxx = _kernel_sum(x, x, sigmas, same=True) / (m * (m - 1))
    kyy = _kernel_sum(y, y, sigmas, same=True) / (n * (n - 1))
    kxy = _kernel_sum(x, y, sigmas, same=False) / (m * n)
    return float(kxx + kyy - 2.0 * kxy)


def mode_coverage(samples, modes, std, n_std=3.0, min_count=20):
    """PacGAN's statistics of samples against a mixture of isotropic Gaussians.

    A sample is high quality if it lies within ``n_std`` (3) standard deviations of its
    nearest mode; a mode is captured if at least ``min_count`` high-quality samples are
    registered to it (PacGAN Sec. 5.1, after VEEGAN: a mode is lost with fewer than 20 of
    2,500 samples; PacGAN's MetricLogger code counts any nonzero mode, i.e. ``min_count=1``).

    Returns a dict: ``modes_captured``, ``n_modes``, ``high_quality_fraction``, ``counts``
    (high-quality samples per mode) and ``kl_reverse`` = KL(q || uniform) = Σ_k q_k log(K q_k),
    q the normalised ``counts`` (the "reverse KL" column of PacGAN Table 1; 0 when every mode
    gets the same share, nan when no sample is of high quality).
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    modes = np.asarray(modes, dtype=np.float64)
    d = np.sqrt(squared_distances(samples, modes))
    nearest = d.argmin(axis=1)
    good = d[np.arange(len(samples)), nearest] <= n_std * std     # within 3 std of a mode
    counts = np.bincount(nearest[good], minlength=len(modes))
    q = counts / counts.sum() if counts.sum() else None
    kl = float('nan') if q is None else float(np.sum(q[q > 0] * np.log(q[q > 0] * len(modes))))
    return {'modes_captured': int((counts >= min_count).sum()), 'n_modes': int(len(modes)),
            'high_quality_fraction': float(good.mean()), 'counts': counts.tolist(),
            'kl_reverse': kl}
