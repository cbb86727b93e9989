"""Real digits made into "samples": the reference rows of the Parzen and generator tables
(experiments/parzen_reference.py, experiments/evaluate_generators.py). A Parzen window on
training digits blurred by about a pixel outscores one on the digits themselves; these rows
show what a number rewards."""
import numpy as np
from scipy.ndimage import gaussian_filter
from sklearn.decomposition import PCA


def blurred(x, shape, pixels):
    """Each image smoothed by a Gaussian of ``pixels`` standard deviation."""
    return np.stack([gaussian_filter(im.reshape(shape), pixels).ravel() for im in x]).astype(
        x.dtype)


def pca_reconstructions(x_fit, x, n_components, seed=0):
    """x projected on the first ``n_components`` principal components of ``x_fit`` and back,
    clipped to the pixel range [0, 1]."""
    pca = PCA(n_components, random_state=seed).fit(x_fit)
    return np.clip(pca.inverse_transform(pca.transform(x)), 0, 1).astype(x.dtype)
