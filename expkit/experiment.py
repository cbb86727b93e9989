"""One run of one experiment: seeds, device, threads, data, the Trainer wiring (time limit,
resume), and ``results.json``."""
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np

import chainer
from chainer.training import extensions

from expkit import cli, guards, validate
from expkit.errors import UsageError
from expkit.resume import RandomStateSnapshot

clock = time.monotonic          # every duration below; tests replace it


def available_cores():
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def resolve_device(args):
    """``--gpu N`` is an alias for ``--device @cupy:N``, as in chainer's own examples."""
    spec = args.device
    if args.gpu is not None:
        spec = '@cupy:%d' % args.gpu if args.gpu >= 0 else '@numpy'
    if spec.startswith('@cupy') or spec.lstrip('-').isdigit() and int(spec) >= 0:
        if not chainer.backends.cuda.available:
            raise UsageError(
                '%s needs CuPy and a CUDA GPU, which this Python does not have; install them '
                'with make install-gpu (cupy-cuda12x 13 with NumPy 1, 14 with NumPy 2) or '
                'drop --gpu/--device to run on the CPU'
                % ('--gpu %d' % args.gpu if args.gpu is not None else '--device ' + spec))
    try:
        return chainer.get_device(spec)
    except Exception as exc:  # chainer raises ValueError/RuntimeError for bad specs
        raise UsageError("bad --device %r (%s); use '@numpy' or '@cupy:N'" % (spec, exc))


def save_npz_uncompressed(file, obj):
    """``chainer.serializers.save_npz`` without zlib: snapshots of 1000-unit MLPs compress
    poorly and zlib cost more than the training step of a ``--quick`` run."""
    chainer.serializers.save_npz(file, obj, compression=False)


class StopAt:
    """Stop once ``epoch_detail`` (or ``iteration``) reaches ``length``, or, with a
    ``deadline`` (a :data:`clock` time), as soon as the next iteration and the final snapshot
    might not fit before it: when ``clock() + margin >= deadline``, the margin being twice the
    longest iteration so far (its extensions included) plus ``snapshot_seconds()``. Sets
    ``timed_out`` when it stopped for the deadline.

    Not serialized on purpose: chainer's ``IntervalTrigger`` is, so a finished run resumed
    with the same ``--epoch`` would train one more full period.
    """

    def __init__(self, length, unit, deadline=None, snapshot_seconds=lambda: 0.0):
        if unit not in ('epoch', 'iteration'):
            raise ValueError('unit must be epoch or iteration')
        self.length, self.unit = length, unit
        self.deadline, self.snapshot_seconds = deadline, snapshot_seconds
        self.timed_out, self.longest, self._last = False, 0.0, None

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
    """chainer's trainer snapshot (uncompressed, ``snapshot_iter_N.npz``), timed: the longest
    write so far (``seconds``; 2 s before the first) sizes the time limit's margin."""
    name = 'snapshot'
    priority = -100                       # after every other extension, like chainer's

    def __init__(self, savefun=save_npz_uncompressed):
        self.write = extensions.snapshot(savefun=savefun,
                                         filename='snapshot_iter_{.updater.iteration}.npz')
        self.seconds, self._timed = 2.0, False

    def __call__(self, trainer):
        t0 = clock()
        self.write(trainer)
        dt = clock() - t0
        self.seconds, self._timed = (max(self.seconds, dt) if self._timed else dt), True


