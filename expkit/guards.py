"""NaN and divergence guards: a run whose loss or parameters stop being finite ends at once.

:class:`FiniteGuard` is a Trainer extension that :meth:`expkit.Experiment.trainer` adds to
every run. After every update it checks each value reported in that update (the losses of
every phase, e.g. ``main/loss_dis``); at each new epoch, and before every snapshot is
written, it checks every parameter of every optimiser's target. On the first value that is
NaN or infinite it writes ``results.json`` marked ``"diverged": true`` (with the phase, the
update and the last good snapshot), and raises :class:`Diverged`, which ``expkit.run_main``
turns into one line on stderr and exit status 3. No snapshot is written after the state went
bad, so the newest ``snapshot_iter_*.npz`` is the last good one.
"""
import os

import chainer

EXIT_DIVERGED = 3


class Diverged(BaseException):
    """The run diverged; ``info`` holds phase, update, epoch and the last good snapshot.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that chainer's ``Trainer.run``
    passes it on without printing its traceback, which it does for every ``Exception``.
    """

    def __init__(self, message, info):
        super().__init__(message)
        self.info = info


def _finite(value):
    if isinstance(value, chainer.Variable):
        value = value.array
    if isinstance(value, (bool, int, str)) or value is None:
        return True
    xp = chainer.backend.get_array_module(value)
    try:
        return bool(xp.isfinite(value).all())
    except TypeError:          # not numeric
        return True


class FiniteGuard(chainer.training.Extension):
    """Stop the run at the first non-finite loss or parameter (see the module docstring)."""
    trigger = (1, 'iteration')
    priority = chainer.training.PRIORITY_WRITER + 100     # first after the update
    name = 'finite_guard'

    def __init__(self, exp, last_snapshot=None):
        self.exp = exp
        self.last_snapshot = last_snapshot      # the resumed snapshot, until one is written
        self._trainer = None

    def initialize(self, trainer):
        self._trainer = trainer

    def __call__(self, trainer):
        problem = self.find(trainer, trainer.updater.is_new_epoch)
        dist = getattr(self.exp, 'dist', None)
        if dist is not None and dist.comm is not None:    # every rank stops together
            problem = dist.first_of(problem)
        if problem is not None:
            self.diverge(trainer, *problem)

    def find(self, trainer, parameters=False):
        """The first non-finite reported value (and with ``parameters``, parameter) as
        ``(phase, what)``, or None."""
        for key, value in trainer.observation.items():
            if not _finite(value):
                value = value.array if isinstance(value, chainer.Variable) else value
                return key, '%s is %s' % (key, _describe(value))
        if parameters:
            for opt_name, opt in sorted(trainer.updater.get_all_optimizers().items()):
                for path, param in opt.target.namedparams():
                    if param.array is not None and not _finite(param.array):
                        phase = 'parameter %s%s' % (opt_name, path)
                        return phase, '%s is %s' % (phase, _describe(param.array))
        return None

    def check_parameters(self, trainer):
        problem = self.find(trainer, parameters=True)
        if problem is not None:
            self.diverge(trainer, *problem)

    def saving(self, savefun):
        """``savefun`` for the trainer snapshot (it gets the trainer serialised into a dict
        of arrays): refuse to write a state with a non-finite array in it."""
        def save(filename, state):
            for key in sorted(state):
                value = state[key]
                if getattr(value, 'dtype', None) is not None and value.dtype.kind == 'f' \
                        and not _finite(value):
                    self.diverge(self._trainer, key, 'the snapshot entry %s is %s'
                                 % (key, _describe(value)))
            savefun(filename, state)
            self.last_snapshot = os.path.join(self.exp.out, os.path.basename(filename))
        return save

    def diverge(self, trainer, phase, what):
        updater = trainer.updater
        info = {'phase': phase, 'update': updater.iteration,
                'epoch': round(float(updater.epoch_detail), 4),
                'last_good_snapshot': self.last_snapshot}
        self.exp.finish_diverged(info)
        kept = ('kept the last good snapshot %s' % self.last_snapshot if self.last_snapshot
                else 'no snapshot was written before it')
        raise Diverged('diverged: %s at update %d (epoch %.2f); %s and %s marked diverged; '
                       'lower the learning rate, or resume from the snapshot with another '
                       '--seed' % (what, updater.iteration, updater.epoch_detail, kept,
                                   os.path.join(self.exp.out, 'results.json')), info)


def _describe(array):
    xp = chainer.backend.get_array_module(array)
    return 'nan' if bool(xp.isnan(array).any()) else 'inf'
