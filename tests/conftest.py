"""Test setup: the compatibility shims go in before any test module imports chainer."""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
