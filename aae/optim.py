"""Optimisers and learning-rate schedule of the AAE.

Two settings, chosen with ``kind``:

``'sgd'`` (default): the paper's SGD with momentum, as transcribed by its reproducers from
arXiv:1511.05644v2, Appendix (MNIST experiment setup):

* reconstruction phase (encoder + decoder): lr 0.01, momentum 0.9;
* regularization phase (discriminator, and the encoder as generator): lr 0.1, momentum 0.1;
* semi-supervised classification phase (Sec. 5): the regularization setting (our
  assumption: the transcription gives only the two settings above);
* every learning rate divided by 10 after epoch 50 and again after epoch 1000 of the paper's
  50,000-image training set at batch 100, i.e. after 25,000 and 500,000 updates
  (:data:`LR_DROP_UPDATES`, :class:`LRDrops`). The schedule counts updates, so it does
  not move with the size of the training set a run uses.

``'adam'``: the seed article's author's setting (musyoku/adversarial-autoencoder,
``run/*/train.py``: ``--optimizer adam --learning-rate 0.0001 --momentum 0.5 --grad-clip
5``), i.e. Adam(alpha=1e-4, beta1=0.5) with gradient-norm clipping at 5 for every network,
no schedule. As in that code the encoder then uses one optimiser for both phases
(:func:`make_optimizers` leaves out ``'gen'``), and the scripts reduce the reconstruction
cost by its mean over pixels (``F.mean_squared_error`` there, ``--set rec-loss=mean``) unless
told otherwise: with one Adam for both encoder phases a 784x larger reconstruction
gradient would swamp the generator phase's in Adam's second-moment estimate.

``'adam-phase'``: ours, not the paper's nor the seed's (``--recipe fast``): one Adam per
phase, as the other public reproductions do (e.g. the PyTorch AAE of fducau/AAE_pytorch):
the encoder gets three (reconstruction, generator, supervised), each discriminator one, so
each phase's step size does not depend on its loss scale. Defaults
:data:`ADAM_PHASE` (beta1 0.5 throughout; alpha 1e-3 for the reconstruction and supervised
phases, 1e-4 for the adversarial ones), overridable per phase with ``lr``.
The Adam settings have no schedule unless one is asked for (``--set lr-drop-updates``: every
alpha divided by 10 at each point, :class:`LRDrops`).

The encoder is updated in two phases with *different* SGD settings, so it gets two
optimisers, each with its own momentum buffers. Chainer keeps a parameter's update rule on
the parameter itself, so :func:`bind` remembers each optimiser's rules and
:func:`activate` puts them back before that optimiser updates or is serialised
(`aae.updater` does both).
"""
import math

import chainer

from expkit.distributed import unwrap
from fused_updates import FlushDenormals

SGD_RECONSTRUCTION = dict(lr=0.01, momentum=0.9)
SGD_REGULARIZATION = dict(lr=0.1, momentum=0.1)
ADAM_SEED = dict(alpha=1e-4, beta1=0.5)
ADAM_SEED_GRAD_CLIP = 5.0
ADAM_PHASE = {'rec': dict(alpha=1e-3, beta1=0.5), 'reg': dict(alpha=1e-4, beta1=0.5),
              'sup': dict(alpha=1e-3, beta1=0.5)}
OPTIMIZER_KINDS = ('sgd', 'adam', 'adam-phase')
LR_DROP_EPOCHS = (50, 1000)
PAPER_UPDATES_PER_EPOCH = 50000 // 100       # the paper's 50k training images, batch 100
LR_DROP_UPDATES = tuple(e * PAPER_UPDATES_PER_EPOCH for e in LR_DROP_EPOCHS)   # 25k, 500k

#: which SGD setting each phase's optimiser uses
PHASE_SETTINGS = {'rec': SGD_RECONSTRUCTION, 'reg': SGD_REGULARIZATION,
                  'sup': SGD_REGULARIZATION}


def bind(optimizer, link):
    """``optimizer.setup(link)``, remembering its update rules for :func:`activate`. Every rule
    zeroes float32 subnormals in its parameter and state every 100 updates
    (:class:`fused_updates.FlushDenormals`): with beta1 0.5 (Adam) or momentum 0.1 (SGD) the
    state of units whose gradient has nearly stopped decays into subnormals within ~130
    updates, on which the CPU is ~10x slower (measured on Table 2's --recipe fast: 11 % of all
    optimiser state subnormal at update 7,023, 61 % of the encoder's second matrix's m)."""
    optimizer.setup(link)
    for param in link.params():
        param.update_rule.add_hook(FlushDenormals())
    optimizer.aae_rules = {name: p.update_rule for name, p in link.namedparams()}
    return optimizer


def activate(optimizer):
    """Re-attach this optimiser's update rules to its target's parameters."""
    rules = getattr(optimizer, 'aae_rules', None)
    if rules is not None:
        for name, param in optimizer.target.namedparams():
            param.update_rule = rules[name]


