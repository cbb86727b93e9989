"""The training stages of one run (M1 then M2, a CVAE then its regressor, or one 'main'):
their files, what results.json records of each, and ``--resume``: the stage a snapshot
continues, the stages before it reloaded, the resume command after ``--time-limit``."""
import glob
import os
import re
import shlex
import shutil
import sys

import numpy as np

import chainer

from expkit import training
from expkit.errors import UsageError

SNAPSHOT = re.compile(r'snapshot_(?:(?P<stage>.+)_)?iter_(?P<iteration>\d+)\.npz')


def stage_files(stage):
    """The snapshot name (chainer's format string) and the log name of a training stage:
    ``snapshot_iter_N.npz`` and ``log`` for 'main', ``snapshot_<stage>_iter_N.npz`` and
    ``log_<stage>`` for any other."""
    if stage == 'main':
        return 'snapshot_iter_{.updater.iteration}.npz', 'log'
    return 'snapshot_%s_iter_{.updater.iteration}.npz' % stage, 'log_' + stage


class Stage:
    """One named training stage of a run: its Trainer (:func:`expkit.training.build_trainer`
    fills ``trainer``, ``stop``, ``snapshot`` and ``log_report``), and what results.json
    records of it (``status``: trained, partial (stopped by --time-limit), reloaded (finished
    by an earlier run), skipped (after a partial stage) or diverged)."""

    def __init__(self, name, models, length, log_trigger, snapshot_trigger):
        self.name, self.models, self.length = name, dict(models or {}), length
        self.log_trigger, self.snapshot_trigger = log_trigger, snapshot_trigger
        self.trainer = self.stop = self.snapshot = self.log_report = None
        self.images_per_iteration, self.selectors = None, []
        self.status, self.iterations, self.seconds, self.reloaded_from = None, 0, 0.0, None

    def files(self):
        return stage_files(self.name)

    def images_per_sec(self, stats):
        """LogReport postprocess: images per second of training over the log interval
        (``elapsed_time`` is the training time since iteration 0, resumed runs included)."""
        log = self.log_report.log
        last = log[-1] if log else {'iteration': 0, 'elapsed_time': 0.0}
        seconds = stats['elapsed_time'] - last['elapsed_time']
        if self.images_per_iteration and seconds > 0:
            stats['images_per_sec'] = round(
                (stats['iteration'] - last['iteration']) * self.images_per_iteration / seconds,
                1)

    def snapshot_path(self, out):
        return os.path.join(out, stage_files(self.name)[0].format(self.trainer))

    def planned_iterations(self):
        """Iterations of the planned schedule (epochs converted with the main iterator's
        dataset size and batch size), or None when unknown."""
        if self.stop.unit == 'iteration':
            return int(self.stop.length)
        it = self.trainer.updater.get_iterator('main')
        n, b = len(getattr(it, 'dataset', ())), getattr(it, 'batch_size', 0)
        return int(np.ceil(self.stop.length * n / b)) if n and b else None

    def record(self):
        images = self.iterations * (self.images_per_iteration or 0)
        rec = {'status': self.status, 'iterations': int(self.iterations),
               'seconds': round(self.seconds, 2),
               'images_per_second': round(images / self.seconds, 1) if self.seconds else None,
               'stopped_at_iteration': int(self.trainer.updater.iteration),
               'planned_iterations': self.planned_iterations(),
               'snapshot_every': list(self.snapshot_trigger),
               'log': stage_files(self.name)[1]}
        if self.reloaded_from:
            rec['reloaded_from'] = self.reloaded_from
        return rec


def resume_stage(resume, stages):
    """The training stage that the snapshot ``resume`` continues, from its file name."""
    if resume is None:
        return None
    if not os.path.isfile(resume):
        raise UsageError('--resume %s: no such snapshot file; pass a snapshot_*.npz '
                         'written by an earlier run' % resume)
    match = SNAPSHOT.fullmatch(os.path.basename(resume))
    if match is None:
        if len(stages) == 1:
            return stages[0]
        raise UsageError('--resume %s: not a snapshot_iter_N.npz or snapshot_STAGE_iter_N'
                         '.npz, so its training stage is unknown; pass a snapshot as the '
                         'run wrote it' % resume)
    stage = match.group('stage') or 'main'
    if stage not in stages:
        raise UsageError('--resume %s: a snapshot of the training stage %r, which this run '
                         'does not have (its stages: %s); pass a snapshot of one of them'
                         % (resume, stage, ', '.join(stages)))
    return stage


