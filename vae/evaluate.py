"""Measurements of a trained M1 VAE: the test ELBO and the importance-sampled test NLL of the
IWAE protocol (Burda, Grosse & Salakhutdinov 2016, Sec. 5 and Table 1; :mod:`vae.likelihood`),
and the posterior and decoder means behind Kingma & Welling 2013's Fig. 4."""
import math
import time

import numpy as np
import chainer.functions as F
from scipy.stats import norm

from evaluation.inference import predict
from vae import likelihood


def decode_mean(vae, z, batch=1000):
    """The decoder's mean sigmoid(logits) of p(x|z) for the codes ``z``, as NumPy."""
    return predict(lambda zb: F.sigmoid(vae.decode(zb)), np.asarray(z, dtype=np.float32),
                   device=vae.device, batchsize=batch)


def encode_mean(vae, x, batch=1000):
    """The posterior means E[q(z|x)] of the rows of ``x``, as NumPy."""
    return predict(lambda xb: vae.encode(xb)[0], x, device=vae.device, batchsize=batch)


def manifold_codes(n=20):
    """K&W 2013 Fig. 4: an ``n`` x ``n`` grid on the unit square mapped through the Gaussian
    inverse CDF, row by row from the top (z2 falls, z1 grows)."""
    grid = norm.ppf(np.linspace(0.5 / n, 1 - 0.5 / n, n))
    return np.array([[zx, zy] for zy in grid[::-1] for zx in grid], dtype=np.float32)


def manifold_coverage(z, n=20):
    """Are the 2-D codes ``z`` where the manifold of :func:`manifold_codes` decodes (the
    prior's central square)? Their mean, std and the fraction inside that square."""
    z = np.asarray(z)
    edge = np.asarray(norm.ppf(1 - 0.5 / n), dtype=z.dtype)   # in z's precision: the grid's
    inside = np.abs(z) <= edge                                 # own edge counts as inside
    return {'mean': z.mean(axis=0), 'std': z.std(axis=0),
            'fraction_in_manifold_square': float(inside.all(1).mean())}


def likelihood_scores(vae, x, n_nll, iw_samples):
    """The IWAE Table 1 protocol on the binarised test images ``x``: the ELBO on all of
    them, the NLL by ``iw_samples``-sample importance sampling (Eq. 8) on the first
    ``n_nll``, with its standard error, the seconds it took and the -ELBO of the same
    images (the NLL must lie below it)."""
    test_elbo = likelihood.elbo(vae, x)
    t0 = time.monotonic()
    test_ll = likelihood.iw_log_likelihood(vae, x[:n_nll], n_samples=iw_samples)
    nll_seconds = time.monotonic() - t0
    return {
        'test_elbo': float(test_elbo.mean()),
        'test_nll': float(-test_ll.mean()),
        'test_nll_std_error': float(test_ll.std(ddof=1) / math.sqrt(len(test_ll))),
        'test_nll_examples': len(test_ll), 'iw_samples': iw_samples,
        'test_nll_seconds': round(nll_seconds, 1),
        'test_neg_elbo_same_examples': float(-likelihood.elbo(vae, x[:n_nll]).mean()),
    }