def make_optimizer(link, phase, kind='sgd', lr=None):
    """One optimiser for ``link`` in phase 'rec', 'reg' or 'sup' (see module docstring);
    ``lr`` (SGD's lr or Adam's alpha) overrides the setting's."""
    if kind == 'sgd':
        opt = chainer.optimizers.MomentumSGD(**dict(PHASE_SETTINGS[phase],
                                                    **({'lr': lr} if lr else {})))
    elif kind == 'adam-phase':
        opt = chainer.optimizers.Adam(**dict(ADAM_PHASE[phase],
                                             **({'alpha': lr} if lr else {})))
    elif kind == 'adam':
        opt = bind(chainer.optimizers.Adam(**ADAM_SEED), link)
        opt.add_hook(chainer.optimizer_hooks.GradientClipping(ADAM_SEED_GRAD_CLIP))
        return opt
    else:
        raise ValueError('optimizer kind must be one of %s, got %r' % (OPTIMIZER_KINDS, kind))
    return bind(opt, link)


def make_optimizers(enc, dec, dis, kind='sgd', extra_dis=None, supervised=False,
                    heads=None, lr=None):
    """The optimiser dict the updaters expect.

    ``enc``/``dec``: reconstruction phase; ``dis`` (and ``extra_dis``: a dict name -> link,
    e.g. the y discriminator): regularization phase; ``gen``: the encoder in the
    regularization phase (SGD only; Adam shares ``enc`` like the seed code); ``sup``: the
    encoder in the semi-supervised classification phase; ``heads`` (Sec. 7): the cluster
    heads, with the reconstruction setting (our assumption: the paper says only "SGD").
    ``lr``: None or a dict phase ('rec', 'reg', 'sup') -> learning rate overriding the
    setting's (not for the seed's single Adam).
    """
    lr = lr or {}

    def make(link, phase):
        return make_optimizer(link, phase, kind, lr.get(phase))
    opts = {'enc': make(enc, 'rec'), 'dec': make(dec, 'rec'), 'dis': make(dis, 'reg')}
    for name, link in (extra_dis or {}).items():
        opts[name] = make(link, 'reg')
    if kind != 'adam':                      # one optimiser per phase
        opts['gen'] = make(enc, 'reg')
        if supervised:
            opts['sup'] = make(enc, 'sup')
    elif supervised:
        opts['sup'] = opts['enc']
    if heads is not None:
        opts['heads'] = make(heads, 'rec')
    return opts


#: the step-size hyperparameter of each optimiser class the AAE uses
STEP_SIZE_ATTR = {chainer.optimizers.MomentumSGD: 'lr', chainer.optimizers.Adam: 'alpha'}


class LRDrops(chainer.training.Extension):
    """Set every optimiser's step size (SGD's ``lr``, Adam's ``alpha``) to ``base * factor **
    (number of drop points already reached)``, a drop point being a number of updates
    (trainer iterations).

    Stateless (computed from the updater's iteration every iteration), so a run resumed
    from a snapshot gets the right rate.
    """
    trigger = (1, 'iteration')
    priority = chainer.training.PRIORITY_WRITER + 1     # before the next update
    name = 'lr_drops'

    def __init__(self, optimizers, updates=LR_DROP_UPDATES, factor=0.1):
        self.updates, self.factor = sorted(u for u in updates if u > 0), factor
        self.base = []
        for opt in map(unwrap, optimizers):       # inside ChainerMN's multi-node wrapper
            attr = STEP_SIZE_ATTR.get(type(opt))
            if attr and all(opt is not o for o, _, _ in self.base):
                self.base.append((opt, attr, getattr(opt, attr)))

    def __call__(self, trainer):
        n_drops = sum(trainer.updater.iteration >= u for u in self.updates)
        for opt, attr, base in self.base:
            setattr(opt, attr, base * self.factor ** n_drops)

    def initialize(self, trainer):
        self(trainer)

    @classmethod
    def for_run(cls, updater, optimizers, lr_drops):
        """The drops ``lr_drops`` (``(values, 'update' or 'epoch')``, see
        :func:`drop_updates`) of every optimiser in the dict ``optimizers``; ``schedule``
        describes them for results.json (``lr_schedule``)."""
        updates = drop_updates(updater, lr_drops)
        drops = cls(optimizers.values(), updates)
        drops.schedule = {
            'divide_by_10_after_updates': updates,
            'given_as': '%s %s' % (','.join(map(str, lr_drops[0])) or 'no', lr_drops[1] + 's'),
            'updates_per_epoch': updates_per_epoch(updater)}
        return drops


def updates_per_epoch(updater):
    """Iterations per epoch of ``updater``'s main iterator (dataset size / batch size)."""
    it = updater.get_iterator('main')
    return len(it.dataset) / float(it.batch_size)


def drop_updates(updater, lr_drops):
    """The drop points in updates: ``lr_drops`` is ``(values, 'update')``, or
    ``(values, 'epoch')`` in epochs of this run (converted with :func:`updates_per_epoch`:
    the first update at or after each epoch boundary)."""
    values, unit = lr_drops
    if unit == 'update':
        return [int(u) for u in values]
    per_epoch = updates_per_epoch(updater)
    return [int(math.ceil(e * per_epoch - 1e-9)) for e in values]