class Schedule:
    """The declared stages of a run (``names``, in order) and the ones met so far
    (``stages``): each is resumed and run, reloaded (before the resumed one) or skipped
    (after a stage that ``--time-limit`` stopped)."""

    def __init__(self, names, run, outputs, is_root=True, launch=()):
        self.names, self.stages, self.current = list(names), {}, None
        self.run, self.outputs, self.is_root, self.launch = run, outputs, is_root, list(launch)
        self.resume = run.resume
        self.resume_stage = resume_stage(run.resume, self.names)
        self.train_end = None              # clock time when the last stage ended

    def check_next(self, name):
        if len(self.stages) >= len(self.names) or self.names[len(self.stages)] != name:
            raise ValueError('training stage %r: the run declared the stages %s, in this '
                             'order' % (name, self.names))

    def advance(self, st):
        """Reload, skip or run the stage ``st`` (the next declared one)."""
        self.stages[st.name] = st
        order = self.names.index
        if self.resume_stage is not None and order(st.name) < order(self.resume_stage):
            self.reload(st)
        elif self.partial:
            st.status = 'skipped'
        else:
            self.train(st)

    def load(self, trainer, path):
        """Load a trainer snapshot, after the script added its own extensions, so that their
        state and triggers are restored too (a trigger created after loading would fire at
        the first update of the resumed run)."""
        try:
            chainer.serializers.load_npz(path, trainer)
        except Exception as exc:
            raise UsageError('--resume %s: cannot load %s into this run (%s); pass a '
                             'snapshot written by the same script and options'
                             % (self.resume, path, ' '.join(str(exc).split())[:200]))

    def train(self, st):
        """Resume (``--resume`` of this stage), run the trainer (until done or
        ``--time-limit``), snapshot the final state, save the models, measure images/s."""
        trainer = st.trainer
        if st.name == self.resume_stage:
            self.load(trainer, self.resume)
            self.bring_over(st, with_models=False)
        if len(self.names) > 1 and self.is_root:
            sys.stdout.write('training stage %s\n' % st.name)
        st.status = 'running'
        start_iteration = trainer.updater.iteration
        t0 = training.clock()
        trainer.run()
        st.seconds = training.clock() - t0
        st.iterations = trainer.updater.iteration - start_iteration
        if self.is_root:
            st.snapshot(trainer)
        for name, link in st.models.items():
            self.outputs.save_model('model_%s.npz' % name, link)
        st.status = 'partial' if st.stop.timed_out else 'trained'
        self.train_end = training.clock()
        if st.status == 'partial' and self.is_root:
            sys.stdout.write('time limit (%g min): training stopped at iteration %d of %s%s; '
                             'resume with:\n  %s\n' % (
                                 self.run.time_limit, trainer.updater.iteration,
                                 st.planned_iterations(),
                                 '' if len(self.names) == 1 else ' of stage ' + st.name,
                                 self.resume_command()))

    def reload(self, st):
        """A stage before the resumed one, which the earlier run finished: its newest snapshot
        in the folder of the ``--resume`` snapshot is loaded (weights, log, model
        selection), or, if there is none, its models ``model_<name>.npz``; it is not
        trained again."""
        folder = os.path.dirname(os.path.abspath(self.resume))
        pattern = stage_files(st.name)[0].replace('{.updater.iteration}', '*')
        found = [(int(SNAPSHOT.fullmatch(os.path.basename(p)).group('iteration')), p)
                 for p in glob.glob(os.path.join(folder, pattern))]
        if found:
            st.reloaded_from = max(found)[1]
            self.load(st.trainer, st.reloaded_from)
        else:
            files = {name: os.path.join(folder, 'model_%s.npz' % name) for name in st.models}
            missing = [p for p in files.values() if not os.path.isfile(p)]
            if missing or not files:
                raise UsageError('--resume %s: the training stage %s comes before it, and '
                                 'neither its snapshot nor its models (%s) are in %s; resume '
                                 'from a snapshot in the folder of a run that finished it'
                                 % (self.resume, st.name, ', '.join(
                                     os.path.basename(p) for p in missing) or 'none', folder))
            for name, path in files.items():
                self.load(st.models[name], path)
            st.reloaded_from = sorted(files.values())
        self.bring_over(st, with_models=True)
        st.status = 'reloaded'

    def bring_over(self, st, with_models):
        """Resumed into another --out: copy the stage's best-on-validation models there (and,
        for a reloaded stage, save its models), so the new folder is complete. Where the
        best models are nowhere at hand, selection starts again (a warning says so)."""
        if not self.is_root:
            return
        folder = os.path.dirname(os.path.abspath(self.resume))
        elsewhere = os.path.realpath(folder) != os.path.realpath(self.outputs.out)
        for selector in st.selectors:
            for filename in selector.files().values():
                if elsewhere and os.path.isfile(os.path.join(folder, filename)):
                    shutil.copyfile(os.path.join(folder, filename), self.outputs.path(filename))
            missing = [f for f in selector.files().values()
                       if not os.path.isfile(self.outputs.path(f))]
            if selector.best_value is not None and missing:
                iteration = st.trainer.updater.iteration
                sys.stderr.write('warning: --resume %s: %s (best on validation so far) not '
                                 'beside the snapshot; model selection starts again from '
                                 'update %d\n' % (self.resume, ', '.join(missing), iteration))
                selector.restart(iteration)
        if with_models and elsewhere:
            for name, link in st.models.items():
                self.outputs.save_model('model_%s.npz' % name, link)

    @property
    def partial(self):
        """True when ``--time-limit`` stopped training before its planned end."""
        return any(st.status == 'partial' for st in self.stages.values())

    def reported(self):
        """The stage whose iterations results.json reports at the top level: the one that
        ``--time-limit`` stopped, else 'main', else the last one trained."""
        ran = [st for st in self.stages.values() if st.status in ('trained', 'partial')]
        for st in ran:
            if st.status == 'partial':
                return st
        return self.stages['main'] if 'main' in self.stages and self.stages[
            'main'] in ran else (ran[-1] if ran else None)

    def resume_command(self):
        """This command with ``--resume`` of the stopped stage's final snapshot and ``--out
        OUT``, so the resumed run continues the same log and curves."""
        argv, out, i = list(self.run.argv), [], 0
        while i < len(argv):
            a = argv[i]
            if a in ('--resume', '--out'):
                i += 2
                continue
            if a.startswith('--resume=') or a.startswith('--out='):
                i += 1
                continue
            out.append(a)
            i += 1
        snapshot = self.reported().snapshot_path(self.outputs.out)
        return ' '.join(self.launch + ['python', self.run.script] +
                        [shlex.quote(a) for a in out] + ['--out', shlex.quote(self.outputs.out),
                                                         '--resume', shlex.quote(snapshot)])

