"""Shared evaluation: Parzen-window log-likelihood (Goodfellow et al. 2014), classification
error, cluster accuracy (majority / AAE rule / Hungarian), MMD and PacGAN's mode statistics.

    from evaluation.parzen import parzen_evaluate
    from evaluation.metrics import classification_error, cluster_accuracy, hungarian_accuracy, mmd
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
