"""GLO: Generative Latent Optimization (Bojanowski et al. 2017, arXiv:1707.05776).

A generator g_theta and one free code z_i per training image, trained jointly by SGD:

    min_theta (1/N) sum_i min_{z_i} l(g_theta(z_i), x_i),   z_i kept in the unit ball,

"a GAN without a discriminator, an autoencoder without an encoder". The generator is DCGAN's
(``gan.dcgan.Generator``); this package holds what is GLO's own:

* ``glo.net``: :class:`~glo.net.LatentCodes` (the codes as one N x d parameter),
  :func:`~glo.net.project` and the :class:`~glo.net.ProjectCodes` optimizer hook;
* ``glo.loss``: the Laplacian-pyramid L1 loss :func:`~glo.loss.lap1`, the squared loss,
  :func:`~glo.loss.make_loss`, :func:`~glo.loss.psnr`;
* ``glo.initialization``: PCA (default) or random initial codes;
* ``glo.updater``: :class:`~glo.updater.GLOUpdater`, the SGD step on theta and z;
* ``glo.latent``: decoding, Gaussian fit and sampling, interpolation, codes of unseen
  images with theta fixed;
* ``glo.figures``: the paper-style image figures.

The experiment is ``experiments/glo_mnist.py``; results in ``docs/results/glo.md``.
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
