"""Optimisers and schedules of the VAE family that follow a paper's released code.

IWAE (Burda, Grosse & Salakhutdinov 2016, Sec. 5; yburda/iwae ``experiments.py`` and
``optimizers.py``), used by ``vae_mnist.py --recipe iwae``:

* Adam with beta1 = 0.99, beta2 = 0.999 and 1e-4 added to sqrt(v) (``optimizers.Adam``), the
  step bias-corrected as in Kingma & Ba; its second moments start at **one**, not zero
  (``shared_ones_like``), which damps the first thousands of steps of every parameter whose
  gradient is small (:class:`IWAEAdam`). Not reproduced: Theano evaluates every update from
  the old shared values, so there the parameter step uses the moments of the previous step
  (a one-step lag).
* minibatch 20; 8 stages, stage i = 1..8 runs 3^(i-1) epochs at learning rate
  1e-4 * round(10^(1 - (i-1)/7), 1), i.e. 1e-3 down to 1e-4, 3,280 epochs in all
  (``checkpoint1to8``; :data:`IWAE_STAGES`, :class:`StagedLearningRate`).

nips14-ssl (Kingma et al. 2014; dpkingma/nips14-ssl ``adam.py``), used by M2 in
``m1m2_semisupervised.py --recipe nips14``: :class:`NIPS14Adam`.
"""
import chainer
from chainer import optimizer as chainer_optimizer
from chainer.optimizers import adam

#: (epochs, learning rate) of the IWAE stages, in order (``checkpoint1to8``)
IWAE_STAGES = tuple((3 ** (i - 1), 1e-4 * round(10. ** (1 - (i - 1) / 7.), 1))
                    for i in range(1, 9))
IWAE_ADAM = dict(beta1=0.99, beta2=0.999, eps=1e-4)
IWAE_BATCHSIZE = 20


class _OnesSecondMomentRule(adam.AdamRule):
    def init_state(self, param):
        super().init_state(param)
        self.state['v'].fill(1)          # optimizers.py: second_moments = shared_ones_like


class IWAEAdam(adam.Adam):
    """chainer's Adam with IWAE's hyperparameters and second moments initialised to one."""

    def __init__(self, alpha=1e-3):
        super().__init__(alpha=alpha, **IWAE_ADAM)

    def create_update_rule(self):
        return _OnesSecondMomentRule(self.hyperparam)


def stage_boundaries(stages, updates_per_epoch):
    """``[(first update of the stage, lr), ...]`` for ``stages`` of ``(epochs, lr)``."""
    out, start = [], 0
    for epochs, lr in stages:
        out.append((start, lr))
        start += int(round(epochs * updates_per_epoch))
    return out


def total_epochs(stages):
    return sum(epochs for epochs, _ in stages)


class StagedLearningRate(chainer.training.Extension):
    """Set the optimiser's ``attr`` (Adam's ``alpha``) to the rate of the stage the next
    update belongs to; stages are given by their first update (:func:`stage_boundaries`).

    Stateless (computed from the iteration before every update), so a resumed run is on the
    right stage."""
    trigger = (1, 'iteration')
    priority = chainer.training.PRIORITY_WRITER + 1

    def __init__(self, optimizer, boundaries, attr='alpha'):
        self.optimizer, self.boundaries, self.attr = optimizer, list(boundaries), attr

    def rate(self, iteration):
        current = self.boundaries[0][1]
        for first, lr in self.boundaries:
            if iteration >= first:
                current = lr
        return current

    def __call__(self, trainer):
        setattr(self.optimizer, self.attr, self.rate(trainer.updater.iteration))
        chainer.report({'lr': getattr(self.optimizer, self.attr)})

    def initialize(self, trainer):
        setattr(self.optimizer, self.attr, self.rate(trainer.updater.iteration))


class _NIPS14AdamRule(chainer_optimizer.UpdateRule):
    """nips14-ssl ``adam.py`` ``optim_minibatch``: m += (1 - beta1)(g - m);
    v += (1 - beta2)(g^2 - v); w -= alpha m / sqrt(v).  The file computes the bias-corrected
    ``alpha_t`` and never uses it, and adds no epsilon, so the first steps are about
    alpha (1 - beta1) / sqrt(1 - beta2) = 3.16 alpha per weight.  Where v is exactly zero
    (a gradient that was always zero) the step is zero instead of 0/0.  Not an
    ``AdamRule`` subclass, so :mod:`fused_updates` leaves it alone."""

    def init_state(self, param):
        xp = chainer.backend.get_array_module(param.data)
        with chainer.using_device(param.device):
            self.state['m'] = xp.zeros_like(param.data)
            self.state['v'] = xp.zeros_like(param.data)

    def update_core_cpu(self, param):
        grad = param.grad
        if grad is None:
            return
        hp, m, v = self.hyperparam, self.state['m'], self.state['v']
        xp = chainer.backend.get_array_module(grad)
        m += (1 - hp.beta1) * (grad - m)                       # adam.py: m1 += (1-b1)(g-m1)
        v += (1 - hp.beta2) * (grad * grad - v)                # adam.py: m2 += (1-b2)(g^2-m2)
        root = xp.sqrt(v)
        step = xp.where(root > 0, m / xp.where(root > 0, root, 1), 0)
        param.data -= (hp.alpha * step).astype(param.data.dtype)   # w -= alpha m1/sqrt(m2)

    update_core_gpu = update_core_cpu


class NIPS14Adam(chainer_optimizer.GradientMethod):
    """Adam as nips14-ssl's ``adam.py`` runs it: no bias correction, no epsilon
    (defaults alpha 3e-4, beta1 0.9, beta2 0.999, as ``learn_yz_x_ss.py`` calls it)."""

    alpha = chainer_optimizer.HyperparameterProxy('alpha')
    beta1 = chainer_optimizer.HyperparameterProxy('beta1')
    beta2 = chainer_optimizer.HyperparameterProxy('beta2')

    def __init__(self, alpha=3e-4, beta1=0.9, beta2=0.999):
        super().__init__()
        self.hyperparam.alpha, self.hyperparam.beta1, self.hyperparam.beta2 = \
            alpha, beta1, beta2

    def create_update_rule(self):
        return _NIPS14AdamRule(self.hyperparam)
