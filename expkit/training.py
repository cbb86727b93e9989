"""The chainer Trainer of one training stage: when it stops (:class:`StopAt`, with the time
limit), its timed snapshot (:class:`TimedSnapshot`), its plots (:class:`PlotReport`) and the
standard extensions (:func:`build_trainer`)."""
import time

import chainer
from chainer.training import extensions

from expkit.outputs import save_npz_uncompressed
from fused_updates import fuse_updater
from expkit.resume import RandomStateSnapshot

clock = time.monotonic          # every duration of a run; tests replace it


class StopAt:
    """Stop once ``epoch_detail`` (or ``iteration``) reaches ``length``, or, with a
    ``deadline`` (a :data:`clock` time), as soon as the next iteration and the final snapshot
    might not fit before it: when ``clock() + margin >= deadline``, the margin being twice the
    longest iteration so far (its extensions included) plus ``snapshot_seconds()``. Sets
    ``timed_out`` when it stopped for the deadline.

    Not serialized on purpose: chainer's ``IntervalTrigger`` is, so a finished run resumed
    with the same ``--epoch`` would train one more full period.
    """

    def __init__(self, length, unit, deadline=None, snapshot_seconds=lambda: 0.0,
                 agree=None):
        if unit not in ('epoch', 'iteration'):
            raise ValueError('unit must be epoch or iteration')
        self.length, self.unit = length, unit
        self.deadline, self.snapshot_seconds = deadline, snapshot_seconds
        self.timed_out, self.longest, self._last = False, 0.0, None
        self.agree = agree      # several ranks: rank 0's decision (Distributed.root_decides)

    def __call__(self, trainer):
        done = (trainer.updater.epoch_detail if self.unit == 'epoch'
                else trainer.updater.iteration)
        if done >= self.length:
            return True
        if self.deadline is None:
            return False
        now = clock()
        if self._last is not None:
            self.longest = max(self.longest, now - self._last)
        self._last = now
        self.timed_out = now + 2 * self.longest + self.snapshot_seconds() >= self.deadline
        if self.agree is not None:
            self.timed_out = self.agree(self.timed_out)
        return self.timed_out

    def get_training_length(self):
        return self.length, self.unit


class PlotReport(extensions.PlotReport):
    """chainer's PlotReport, with its trigger saved in snapshots too (chainer saves only the
    plotted points, so a run resumed mid-epoch plotted the interval it resumed in twice)."""

    def serialize(self, serializer):
        super().serialize(serializer)
        if hasattr(self._trigger, 'serialize'):
            self._trigger.serialize(serializer['_trigger'])   # old snapshots: a guess, warned


class TimedSnapshot(chainer.training.Extension):
    """chainer's trainer snapshot (uncompressed, ``filename``), timed: the longest
    write so far (``seconds``; 2 s before the first) sizes the time limit's margin."""
    name = 'snapshot'
    priority = -100                       # after every other extension, like chainer's

    def __init__(self, savefun=save_npz_uncompressed,
                 filename='snapshot_iter_{.updater.iteration}.npz'):
        self.write = extensions.snapshot(savefun=savefun, filename=filename)
        self.seconds, self._timed = 2.0, False

    def __call__(self, trainer):
        t0 = clock()
        self.write(trainer)
        dt = clock() - t0
        self.seconds, self._timed = (max(self.seconds, dt) if self._timed else dt), True



def build_trainer(st, updater, out, *, report=(), plots=None, deadline=None, agree=None,
                  guard, root=True, progress=True, reseed=None):
    """The Trainer of the stage ``st`` (:class:`expkit.stages.Stage`), stored in it with its
    stop trigger, snapshot and LogReport.

    The optimisers of ``updater`` get the blocked CPU steps of :mod:`fused_updates`.
    Extensions: the NaN/inf ``guard``, the global random state in snapshots
    (:class:`expkit.resume.RandomStateSnapshot`); on rank 0 (``root``) also LogReport (with
    ``images_per_sec`` over each log interval), PrintReport(epoch, iteration, ``report``,
    images_per_sec, elapsed_time), ProgressBar (``progress``), a PlotReport per ``plots``
    entry ({png name: [keys]}) and the timed snapshot every ``st.snapshot_trigger``; on the
    other ranks ``reseed`` (their own random numbers) instead. The stage stops at
    ``st.length`` or before the ``deadline`` (a :data:`clock` time; ``agree``: several
    ranks decide together)."""
    fuse_updater(updater)        # the optimisers' blocked CPU steps: same math, less memory
    snapshot_name, log_name = st.files()
    snapshot = TimedSnapshot(savefun=guard.saving(save_npz_uncompressed),
                             filename=snapshot_name)
    stop = StopAt(*st.length, deadline=deadline, snapshot_seconds=lambda: snapshot.seconds,
                  agree=agree)
    trainer = chainer.training.Trainer(updater, stop, out=out)
    st.trainer, st.stop, st.snapshot = trainer, stop, snapshot
    trainer.extend(guard)
    trainer.extend(RandomStateSnapshot())  # a resumed run draws the same random numbers
    if not root:     # ranks > 0: no log, plots or snapshots; their own random numbers
        trainer.extend(reseed)
        return trainer
    st.log_report = extensions.LogReport(trigger=st.log_trigger, filename=log_name,
                                         postprocess=st.images_per_sec)
    trainer.extend(st.log_report)
    columns = ['epoch', 'iteration'] + list(report) + ['images_per_sec', 'elapsed_time']
    trainer.extend(extensions.PrintReport(columns), trigger=st.log_trigger)
    if progress:
        trainer.extend(extensions.ProgressBar(update_interval=10))
    for filename, keys in (plots or {}).items():
        trainer.extend(PlotReport(list(keys), x_key=st.log_trigger[1], filename=filename,
                                  trigger=st.log_trigger))
    trainer.extend(snapshot, trigger=st.snapshot_trigger)
    return trainer
