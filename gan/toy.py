"""Mode coverage and sample quality on the 2-D toy mixtures (VEEGAN / PacGAN protocol).

VEEGAN (Srivastava et al. 2017, §5.1): a generated sample is *high quality* if it lies within
three standard deviations of the nearest mode; a mode is *captured* if high-quality samples
land on it. PacGAN (Lin et al. 2018, §5.1) makes the count explicit: from 2,500 samples, a mode
is lost if fewer than 20 high-quality samples are registered to it (1/5 of the 100 expected
for 25 equal modes). Both rules are this module's ``min_count`` (default 20 of 2,500).

The swiss roll has no discrete modes. Here (our definition, not from those papers) a sample
is high quality if it lies within 3 noise standard deviations of the noiseless roll curve,
and "modes" are ``n_segments`` equal-parameter segments of the roll, captured with the same
``min_count`` rule.
"""
import numpy as np

from datasets.toy import (GRID_MODES, GRID_STD, RING_MODES, RING_STD, SWISS_ROLL_NOISE,
                          SWISS_ROLL_SCALE, sample_grid, sample_ring, sample_swiss_roll_2d)
from evaluation.metrics import mode_coverage  # NOQA: F401 (PacGAN rule, shared; re-exported)

TOY_SAMPLERS = {'ring': sample_ring, 'grid': sample_grid, 'swissroll': sample_swiss_roll_2d}


def swiss_roll_curve(n=20000):
    """The noiseless roll of sklearn's make_swiss_roll, t in [1.5 pi, 4.5 pi], in the
    (x, z) / 7.5 coordinates of ``datasets.toy.sample_swiss_roll_2d``; returns (points, t)."""
    t = np.linspace(1.5 * np.pi, 4.5 * np.pi, n)
    return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / SWISS_ROLL_SCALE, t


def swiss_roll_coverage(samples, n_std=3.0, min_count=20, n_segments=10):
    samples = np.asarray(samples, dtype=np.float64)
    curve, t = swiss_roll_curve()
    std = SWISS_ROLL_NOISE / SWISS_ROLL_SCALE
    best_d = np.full(len(samples), np.inf)
    best_i = np.zeros(len(samples), dtype=np.int64)
    for s in range(0, len(curve), 2000):   # chunks keep memory small
        d = np.sqrt(((samples[:, None, :] - curve[None, s:s + 2000, :]) ** 2).sum(-1))
        i = d.argmin(axis=1)
        dm = d[np.arange(len(samples)), i]
        better = dm < best_d
        best_d[better], best_i[better] = dm[better], i[better] + s
    good = best_d <= n_std * std
    segment = np.minimum((best_i * n_segments) // len(curve), n_segments - 1)
    counts = np.bincount(segment[good], minlength=n_segments)
    return {'modes_captured': int((counts >= min_count).sum()), 'n_modes': int(n_segments),
            'high_quality_fraction': float(good.mean()), 'counts': counts.tolist()}


def coverage(name, samples, min_count=20):
    """``mode_coverage`` for 'ring' / 'grid', ``swiss_roll_coverage`` for 'swissroll'."""
    if name == 'ring':
        return mode_coverage(samples, RING_MODES, RING_STD, min_count=min_count)
    if name == 'grid':
        return mode_coverage(samples, GRID_MODES, GRID_STD, min_count=min_count)
    if name == 'swissroll':
        return swiss_roll_coverage(samples, min_count=min_count)
    raise ValueError('unknown toy data {!r}; choose from {}'.format(name, sorted(TOY_SAMPLERS)))
