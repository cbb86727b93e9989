"""Optimizer hooks and schedules that the GAN papers' training recipes need.

* ``L1L2Regularizer``: Keras ``kernel_regularizer=l1_l2(l1, l2)`` (seed MLP GAN's D).
* ``KerasInverseTimeDecay``: Keras ``SGD(decay=...)``, lr_t = lr_0 / (1 + decay * t).
* ``ExponentialDecay``: pylearn2 ``sgd.ExponentialDecay`` (mnist.yaml ``update_callbacks``).
* ``momentum_adjustor``: pylearn2 ``learning_rule.MomentumAdjustor`` (mnist.yaml), set per
  update from the update count (:class:`MomentumAdjustor`).

Both schedules count updates: ExponentialDecay divides per minibatch; MomentumAdjustor's
epochs are those of mnist.yaml (``MNIST which_set: 'train', start: 0, stop: 50000`` with
``batch_size: 100``: 500 updates, :data:`YAML_UPDATES_PER_EPOCH`), whatever the size of the
training set a run uses.
"""
import chainer

YAML_UPDATES_PER_EPOCH = 50000 // 100     # goodfeli/adversarial mnist.yaml


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


def momentum_adjustor(count, init=0.5, final=0.7, start=1, saturate=250):
    """pylearn2 ``MomentumAdjustor.current_momentum``: momentum linear from ``init`` at
    ``count == start`` to ``final`` at ``count == saturate``, constant outside.
    mnist.yaml: ``init_momentum: .5``, ``start: 1, saturate: 250, final_momentum: .7``.
    ``count`` is pylearn2's ``_count``, the number of ``on_monitor`` calls: one before
    training and one after each epoch, i.e. finished epochs + 1 during training.
    """
    if count < start:
        return init
    if count >= saturate:
        return final
    alpha = (count - start) / float(saturate - start)
    return init + alpha * (final - init)


class MomentumAdjustor(chainer.training.Extension):
    """Trainer extension: before every update, sets ``optimizer.momentum`` to
    :func:`momentum_adjustor` of ``updates // updates_per_epoch + 1`` (mnist.yaml's epochs:
    500 updates). Stateless, so a resumed run gets the right momentum from its first update.
    """
    trigger = (1, 'iteration')
    priority = chainer.training.PRIORITY_WRITER

    def __init__(self, optimizers, updates_per_epoch=YAML_UPDATES_PER_EPOCH, **kwargs):
        self.optimizers = optimizers
        self.updates_per_epoch = updates_per_epoch
        self.kwargs = kwargs

    def __call__(self, trainer):
        count = trainer.updater.iteration // self.updates_per_epoch + 1
        m = momentum_adjustor(count, **self.kwargs)
        for opt in self.optimizers:
            opt.momentum = m

    def initialize(self, trainer):
        self(trainer)

    def describe(self):
        """The schedule in updates, for results.json."""
        k = dict(init=0.5, final=0.7, start=1, saturate=250)
        k.update(self.kwargs)
        u = self.updates_per_epoch
        return {'momentum_init': k['init'], 'momentum_final': k['final'],
                'rises_from_update': (k['start']) * u,
                'reaches_final_at_update': (k['saturate'] - 1) * u,
                'steps_every_updates': u}
