"""NaN and divergence guards: a run whose loss or parameters stop being finite ends at once.

:class:`FiniteGuard` is a Trainer extension that :meth:`expkit.Experiment.trainer` adds to
every run. After every update it checks each value reported in that update (the losses of
every phase, e.g. ``main/loss_dis``); at each new epoch, and before every snapshot is
written, it checks every parameter of every optimiser's target. On the first value that is
NaN or infinite it writes ``results.json`` marked ``"diverged": true`` (with the phase, the
update and the last good snapshot), and raises :class:`Diverged`, which ``expkit.run_main``
turns into one line on stderr and exit status 3. No snapshot is written after the state went
bad, so the newest ``snapshot_iter_*.npz`` is the last good one.

On a GPU, reading a value to decide "finite?" makes the host wait for the device, so there
the guard checks on the device and reads once per log interval: after every update it folds
each reported value into a device-side record (the first update at which the value was not
finite, and whether it was NaN), and reads that record, one small copy, at each log
interval, each new epoch and before every snapshot. The run then stops at the end of the log
interval in which it diverged (not at the update itself), reporting the update and phase
where it first went bad; no snapshot is written after it.
"""
import copy
import os

import numpy

import chainer
from chainer import backend

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
    xp = backend.get_array_module(value)
    try:
        return bool(xp.isfinite(value).all())
    except TypeError:          # not numeric
        return True


class FiniteGuard(chainer.training.Extension):
    """Stop the run at the first non-finite loss or parameter (see the module docstring)."""
    trigger = (1, 'iteration')
    priority = chainer.training.PRIORITY_WRITER + 100     # first after the update
    name = 'finite_guard'

    def __init__(self, exp, last_snapshot=None, check_trigger=(1, 'epoch')):
        self.exp = exp
        self.last_snapshot = last_snapshot      # the resumed snapshot, until one is written
        self._trainer = None
        # its own trigger object: an interval trigger called twice per update would skip
        self.check_trigger = chainer.training.get_trigger(
            check_trigger if isinstance(check_trigger, tuple) else copy.deepcopy(check_trigger))
        self._pending = {}     # GPU: key -> (first non-finite update or -1, was it NaN)

    def initialize(self, trainer):
        self._trainer = trainer

    def __call__(self, trainer):
        if self.record_on_device(trainer):     # a GPU: read the record once per interval
            if not (self.check_trigger(trainer) or trainer.updater.is_new_epoch):
                return
            problem = self.read_pending()
            if problem is None and trainer.updater.is_new_epoch:
                problem = self.find(trainer, parameters=True, observation=False)
        else:
            problem = self.find(trainer, trainer.updater.is_new_epoch)
        dist = getattr(self.exp, 'dist', None)
        if dist is not None and dist.comm is not None:    # every rank stops together
            problem = dist.first_of(problem)
        if problem is not None:
            self.diverge(trainer, *problem)

    def record_on_device(self, trainer):
        """Fold this update's reported device arrays into the device-side record; True if
        there were any (then the run is on a GPU and :meth:`read_pending` decides)."""
        on_device = False
        iteration = trainer.updater.iteration
        for key, value in trainer.observation.items():
            array = value.array if isinstance(value, chainer.Variable) else value
            xp = backend.get_array_module(array)
            if xp is numpy or getattr(array, 'dtype', None) is None \
                    or array.dtype.kind not in 'fc':
                continue
            on_device = True
            bad = ~xp.isfinite(array).all()
            first, nan = self._pending.get(key) or (xp.full((), -1, 'i8'),
                                                    xp.zeros((), bool))
            new = bad & (first < 0)
            self._pending[key] = (xp.where(new, iteration, first),
                                  xp.where(new, xp.isnan(array).any(), nan))
        return on_device

    def read_pending(self):
        """``(phase, what, update)`` of the earliest non-finite value in the device record,
        or None; one copy to the host for all of them."""
        if not self._pending:
            return None
        keys = sorted(self._pending)
        xp = backend.get_array_module(self._pending[keys[0]][0])
        record = backend.CpuDevice().send(xp.stack(
            [xp.stack([self._pending[k][0], self._pending[k][1].astype('i8')]) for k in keys]))
        bad = [(int(first), key, bool(nan)) for key, (first, nan) in zip(keys, record)
               if first >= 0]
        if not bad:
            return None
        first, key, nan = min(bad)
        return key, '%s is %s' % (key, 'nan' if nan else 'inf'), first

    def find(self, trainer, parameters=False, observation=True):
        """The first non-finite reported value (and with ``parameters``, parameter) as
        ``(phase, what)``, or None."""
        for key, value in trainer.observation.items() if observation else ():
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
        problem = self.read_pending() or self.find(trainer, parameters=True)
        if problem is not None:
            self.diverge(trainer, *problem)

    def saving(self, savefun):
        """``savefun`` for the trainer snapshot (it gets the trainer serialised into a dict
        of arrays): refuse to write a state with a non-finite array in it."""
        def save(filename, state):
            pending = self.read_pending()
            if pending is not None:
                self.diverge(self._trainer, *pending)
            for key in sorted(state):
                value = state[key]
                if getattr(value, 'dtype', None) is not None and value.dtype.kind == 'f' \
                        and not _finite(value):
                    self.diverge(self._trainer, key, 'the snapshot entry %s is %s'
                                 % (key, _describe(value)))
            savefun(filename, state)
            self.last_snapshot = os.path.join(self.exp.out, os.path.basename(filename))
        return save

    def diverge(self, trainer, phase, what, update=None):
        updater = trainer.updater
        update = updater.iteration if update is None else update
        info = {'phase': phase, 'update': update,
                'epoch': round(float(updater.epoch_detail), 4),
                'last_good_snapshot': self.last_snapshot}
        self.exp.finish_diverged(info)
        kept = ('kept the last good snapshot %s' % self.last_snapshot if self.last_snapshot
                else 'no snapshot was written before it')
        raise Diverged('diverged: %s at update %d (epoch %.2f); %s and %s marked diverged; '
                       'lower the learning rate, or resume from the snapshot with another '
                       '--seed' % (what, update, updater.epoch_detail, kept,
                                   os.path.join(self.exp.out, 'results.json')), info)


def _describe(array):
    xp = backend.get_array_module(array)
    return 'nan' if bool(xp.isnan(array).any()) else 'inf'