class SelectBest(chainer.training.Extension):
    """Model selection on a validation metric: at its trigger, ``evaluate()`` (a float) is
    reported as ``validation/<name>`` (so LogReport and the plots get it) and, when it beats
    the best so far (``mode`` 'min' or 'max'), every link in ``models`` is saved atomically
    as ``model_<key>_best.npz``. The best value and iteration are serialized into trainer
    snapshots, so a resumed run keeps them."""
    priority = chainer.training.PRIORITY_WRITER     # before LogReport reads the observation

    def __init__(self, exp, name, evaluate, models, mode='min'):
        if mode not in ('min', 'max'):
            raise ValueError("mode must be 'min' or 'max'")
        self.exp, self.metric, self.evaluate = exp, name, evaluate
        self.models, self.mode = dict(models), mode
        self.best_value, self.best_iteration = None, -1

    def files(self):
        return {key: 'model_%s_best.npz' % key for key in self.models}

    def __call__(self, trainer):
        value = float(self.evaluate())
        chainer.report({'validation/' + self.metric: value})
        better = (self.best_value is None or
                  (value < self.best_value if self.mode == 'min' else value > self.best_value))
        if better:
            self.best_value, self.best_iteration = value, int(trainer.updater.iteration)
            for key, filename in self.files().items():
                self.exp.save_model(filename, self.models[key])

    def serialize(self, serializer):
        best = serializer('best_value', np.nan if self.best_value is None else
                          self.best_value)
        self.best_value = None if np.isnan(best) else float(best)
        self.best_iteration = int(serializer('best_iteration', self.best_iteration))

    def load_best(self):
        """Load the best weights into ``models``; False when no evaluation ran yet."""
        if self.best_value is None:
            return False
        for key, filename in self.files().items():
            chainer.serializers.load_npz(self.exp.path(filename), self.models[key])
        return True

    def summary(self):
        return {'metric': 'validation/' + self.metric, 'mode': self.mode,
                'best_value': self.best_value,
                'best_iteration': None if self.best_iteration < 0 else self.best_iteration,
                'files': sorted(self.files().values())}


def _versions():
    try:
        import cupy
        cupy_version = cupy.__version__
    except Exception:
        cupy_version = None
    return {'python': platform.python_version(), 'chainer': chainer.__version__,
            'numpy': np.__version__, 'cupy': cupy_version}


def _git_state():
    """``(commit, dirty)`` of the checkout this code runs from; ``(None, None)`` outside git."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=root, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                                cwd=root, capture_output=True, text=True, timeout=10,
                                check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit or None, bool(status.strip())


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path, write):
    """Write via a temporary file in the same folder, then ``os.replace``."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix=os.path.basename(path), dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


