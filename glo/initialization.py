"""Initial codes for GLO: PCA of the training images (default) or Gaussian noise.

Bojanowski et al., arXiv:1707.05776, §3 ("Initialization"): the codes can be initialised
at random from the Gaussian prior or from the PCA of the raw pixels; the public
reproducers (tneumann/minimal_glo) report that the PCA initialisation is crucial (random
initialisation reaches a much higher loss after the same number of epochs). Either way the
initial codes are then put in the unit ball (or on the sphere) with the same projection
as training, z_i^0 = P(PCA_d(x_i)), so they start where the training keeps them.
"""
import numpy

from glo.net import project

#: ``--set init=...`` choices
INITS = ('pca', 'random')


def fit_pca(x, dim, seed=0):
    """scikit-learn PCA with ``dim`` components fitted to images ``x`` (N, D)."""
    from sklearn.decomposition import PCA
    x = numpy.asarray(x, dtype=numpy.float64).reshape(len(x), -1)
    if dim > min(x.shape):
        raise ValueError('PCA init needs dim <= min(N, D) = %d, got dim=%d; use --set init=random'
                         % (min(x.shape), dim))
    return PCA(n_components=dim, random_state=seed).fit(x)


def pca_codes(x, dim, projection='ball', seed=0, pca=None):
    """Codes P(PCA_d(x_i)) of images ``x`` (N, D): (codes float32 (N, dim), fitted PCA).

    Pass a fitted ``pca`` to encode other images (held-out ones) with the training PCA.
    """
    pca = pca if pca is not None else fit_pca(x, dim, seed)
    z = pca.transform(numpy.asarray(x, dtype=numpy.float64).reshape(len(x), -1))
    return project(z, projection).astype(numpy.float32), pca


def random_codes(n, dim, projection='ball', seed=0):
    """Codes P(z_i), z_i ~ N(0, I_d) (the prior), float32 (n, dim)."""
    z = numpy.random.RandomState(seed).standard_normal((n, dim))
    return project(z, projection).astype(numpy.float32)


def initial_codes(init, x, dim, projection='ball', seed=0):
    """``--set init=...`` dispatch: (codes, pca or None)."""
    if init == 'pca':
        return pca_codes(x, dim, projection, seed)
    if init == 'random':
        return random_codes(len(x), dim, projection, seed), None
    raise ValueError('init must be one of %s, got %r' % (INITS, init))


__all__ = ['INITS', 'fit_pca', 'pca_codes', 'random_codes', 'initial_codes']
