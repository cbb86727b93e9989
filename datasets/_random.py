"""The ``rng`` argument shared by the samplers: None, an int seed, a ``np.random.Generator``,
a ``np.random.RandomState``, or a ``cupy.random.RandomState`` (then the samples are made on
that GPU: :func:`array_module` is CuPy).

None uses NumPy's global state (which ``expkit.Experiment`` seeds from ``--seed``), so runs
stay reproducible without threading an rng through every call.
"""
import numpy as np


def as_rng(rng=None):
    if rng is None:
        return np.random.mtrand._rand            # the global RandomState behind np.random.*
    if isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return rng
    if _is_cupy(rng):
        return rng
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(int(rng))
    raise TypeError('rng must be None, an int seed, a numpy Generator or RandomState or a cupy '
                    'RandomState, '
                    'not {!r}'.format(type(rng).__name__))


def _is_cupy(rng):
    return type(rng).__module__.split('.')[0] == 'cupy'


def array_module(rng):
    """``numpy``, or ``cupy`` for a CuPy random state (imported only then)."""
    if _is_cupy(rng):
        import cupy
        return cupy
    return np


def integers(rng, high, size):
    """Uniform integers in ``[0, high)`` from either kind of numpy rng."""
    if isinstance(rng, np.random.Generator):
        return rng.integers(0, high, size=size)
    return rng.randint(0, high, size=size)


def uniform01(rng, size):
    if isinstance(rng, np.random.Generator):
        return rng.random(size)
    return rng.random_sample(size)
