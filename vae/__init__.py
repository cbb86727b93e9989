"""VAE family: M1 (Kingma & Welling 2013), Doersch's completion CVAE (Doersch 2016), and the
semi-supervised M2 and M1+M2 (Kingma, Rezende, Mohamed & Welling 2014)."""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
from vae.net import VAE, M2, CompletionCVAE, CompletionRegressor  # NOQA