class Experiment:
    """Holds what every experiment needs: ``device``, ``xp``, ``out``, ``data`` and the clock.

    Args:
        name: experiment name, written into ``results.json``.
        args: the namespace from :func:`expkit.make_parser`'s parser.
        paper: the paper's reference values with their source, e.g.
            ``{'source': 'Makhzani et al. 2015, Table 1', 'values': {'parzen_ll': '340 ± 2'}}``.
    """

    def __init__(self, name, args, paper=None):
        self.name = name
        self.args = args
        self.paper = paper or {}
        self.quick = bool(getattr(args, 'quick', False))
        self.device = resolve_device(args)
        self.xp = self.device.xp
        self.out = args.out
        self.data = None
        self.images_per_second = None
        self.train_seconds = None
        self.train_iterations = None
        self.eval_seconds = None
        self._start_wall, self._start = time.time(), clock()
        self._git = _git_state()             # the code that runs, recorded in results.json
        self._train_end = None
        self._stop = None
        self.selectors = {}              # name -> SelectBest (see select_best)
        self._recorded = {}
        if args.resume is not None and not os.path.isfile(args.resume):
            raise UsageError('--resume %s: no such snapshot file; pass a snapshot_*.npz '
                             'written by an earlier run' % args.resume)
        self.time_limit = getattr(args, 'time_limit', None)    # minutes (positive_float)
        self.threads = self.set_threads(getattr(args, 'threads', None))
        self.seed(args.seed)

    @staticmethod
    def set_threads(n):
        """Limit BLAS/OpenMP to ``n`` threads (None: every available core); returns ``n``."""
        import threadpoolctl
        if n is None:
            n = available_cores()
        threadpoolctl.threadpool_limits(limits=n)   # process-wide until changed
        return n

    def seed(self, seed):
        random.seed(seed)
        np.random.seed(seed)
        if self.xp is not np:
            self.xp.random.seed(seed)

    # -- outputs -------------------------------------------------------------------------
    def path(self, filename):
        """``out/filename``; creates ``out`` on first use (so a failed run leaves nothing)."""
        if not os.path.isdir(self.out):
            os.makedirs(self.out)
            cli._created_dirs.append(self.out)
        return os.path.join(self.out, filename)

    def savefig(self, fig, filename, dpi=100):
        import matplotlib.pyplot as plt
        path = self.path(filename)
        atomic_write(path, lambda f: fig.savefig(f, format='png', dpi=dpi,
                                                 bbox_inches='tight'))
        plt.close(fig)
        return path

    def save_npz(self, filename, **arrays):
        arrays = {k: chainer.backend.CpuDevice().send(v) for k, v in arrays.items()}
        path = self.path(filename)
        atomic_write(path, lambda f: np.savez_compressed(f, **arrays))
        return path

    def save_model(self, filename, link):
        path = self.path(filename)
        atomic_write(path, lambda f: save_npz_uncompressed(f, link))
        return path

    # -- data ----------------------------------------------------------------------------
    def load_data(self, name=None, **kwargs):
        """``datasets.load`` for ``--dataset``/``--data-dir``; records its info for results."""
        import datasets
        self.data = datasets.load(name or self.args.dataset, data_dir=self.args.data_dir,
                                  **kwargs)
        self._hold_out_validation()
        return self.data

    def _hold_out_validation(self):
        """``--validation N``: the last N training images become ``data.x_val``; by default
        the script's paper protocol on the official 60,000 training images, else none."""
        d, n = self.data, getattr(self.args, 'validation', None)
        n_all, default = len(d.x_train), getattr(self.args, 'validation_default', 0)
        if n is None:
            n = default if n_all == 60000 else 0
            if default and n_all != 60000:
                d.info.setdefault('notes', []).append(
                    'no validation split: the default --validation %d (the paper\'s protocol) '
                    'needs the official 60,000 training images, this training set has %d'
                    % (default, n_all))
        else:                                    # >= 0 already (nonnegative_int)
            validate.below('--validation', n, n_all, 'training images of %s' % d.name)
        self.args.validation = n
        d.hold_out(n)

    def validation(self, n_quick=300):
        """``(x_val, y_val)``: the held-out validation images (its first ``n_quick`` with
        ``--quick``); empty without ``--validation``."""
        d = self.data
        if self.quick:
            return d.x_val[:n_quick], d.y_val[:n_quick]
        return d.x_val, d.y_val

    def train_test(self, n_quick_train=1000, n_quick_test=500):
        """``(x_train, y_train, x_test, y_test)`` of the loaded data; with ``--quick``, the
        first ``n_quick_train`` / ``n_quick_test`` images and a single epoch."""
        d = self.data
        if not self.quick:
            return d.x_train, d.y_train, d.x_test, d.y_test
        self.args.epoch = 1
        return (d.x_train[:n_quick_train], d.y_train[:n_quick_train], d.x_test[:n_quick_test],
                d.y_test[:n_quick_test])

    # -- training ------------------------------------------------------------------------
    def trainer(self, updater, models=None, report=(), plots=None, stop=None,
                log_trigger=None, snapshot_trigger=None):
        """A chainer Trainer with the standard extensions (``--resume`` is loaded by :meth:`run`).

        Extensions: LogReport (with ``images_per_sec`` over each log interval),
        PrintReport(epoch, iteration, ``report``, images_per_sec, elapsed_time), ProgressBar,
        PlotReport per ``plots`` entry ({png name: [keys]}), the NaN/inf guard
        (:class:`expkit.guards.FiniteGuard`), the global random state in snapshots
        (:class:`expkit.resume.RandomStateSnapshot`), an atomic trainer snapshot every
        ``--snapshot-interval`` epochs (and at the end, see :meth:`run`), and the ``models``
        ({name: link}) saved as ``model_<name>.npz`` at the end. ``--time-limit`` stops it
        early (:class:`StopAt`); ``--resume`` is loaded in :meth:`run`, after the script has
        added its own extensions, so their state (e.g. :meth:`select_best`) is restored too.
        """
        stop = stop or (self.args.epoch, 'epoch')
        log_trigger = self._log_trigger = log_trigger or (1, 'epoch')
        self.path('')  # create out
        deadline = None
        if self.time_limit is not None:
            deadline = self._start + 60.0 * self.time_limit
        self._stop = StopAt(*stop, deadline=deadline,
                            snapshot_seconds=lambda: self._snapshot.seconds)
        trainer = chainer.training.Trainer(updater, self._stop, out=self.out)
        self._log_report = extensions.LogReport(trigger=log_trigger,
                                                postprocess=self._images_per_sec)
        trainer.extend(self._log_report)
        columns = ['epoch', 'iteration'] + list(report) + ['images_per_sec', 'elapsed_time']
        trainer.extend(extensions.PrintReport(columns), trigger=log_trigger)
        if not self.quick:
            trainer.extend(extensions.ProgressBar(update_interval=10))
        for filename, keys in (plots or {}).items():
            trainer.extend(PlotReport(list(keys), x_key=log_trigger[1], filename=filename,
                                      trigger=log_trigger))
        guard = guards.FiniteGuard(self)     # NaN/inf: results.json marked diverged, exit 3
        trainer.extend(guard)
        trainer.extend(RandomStateSnapshot())  # a resumed run draws the same random numbers
        self._snapshot = TimedSnapshot(savefun=guard.saving(save_npz_uncompressed))
        trainer.extend(self._snapshot,
                       trigger=snapshot_trigger or (self.args.snapshot_interval, 'epoch'))
        self._models = dict(models or {})
        self._images_per_iteration = None
        return trainer

    def _images_per_sec(self, stats):
        """LogReport postprocess: images per second of training over the log interval
        (``elapsed_time`` is the training time since iteration 0, resumed runs included)."""
        log = self._log_report.log
        last = log[-1] if log else {'iteration': 0, 'elapsed_time': 0.0}
        seconds = stats['elapsed_time'] - last['elapsed_time']
        if self._images_per_iteration and seconds > 0:
            stats['images_per_sec'] = round(
                (stats['iteration'] - last['iteration']) * self._images_per_iteration / seconds,
                1)

    def resume(self, trainer):
        """Load ``--resume`` into the trainer. :meth:`run` calls it, after the script has added
        its own extensions, so that their state and triggers are restored too (a trigger
        created after loading would fire at the first update of the resumed run)."""
        if self.args.resume:
            try:
                chainer.serializers.load_npz(self.args.resume, trainer)
            except Exception as exc:
                raise UsageError('--resume %s: cannot load it into this run (%s); pass a '
                                 'snapshot written by the same script and options'
                                 % (self.args.resume, ' '.join(str(exc).split())[:200]))

    def run(self, trainer, images_per_iteration):
        """Resume (``--resume``), run the trainer (until done or ``--time-limit``), snapshot
        the final state, save models, measure images/s."""
        self.resume(trainer)
        self._images_per_iteration = images_per_iteration
        start_iteration = trainer.updater.iteration
        t0 = clock()
        trainer.run()
        self.train_seconds = clock() - t0
        self.train_iterations = trainer.updater.iteration - start_iteration
        images = self.train_iterations * images_per_iteration
        self.images_per_second = images / max(self.train_seconds, 1e-9)
        self._snapshot(trainer)
        for name, link in self._models.items():
            self.save_model('model_%s.npz' % name, link)
        self._trainer = trainer
        self._train_end = clock()
        if self.partial:
            sys.stdout.write('time limit (%g min): training stopped at iteration %d of %s; '
                             'resume with:\n  %s\n' % (self.time_limit, trainer.updater.iteration,
                                                       self.planned_iterations(),
                                                       self.resume_command()))
        return trainer

    def select_best(self, trainer, name, evaluate, models, trigger=None, mode='min'):
        """Add model selection on a validation metric (:class:`SelectBest`) to ``trainer``,
        every ``trigger`` (default: the log interval); recorded in results.json under
        ``model_selection``. Returns the extension (``load_best()`` for the test number of
        the best-on-validation model)."""
        selector = SelectBest(self, name, evaluate, models, mode)
        trainer.extend(selector, name='select_best_' + name,
                       trigger=trigger or self._log_trigger)
        self.selectors[name] = selector
        return selector

    @property
    def partial(self):
        """True when ``--time-limit`` stopped training before its planned end."""
        return bool(self._stop is not None and self._stop.timed_out)

    def planned_iterations(self):
        """Iterations of the whole planned schedule (epochs converted with the main
        iterator's dataset size and batch size), or None when unknown."""
        length, unit = self._stop.length, self._stop.unit
        if unit == 'iteration':
            return int(length)
        it = self._trainer.updater.get_iterator('main')
        n, b = len(getattr(it, 'dataset', ())), getattr(it, 'batch_size', 0)
        return int(np.ceil(length * n / b)) if n and b else None

    def resume_command(self):
        """This command with ``--resume OUT/snapshot_iter_N.npz`` (the final snapshot) and
        ``--out OUT``, so the resumed run continues the same log and curves."""
        argv, out, i = list(self.args.argv), [], 0
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
        snapshot = os.path.join(self.out, 'snapshot_iter_%d.npz'
                                % self._trainer.updater.iteration)
        return ' '.join(['python', self.args.script] + [shlex.quote(a) for a in out] +
                        ['--out', shlex.quote(self.out), '--resume', shlex.quote(snapshot)])

    # -- results -------------------------------------------------------------------------
    def record(self, key, value):
        """Put ``value`` into results.json under ``key`` (e.g. a schedule, a data split)."""
        self._recorded[key] = value

    def finish(self, measured, config=None, diverged=None):
        """Write ``out/results.json`` (atomically) and return it as a dict."""
        args = {k: v for k, v in vars(self.args).items() if k not in ('argv', 'script')}
        command = ' '.join(['python', self.args.script] + list(self.args.argv))
        results = {
            'experiment': self.name,
            'command': command,
            'paper': self.paper,
            'measured': measured,
            'dataset': self.data.info if self.data is not None else None,
            'config': dict(args, **(config or {})),
            'seed': self.args.seed,
            'device': str(self.device),
            'versions': _versions(),
            'git_commit': self._git[0], 'git_dirty': self._git[1],
            'seconds': round(clock() - self._start, 2),
            'threads': self.threads,
            'resumed_from': self.args.resume,
            'train_iterations': self.train_iterations,
            'train_seconds': None if self.train_seconds is None else round(self.train_seconds, 2),
            'train_images_per_second': (None if self.images_per_second is None
                                        else round(self.images_per_second, 1)),
            'eval_seconds': (None if self._train_end is None
                             else round(clock() - self._train_end, 2)),
            'time_limit_minutes': self.time_limit,
            'partial': self.partial,
            'diverged': bool(diverged),
        }
        if diverged:
            results['divergence'] = diverged
        if self._train_end is not None:
            results['stopped_at_iteration'] = int(self._trainer.updater.iteration)
            results['planned_iterations'] = self.planned_iterations()
            results['planned'] = {'length': self._stop.length, 'unit': self._stop.unit}
            results['resume_command'] = self.resume_command() if self.partial else None
        if self.selectors:
            results['model_selection'] = {k: sel.summary() for k, sel in self.selectors.items()}
        results.update(self._recorded)
        text = json.dumps(results, indent=2, default=_json_default, sort_keys=False)
        atomic_write(self.path('results.json'), lambda f: f.write(text.encode() + b'\n'))
        sys.stdout.write('wrote %s\n' % self.path('results.json'))
        return results

    def finish_diverged(self, info):
        """``results.json`` of a run that :class:`expkit.guards.FiniteGuard` stopped."""
        return self.finish(measured={}, diverged=info)
