"""Seeded semi-supervised split: N labelled examples balanced over the classes, the rest
unlabelled (the protocol of Kingma et al. 2014, Sec. 4.1, and Makhzani et al. 2015, Sec. 5:
e.g. 100 labels = 10 per digit class, drawn at random)."""
import numpy as np

from datasets._random import as_rng
from datasets.errors import DataError


def split_labelled(y, n_labelled, seed=0):
    """Return ``(labelled_idx, unlabelled_idx)``, sorted int64 index arrays partitioning ``y``.

    Each class gets ``n_labelled // K`` labels; if ``n_labelled`` is not a multiple of the number
    of classes K, the remainder goes to randomly chosen classes (one extra each).  ``seed`` is
    an int or numpy Generator; the same seed always gives the same split.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError('y must be 1-D labels, got shape {}'.format(y.shape))
    if not 0 <= n_labelled <= len(y):
        raise DataError('n_labelled={} but the training set has {} examples; ask for fewer '
                        'labels'.format(n_labelled, len(y)))
    rng = as_rng(seed if seed is not None else 0)
    classes = np.unique(y)
    per_class = np.full(len(classes), n_labelled // len(classes))
    extra = rng.permutation(len(classes))[:n_labelled % len(classes)]
    per_class[extra] += 1
    chosen = []
    for c, m in zip(classes, per_class):
        members = np.flatnonzero(y == c)
        if m > len(members):
            raise DataError('class {} has only {} examples, cannot take {} labels from it; ask '
                            'for fewer labels or use more data'.format(c, len(members), m))
        chosen.append(rng.permutation(members)[:m])
    labelled = np.sort(np.concatenate(chosen)).astype(np.int64)
    mask = np.ones(len(y), dtype=bool)
    mask[labelled] = False
    return labelled, np.flatnonzero(mask).astype(np.int64)
