"""Adversarial autoencoders (Makhzani, Shlens, Jaitly, Goodfellow, Frey; arXiv:1511.05644).

* :mod:`aae.net`      -- deterministic encoder, decoder, discriminator (two-unit softmax or a
  sigmoid unit, optional input noise, optional one-hot label input with an "unlabelled" slot);
* :mod:`aae.loss`     -- reconstruction, discriminator, generator and supervised losses;
* :mod:`aae.updater`  -- the per-minibatch phases (reconstruction, then regularization:
  discriminator, then encoder as generator; plus the semi-supervised phase);
* :mod:`aae.optim`    -- the paper's SGD settings and schedule, or the seed author's Adam;
* :mod:`aae.priors`   -- the imposed priors by name;
* :mod:`aae.evaluate` -- inference helpers and the measurements of Tables 2-3 and Fig. 4;
* :mod:`aae.figures`  -- the paper's figures of codes and decoder images (Figs. 2, 4, 9-11);
* :mod:`aae.options`  -- command-line options shared by ``experiments/aae_*.py``.
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
