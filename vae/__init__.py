"""VAE family: M1 (Kingma & Welling 2013), Doersch's completion CVAE (Doersch 2016), and the
semi-supervised M2 and M1+M2 (Kingma, Rezende, Mohamed & Welling 2014). The measurements of
M1 are in :mod:`vae.likelihood` and :mod:`vae.evaluate`, its figures in :mod:`vae.figures`;
M2's data, model and analogy figure in :mod:`vae.semisup`."""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
from vae.net import VAE, M2, CompletionCVAE, CompletionRegressor  # NOQA
