"""GANs in Chainer: the seed article's Keras MLP GAN, Goodfellow et al. 2014 (as in
goodfeli/adversarial's mnist.yaml), DCGAN (Radford et al. 2015) and the
optimal-discriminator check of Goodfellow et al. 2014, Proposition 1 / Theorem 1.

Modules: ``net`` (MLP, Goodfellow and toy Chains), ``dcgan`` (DCGAN Generator and
Discriminator, reused by ``glo``), ``loss`` (the objectives on logits), ``optim`` (optimizer
hooks and schedules), ``updater`` (training steps), ``optimal_discriminator`` and ``toy``
(mode-coverage metrics for the 2-D mixtures).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
