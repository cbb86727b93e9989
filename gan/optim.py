"""Optimizer hooks and schedules that the GAN papers' training recipes need.

* ``L1L2Regularizer``: Keras ``kernel_regularizer=l1_l2(l1, l2)`` (seed MLP GAN's D).
* ``KerasInverseTimeDecay``: Keras ``SGD(decay=...)``, lr_t = lr_0 / (1 + decay * t).
* ``ExponentialDecay``: pylearn2 ``sgd.ExponentialDecay`` (mnist.yaml ``update_callbacks``).
* ``momentum_adjustor``: pylearn2 ``learning_rule.MomentumAdjustor`` (mnist.yaml).
"""
import chainer


class L1L2Regularizer(object):
    """Adds the gradient of  l1 * sum|W| + l2 * sum W^2  to every weight matrix's gradient:
    g <- g + l1 * sign(W) + 2 * l2 * W.

    Keras' ``regularizers.l1_l2(l1, l2)`` penalty, applied like ``kernel_regularizer`` to
    the kernels only (parameters named ``W``; biases are left alone). Register with
    ``optimizer.add_hook(L1L2Regularizer(1e-5, 1e-5))``.
    """
    name = 'L1L2Regularizer'
    call_for_each_param = True
    timing = 'pre'

    def __init__(self, l1=1e-5, l2=1e-5, param_names=('W',)):
        self.l1 = l1
        self.l2 = l2
        self.param_names = param_names

    def __call__(self, rule, param):
        p, g = param.array, param.grad
        if p is None or g is None or param.name not in self.param_names:
            return
        with chainer.using_device(param.device):
            xp = param.device.xp
            # d/dW [l1 |W|_1 + l2 |W|_2^2] = l1 sign(W) + 2 l2 W
            g += self.l1 * xp.sign(p) + (2 * self.l2) * p


class KerasInverseTimeDecay(object):
    """Keras (1.x/2.x) ``SGD(lr, decay)``: before update t (0-based), lr = lr_0 / (1 + decay t).

    An optimizer-wide 'pre' hook: it sets ``optimizer.lr`` from ``optimizer.t``, the number
    of updates done so far (Keras' ``iterations``).
    """
    name = 'KerasInverseTimeDecay'
    call_for_each_param = False
    timing = 'pre'

    def __init__(self, lr0, decay):
        self.lr0 = lr0
        self.decay = decay

    def __call__(self, optimizer):
        # lr_t = lr_0 / (1 + decay * t)
        optimizer.lr = self.lr0 / (1.0 + self.decay * optimizer.t)


class ExponentialDecay(object):
    """pylearn2 ``ExponentialDecay(decay_factor, min_lr)``: after every minibatch the
    learning rate is divided by ``decay_factor``, never below ``min_lr``;
    before update t (0-based), lr = max(lr_0 / decay_factor^t, min_lr).

    mnist.yaml: ``decay_factor: 1.000004, min_lr: .000001`` with ``learning_rate: .1``.
    """
    name = 'ExponentialDecay'
    call_for_each_param = False
    timing = 'pre'

    def __init__(self, lr0, decay_factor=1.000004, min_lr=1e-6):
        self.lr0 = lr0
        self.decay_factor = decay_factor
        self.min_lr = min_lr

    def __call__(self, optimizer):
        # lr_t = max(lr_0 / c^t, lr_min)
        optimizer.lr = max(self.lr0 / self.decay_factor ** optimizer.t, self.min_lr)


def momentum_adjustor(epoch, init=0.5, final=0.7, start=1, saturate=250):
    """pylearn2 ``MomentumAdjustor``: momentum linear from ``init`` at epoch ``start`` to
    ``final`` at epoch ``saturate``, constant outside. mnist.yaml: ``init_momentum: .5``,
    ``start: 1, saturate: 250, final_momentum: .7``. ``epoch`` counts finished epochs.
    """
    if epoch < start:
        return init
    if epoch >= saturate:
        return final
    alpha = (epoch - start) / float(saturate - start)
    return init + alpha * (final - init)


class MomentumAdjustor(chainer.training.Extension):
    """Trainer extension: sets ``optimizer.momentum`` by :func:`momentum_adjustor` each epoch."""
    trigger = (1, 'epoch')
    priority = chainer.training.PRIORITY_WRITER

    def __init__(self, optimizers, **kwargs):
        self.optimizers = optimizers
        self.kwargs = kwargs

    def __call__(self, trainer):
        m = momentum_adjustor(trainer.updater.epoch, **self.kwargs)
        for opt in self.optimizers:
            opt.momentum = m
