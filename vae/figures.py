"""Figures of the M1 VAE: samples, reconstructions, the 2-D latent scatter and manifold of
Kingma & Welling 2013 (Fig. 4), and the test bound against the IWAE paper's NLL (Burda,
Grosse & Salakhutdinov 2016, Table 1)."""
import numpy as np
import matplotlib.pyplot as plt

from expkit import plots
from vae.evaluate import decode_mean, manifold_codes


def grid_figure(images, nrow, title, inches=6.0):
    """A grid of images, ``nrow`` per row, ``inches`` wide."""
    fig, ax = plt.subplots(figsize=(inches, inches * len(images) / nrow / nrow + 0.4))
    plots.image_grid(images, nrow, ax=ax, title=title)
    return fig


def samples_figure(samples, z_dim):
    """The decoder's means at 100 prior samples z ~ N(0, I) (K&W 2013 Fig. 5's samples)."""
    return grid_figure(samples[:100], 10, 'samples: mean of p(x|z), z ~ N(0, I), N_z = %d'
                       % z_dim)


def reconstructions_figure(originals, recon):
    """50 test digits (rows 1, 3, ...) above their reconstructions (rows 2, 4, ...)."""
    pairs = np.concatenate([originals.reshape(5, 10, 784), recon.reshape(5, 10, 784)],
                           axis=1).reshape(-1, 784)
    return grid_figure(pairs, 10, 'test digits (rows 1, 3, ...) and their reconstructions')


def latent_figure(z, labels):
    """K&W 2013 Fig. 4's companion: the 2-D posterior means of the test images by digit."""
    fig, ax = plt.subplots(figsize=(6, 6))
    plots.scatter_codes(ax, z, labels, title='test codes E[q(z|x)], N_z = 2')
    return fig


def manifold_figure(vae, n=20):
    """K&W 2013 Fig. 4a: the decoder of the 2-D model on :func:`vae.evaluate
    .manifold_codes`."""
    return grid_figure(decode_mean(vae, manifold_codes(n)), n,
                       'learned 2-D manifold (K&W 2013 Fig. 4a)', inches=8.0)


def test_bound_curve(trainer, title, paper_nll, measured):
    """The test -ELBO logged every epoch against updates, beside IWAE Table 1's NLL
    ``paper_nll`` (dashed) and our final NLL (a dot; ``measured``: :func:`vae.evaluate
    .likelihood_scores`)."""
    curve = plots.log_points(trainer, 'test/neg_elbo')
    return plots.metric_curve(
        curve, 'test -ELBO (nats)', title=title,
        references=[(paper_nll, 'paper: IWAE Table 1 VAE, NLL k=5000')],
        final=(curve[-1][0] if curve else 0, measured['test_nll'],
               'ours: NLL k=%d, %d test images' % (measured['iw_samples'],
                                                   measured['test_nll_examples'])))
