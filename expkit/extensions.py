"""Trainer extensions that several experiments share."""
import chainer

from evaluation.metrics import classification_error


class TestError(chainer.training.Extension):
    """Report the classification error of ``classify`` (NumPy inputs -> predicted labels)
    on ``(x, y)``, e.g. the first test images, as ``key`` (``test/error``) every epoch."""
    trigger = (1, 'epoch')
    priority = chainer.training.PRIORITY_WRITER     # before LogReport reads the observation
    __test__ = False                                # not a pytest test class
    report_only = True          # changes no training state: rank 0 alone runs it (expkit.train)

    def __init__(self, classify, x, y, key='test/error'):
        self.classify, self.x, self.y, self.key = classify, x, y, key

    def __call__(self, trainer):
        chainer.report({self.key: classification_error(self.classify(self.x), self.y)})
