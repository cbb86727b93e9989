"""One run of one experiment: seeds, device, threads, data, the Trainer wiring of its
training stages (time limit, resume), and ``results.json``."""
import glob
import json
import os
import platform
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import chainer
from chainer.training import extensions

from expkit import cli, guards, validate
from expkit.distributed import Distributed
from expkit.errors import UsageError
from expkit.portable import portable
from expkit.resume import RandomStateSnapshot

clock = time.monotonic          # every duration below; tests replace it


def available_cores():
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cuda_problem():
    """None when chainer can use CUDA; otherwise why not, in one line: ``'no CuPy'``, or
    chainer's own reason when CuPy is installed (``chainer.backends.cuda._resolution_error``,
    e.g. a ``libcublasLt`` that does not load)."""
    import importlib.util
    if chainer.backends.cuda.available:
        return None
    if importlib.util.find_spec('cupy') is None:
        return 'no CuPy'
    reason = getattr(chainer.backends.cuda, '_resolution_error', None)
    return 'CuPy is installed but chainer cannot use CUDA (%s)' % ' '.join(
        ('%s: %s' % (type(reason).__name__, reason)).split())


def cuda_unavailable(what):
    """The one-line UsageError for ``what`` (e.g. ``--gpu 0``) when chainer cannot use CUDA
    (:func:`cuda_problem`)."""
    problem = cuda_problem()
    if problem == 'no CuPy':
        return UsageError(
            '%s needs CuPy and a CUDA GPU, which this Python does not have; install them '
            'with make install-gpu (cupy-cuda12x 13 with NumPy 1, 14 with NumPy 2; '
            'docs/gpu.md) or drop --gpu/--device to run on the CPU'
            % what)
    return UsageError('%s: %s; install the CUDA libraries that CuPy names (docs/gpu.md) or '
                      'drop --gpu/--device to run on the CPU' % (what, problem))


def resolve_device(args, dist=None):
    """``--gpu N`` is an alias for ``--device @cupy:N``, as in chainer's own examples. With a
    GPU communicator (``dist``) rank r uses GPU ``intra_rank`` of its node. The device is
    made the current one (``device.use()``), so that arrays the code makes with ``xp``
    land on the model's GPU, not on GPU 0."""
    spec = args.device
    if dist is not None and dist.gpu:
        if args.gpu is not None or spec != '@numpy':
            raise UsageError('--communicator %s puts each rank on GPU <its rank on the node>; '
                             'drop --gpu/--device' % dist.name)
        if not chainer.backends.cuda.available:
            raise cuda_unavailable('--communicator %s' % dist.name)
        device = chainer.get_device('@cupy:%d' % dist.intra_rank)
        device.use()
        return device
    if args.gpu is not None:
        spec = '@cupy:%d' % args.gpu if args.gpu >= 0 else '@numpy'
    if spec.startswith('@cupy') or spec.lstrip('-').isdigit() and int(spec) >= 0:
        if dist is not None and dist.comm is not None:
            raise UsageError('--communicator naive trains on CPUs; for GPUs use '
                             '--communicator pure_nccl (or flat) and drop --gpu/--device')
        if not chainer.backends.cuda.available:
            raise cuda_unavailable('--gpu %d' % args.gpu if args.gpu is not None
                                   else '--device ' + spec)
    try:
        device = chainer.get_device(spec)
        device.use()
    except Exception as exc:  # chainer raises ValueError/RuntimeError for bad specs
        raise UsageError("bad --device %r (%s); use '@numpy' or '@cupy:N'" % (spec, exc))
    return device


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
        self.restarted_at = None

    def restart(self, iteration):
        """Forget the best so far (its weights are not at hand, e.g. a snapshot resumed
        without its ``model_*_best.npz``): selection starts again from ``iteration``."""
        self.best_value, self.best_iteration, self.restarted_at = None, -1, int(iteration)

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
        # "not evaluated yet" is its own flag, not a NaN that the snapshot guard refuses
        evaluated = self.best_value is not None
        best = serializer('best_value', self.best_value if evaluated else 0.0)
        try:
            evaluated = bool(serializer('evaluated', evaluated))
        except KeyError:                       # a snapshot written before the flag existed
            evaluated = not np.isnan(best)
        self.best_value = float(best) if evaluated else None
        self.best_iteration = int(serializer('best_iteration', self.best_iteration))
        try:                                   # -1: never restarted (and older snapshots)
            restarted = int(serializer('restarted_at', -1 if self.restarted_at is None
                                       else self.restarted_at))
        except KeyError:
            restarted = -1
        self.restarted_at = None if restarted < 0 else restarted

    def load_best(self):
        """Load the best weights into ``models``; False when no evaluation ran yet."""
        if self.best_value is None:
            return False
        for key, filename in self.files().items():
            chainer.serializers.load_npz(self.exp.path(filename), self.models[key])
        return True

    def last_then_best(self, iteration, evaluate):
        """A test number for the last models as well as the selected ones: when the live
        models (at ``iteration``) are not the best on validation, return ``evaluate()`` of
        them, then load the best; else (or before any evaluation) return None."""
        if self.best_value is None or self.best_iteration == iteration:
            return None
        last = evaluate()
        self.load_best()
        return last

    def summary(self):
        out = {'metric': 'validation/' + self.metric, 'mode': self.mode,
               'best_value': self.best_value,
               'best_iteration': None if self.best_iteration < 0 else self.best_iteration,
               'files': sorted(self.files().values())}
        if self.restarted_at is not None:
            out['restarted_at_iteration'] = self.restarted_at
        return out


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


_SNAPSHOT = re.compile(r'snapshot_(?:(?P<stage>.+)_)?iter_(?P<iteration>\d+)\.npz')


def stage_files(stage):
    """The snapshot name (chainer's format string) and the log name of a training stage:
    ``snapshot_iter_N.npz`` and ``log`` for 'main', ``snapshot_<stage>_iter_N.npz`` and
    ``log_<stage>`` for any other."""
    if stage == 'main':
        return 'snapshot_iter_{.updater.iteration}.npz', 'log'
    return 'snapshot_%s_iter_{.updater.iteration}.npz' % stage, 'log_' + stage


class Stage:
    """One named training stage of a run: its Trainer, and what results.json records of it
    (``status``: trained, partial (stopped by --time-limit), reloaded (finished by an earlier
    run), skipped (after a partial stage) or diverged)."""

    def __init__(self, name, trainer, stop, snapshot, models, log_trigger, snapshot_trigger):
        self.name, self.trainer, self.stop, self.snapshot = name, trainer, stop, snapshot
        self.models = dict(models or {})
        self.log_trigger, self.snapshot_trigger = log_trigger, snapshot_trigger
        self.log_report, self.images_per_iteration, self.selectors = None, None, []
        self.status, self.iterations, self.seconds, self.reloaded_from = None, 0, 0.0, None

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


class Experiment:
    """Holds what every experiment needs: ``device``, ``xp``, ``out``, ``data`` and the clock.

    Args:
        name: experiment name, written into ``results.json``.
        args: the namespace from :func:`expkit.make_parser`'s parser.
        paper: the paper's reference values with their source, e.g.
            ``{'source': 'Makhzani et al. 2015, Table 1', 'values': {'parzen_ll': '340 ± 2'}}``.
        stages: the names of the training stages :meth:`train` runs, in their order (e.g.
            ``['m1', 'main']``); ``--resume`` names one of them by its snapshot's file name.
    """

    def __init__(self, name, args, paper=None, stages=('main',)):
        self.name = name
        self.args = args
        self.paper = paper or {}
        self.quick = bool(getattr(args, 'quick', False))
        self.dist = Distributed(getattr(args, 'communicator', None))   # single process: None
        self.device = resolve_device(args, self.dist)
        self.xp = self.device.xp
        self.out = args.out
        self.data = None
        self._start_wall, self._start = time.time(), clock()
        self._git = _git_state()             # the code that runs, recorded in results.json
        self._train_end = None
        self.stages = list(stages)
        self._stages = {}                # name -> Stage, in the order train() met them
        self._current = None             # the Stage that trainer() built last
        self.selectors = {}              # name -> SelectBest (see select_best)
        self._recorded = {}
        self.resume = getattr(args, 'resume', None)
        self.resume_stage = self._resume_stage()
        self.time_limit = getattr(args, 'time_limit', None)    # minutes (positive_float)
        threads = getattr(args, 'threads', None)
        if threads is None and self.dist.comm is not None:     # the node's cores, shared
            threads = max(1, available_cores() // self.dist.comm.intra_size)
        self.threads = self.set_threads(threads)
        self.seed(args.seed)
        if self.dist.comm is not None:
            self.dist.local_batchsize(args.batchsize)
            self.record('distributed', self.dist.describe(args.batchsize))

    @property
    def is_root(self):
        """False on the ranks > 0 of a distributed run, which write nothing."""
        return self.dist.is_root

    def iterator(self, dataset, batchsize=None, what='--batchsize'):
        """The training iterator over ``dataset`` with the global minibatch ``batchsize``
        (default ``--batchsize``): shuffled and repeating; in a distributed run this rank's
        shard with ``batchsize / ranks`` examples (:meth:`expkit.distributed.Distributed
        .iterator`)."""
        return self.dist.iterator(dataset, self.args.batchsize if batchsize is None
                                  else batchsize, what)

    def optimizers(self, optimizers):
        """A dict of set-up optimisers, each wrapped in ChainerMN's multi-node optimiser in
        a distributed run (gradients averaged over the ranks), unchanged otherwise."""
        return self.dist.optimizers(optimizers)

    def _resume_stage(self):
        """The training stage that ``--resume`` continues, from the snapshot's file name."""
        if self.resume is None:
            return None
        if not os.path.isfile(self.resume):
            raise UsageError('--resume %s: no such snapshot file; pass a snapshot_*.npz '
                             'written by an earlier run' % self.resume)
        match = _SNAPSHOT.fullmatch(os.path.basename(self.resume))
        if match is None:
            if len(self.stages) == 1:
                return self.stages[0]
            raise UsageError('--resume %s: not a snapshot_iter_N.npz or snapshot_STAGE_iter_N'
                             '.npz, so its training stage is unknown; pass a snapshot as the '
                             'run wrote it' % self.resume)
        stage = match.group('stage') or 'main'
        if stage not in self.stages:
            raise UsageError('--resume %s: a snapshot of the training stage %r, which this run '
                             'does not have (its stages: %s); pass a snapshot of one of them'
                             % (self.resume, stage, ', '.join(self.stages)))
        return stage

    @staticmethod
    def set_threads(n):
        """Limit BLAS/OpenMP to ``n`` threads (None: every available core); returns ``n``."""
        import threadpoolctl
        if n is None:
            n = available_cores()
        threadpoolctl.threadpool_limits(limits=n)   # process-wide until changed
        return n

    def seed(self, seed):
        """Python's, NumPy's and, on a GPU, CuPy's generator of the run's device (CuPy keeps
        one per device: the run's is seeded, whichever device is current)."""
        random.seed(seed)
        np.random.seed(seed)
        if self.xp is not np:
            with chainer.using_device(self.device):
                self.xp.random.seed(seed)

    # -- outputs -------------------------------------------------------------------------
    def path(self, filename):
        """``out/filename``; creates ``out`` on first use (so a failed run leaves nothing)."""
        if not os.path.isdir(self.out):
            try:
                os.makedirs(self.out)
            except FileExistsError:    # made meanwhile (the Trainer of another MPI rank)
                pass
            else:
                cli._created_dirs.append(self.out)
        return os.path.join(self.out, filename)

    def savefig(self, fig, filename, dpi=100):
        import matplotlib.pyplot as plt
        if not self.is_root:
            plt.close(fig)
            return None
        path = self.path(filename)
        atomic_write(path, lambda f: fig.savefig(f, format='png', dpi=dpi,
                                                 bbox_inches='tight'))
        plt.close(fig)
        return path

    def save_npz(self, filename, **arrays):
        if not self.is_root:
            return None
        arrays = {k: chainer.backend.CpuDevice().send(v) for k, v in arrays.items()}
        path = self.path(filename)
        atomic_write(path, lambda f: np.savez_compressed(f, **arrays))
        return path

    def save_model(self, filename, link):
        if not self.is_root:
            return None
        path = self.path(filename)
        atomic_write(path, lambda f: save_npz_uncompressed(f, link))
        return path

    # -- data ----------------------------------------------------------------------------
    def load_data(self, name=None, **kwargs):
        """``datasets.load`` for ``--dataset``/``--data-dir``, then the validation hold-out
        (``--validation``) and the subsets ``--n-train``/``--n-test`` (the first N images; at
        most ``--n-test`` validation images); records its info for results."""
        import datasets
        self.data = datasets.load(name or self.args.dataset, data_dir=self.args.data_dir,
                                  **kwargs)
        self._hold_out_validation()
        self.data.subset(self.args.n_train, self.args.n_test)
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
        d.hold_out(n)

    def validation(self):
        """``(x_val, y_val)`` of the loaded data (empty without a validation split)."""
        return self.data.x_val, self.data.y_val

    def train_test(self):
        """``(x_train, y_train, x_test, y_test)`` of the loaded data."""
        d = self.data
        return d.x_train, d.y_train, d.x_test, d.y_test

    # -- training ------------------------------------------------------------------------
    def snapshot_interval(self, stop):
        """``--snapshot-interval`` epochs, or by default a quarter of the stage's length
        ``stop`` (at least 1, in its unit)."""
        every = getattr(self.args, 'snapshot_interval', None)
        if every:
            return every, 'epoch'
        length, unit = stop
        return max(1, int(length) // 4), unit

    def trainer(self, updater, models=None, report=(), plots=None, stop=None,
                log_trigger=None, snapshot_trigger=None, stage='main'):
        """The chainer Trainer of one training stage, with the standard extensions
        (:meth:`train` builds, resumes and runs it).

        Extensions: LogReport (``log``, or ``log_<stage>``; with ``images_per_sec`` over each
        log interval), PrintReport(epoch, iteration, ``report``, images_per_sec,
        elapsed_time), ProgressBar (not with --quick), PlotReport per ``plots`` entry
        ({png name: [keys]}), the NaN/inf guard (:class:`expkit.guards.FiniteGuard`), the
        global random state in snapshots (:class:`expkit.resume.RandomStateSnapshot`), an
        atomic trainer snapshot (``snapshot_iter_N.npz``, or ``snapshot_<stage>_iter_N.npz``)
        every ``snapshot_trigger`` (default :meth:`snapshot_interval`) and at the end. The
        stage stops at ``stop`` (default ``(--epoch, 'epoch')``) or early for
        ``--time-limit`` (:class:`StopAt`, one deadline for the whole run).
        """
        stop = stop or (self.args.epoch, 'epoch')
        log_trigger = log_trigger or (1, 'epoch')
        snapshot_trigger = snapshot_trigger or self.snapshot_interval(stop)
        snapshot_name, log_name = stage_files(stage)
        root = self.is_root
        if root:
            self.path('')  # create out
        deadline = None
        if self.time_limit is not None:
            deadline = self._start + 60.0 * self.time_limit
        stop_at = StopAt(*stop, deadline=deadline, snapshot_seconds=lambda: snapshot.seconds,
                         agree=self.dist.root_decides if self.dist.comm is not None else None)
        trainer = chainer.training.Trainer(updater, stop_at, out=self.out)
        guard = guards.FiniteGuard(   # NaN/inf: results.json marked diverged, exit 3
            self, last_snapshot=self.resume if stage == self.resume_stage else None,
            check_trigger=log_trigger)     # on a GPU: read once per log interval
        snapshot = TimedSnapshot(savefun=guard.saving(save_npz_uncompressed),
                                 filename=snapshot_name)
        st = self._current = Stage(stage, trainer, stop_at, snapshot, models, log_trigger,
                                   snapshot_trigger)
        trainer.extend(guard)
        trainer.extend(RandomStateSnapshot())  # a resumed run draws the same random numbers
        if not root:     # ranks > 0: no log, plots or snapshots; their own random numbers
            trainer.extend(self.dist.reseed_extension(self.args.seed))
            return trainer
        st.log_report = extensions.LogReport(trigger=log_trigger, filename=log_name,
                                             postprocess=st.images_per_sec)
        trainer.extend(st.log_report)
        columns = ['epoch', 'iteration'] + list(report) + ['images_per_sec', 'elapsed_time']
        trainer.extend(extensions.PrintReport(columns), trigger=log_trigger)
        if not self.quick:
            trainer.extend(extensions.ProgressBar(update_interval=10))
        for filename, keys in (plots or {}).items():
            trainer.extend(PlotReport(list(keys), x_key=log_trigger[1], filename=filename,
                                      trigger=log_trigger))
        trainer.extend(snapshot, trigger=snapshot_trigger)
        return trainer

    def train(self, updater, stage='main', models=None, report=(), plots=None, stop=None,
              extensions=(), select=None, images_per_iteration=None, log_trigger=None,
              snapshot_trigger=None):
        """Train one stage: the one entry point of every training loop. Returns its Trainer.

        ``stage``: one of the declared ``stages``, in their order; ``models``: {name: link}
        saved as ``model_<name>.npz`` when the stage ends; ``report``: PrintReport columns;
        ``plots``: {png name: [keys]}; ``stop``: ``(length, 'epoch' or 'iteration')``
        (default ``--epoch`` epochs); ``extensions``: the script's own Trainer extensions;
        ``select``: keyword arguments of :meth:`select_best` (model selection on a
        validation metric); ``images_per_iteration``: for images/s (default --batchsize).

        With ``--resume`` of this stage's snapshot the stage continues from it; a stage
        before the resumed one is reloaded (:meth:`_reload`), not trained; a stage after it
        starts afresh. After a stage that ``--time-limit`` stopped, later stages are skipped
        (their Trainer is returned untrained). results.json records every stage under
        ``stages``.

        In a distributed run (``--communicator``) the ranks > 0 train without the
        extensions marked ``report_only`` (e.g. :class:`expkit.extensions.TestError`) and
        without model selection, and leave the script (exit status 0) when the last
        declared stage ends: evaluation, figures and results.json are rank 0's.
        """
        if len(self._stages) >= len(self.stages) or self.stages[len(self._stages)] != stage:
            raise ValueError('training stage %r: the run declared the stages %s, in this order'
                             % (stage, self.stages))
        trainer = self.trainer(updater, models=models, report=report, plots=plots, stop=stop,
                               log_trigger=log_trigger, snapshot_trigger=snapshot_trigger,
                               stage=stage)
        st = self._stages[stage] = self._current
        for extension in extensions:
            if self.is_root or not getattr(extension, 'report_only', False):
                trainer.extend(extension)
        if select and self.is_root:
            self.select_best(trainer, **select)
        st.images_per_iteration = images_per_iteration or self.args.batchsize
        order = self.stages.index
        if self.resume_stage is not None and order(stage) < order(self.resume_stage):
            self._reload(st)
        elif self.partial:
            st.status = 'skipped'
        else:
            self._run(st)
        if not self.is_root and stage == self.stages[-1]:
            sys.stdout.flush()
            sys.exit(0)          # rank 0 evaluates and writes the results
        return trainer

    def _load(self, trainer, path):
        """Load a trainer snapshot, after the script added its own extensions, so that their
        state and triggers are restored too (a trigger created after loading would fire at
        the first update of the resumed run)."""
        try:
            chainer.serializers.load_npz(path, trainer)
        except Exception as exc:
            raise UsageError('--resume %s: cannot load %s into this run (%s); pass a '
                             'snapshot written by the same script and options'
                             % (self.resume, path, ' '.join(str(exc).split())[:200]))

    def _run(self, st):
        """Resume (``--resume`` of this stage), run the trainer (until done or
        ``--time-limit``), snapshot the final state, save the models, measure images/s."""
        trainer = st.trainer
        if st.name == self.resume_stage:
            self._load(trainer, self.resume)
            self._bring_over(st, with_models=False)
        if len(self.stages) > 1 and self.is_root:
            sys.stdout.write('training stage %s\n' % st.name)
        st.status = 'running'
        start_iteration = trainer.updater.iteration
        t0 = clock()
        trainer.run()
        st.seconds = clock() - t0
        st.iterations = trainer.updater.iteration - start_iteration
        if self.is_root:
            st.snapshot(trainer)
        for name, link in st.models.items():
            self.save_model('model_%s.npz' % name, link)
        st.status = 'partial' if st.stop.timed_out else 'trained'
        self._train_end = clock()
        if st.status == 'partial' and self.is_root:
            sys.stdout.write('time limit (%g min): training stopped at iteration %d of %s%s; '
                             'resume with:\n  %s\n' % (
                                 self.time_limit, trainer.updater.iteration,
                                 st.planned_iterations(),
                                 '' if len(self.stages) == 1 else ' of stage ' + st.name,
                                 self.resume_command()))

    def _reload(self, st):
        """A stage before the resumed one, which the earlier run finished: its newest snapshot
        in the folder of the ``--resume`` snapshot is loaded (weights, log, model
        selection), or, if there is none, its models ``model_<name>.npz``; it is not
        trained again."""
        folder = os.path.dirname(os.path.abspath(self.resume))
        pattern = stage_files(st.name)[0].replace('{.updater.iteration}', '*')
        found = [(int(_SNAPSHOT.fullmatch(os.path.basename(p)).group('iteration')), p)
                 for p in glob.glob(os.path.join(folder, pattern))]
        if found:
            st.reloaded_from = max(found)[1]
            self._load(st.trainer, st.reloaded_from)
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
                self._load(st.models[name], path)
            st.reloaded_from = sorted(files.values())
        self._bring_over(st, with_models=True)
        st.status = 'reloaded'

    def _bring_over(self, st, with_models):
        """Resumed into another --out: copy the stage's best-on-validation models there (and,
        for a reloaded stage, save its models), so the new folder is complete. Where the
        best models are nowhere at hand, selection starts again (a warning says so)."""
        if not self.is_root:
            return
        folder = os.path.dirname(os.path.abspath(self.resume))
        elsewhere = os.path.realpath(folder) != os.path.realpath(self.out)
        for selector in st.selectors:
            for filename in selector.files().values():
                if elsewhere and os.path.isfile(os.path.join(folder, filename)):
                    shutil.copyfile(os.path.join(folder, filename), self.path(filename))
            missing = [f for f in selector.files().values() if not os.path.isfile(self.path(f))]
            if selector.best_value is not None and missing:
                iteration = st.trainer.updater.iteration
                sys.stderr.write('warning: --resume %s: %s (best on validation so far) not '
                                 'beside the snapshot; model selection starts again from '
                                 'update %d\n' % (self.resume, ', '.join(missing), iteration))
                selector.restart(iteration)
        if with_models and elsewhere:
            for name, link in st.models.items():
                self.save_model('model_%s.npz' % name, link)

    def select_best(self, trainer, name, evaluate, models, trigger=None, mode='min'):
        """Add model selection on a validation metric (:class:`SelectBest`) to ``trainer``,
        every ``trigger`` (default: the log interval); recorded in results.json under
        ``model_selection``. Returns the extension (``load_best()`` for the test number of
        the best-on-validation model)."""
        selector = SelectBest(self, name, evaluate, models, mode)
        trainer.extend(selector, name='select_best_' + name,
                       trigger=trigger or self._current.log_trigger)
        self.selectors[name] = selector
        self._current.selectors.append(selector)
        return selector

    @property
    def partial(self):
        """True when ``--time-limit`` stopped training before its planned end."""
        return any(st.status == 'partial' for st in self._stages.values())

    def _reported_stage(self):
        """The stage whose iterations results.json reports at the top level: the one that
        ``--time-limit`` stopped, else 'main', else the last one trained."""
        ran = [st for st in self._stages.values() if st.status in ('trained', 'partial')]
        for st in ran:
            if st.status == 'partial':
                return st
        return self._stages['main'] if 'main' in self._stages and self._stages[
            'main'] in ran else (ran[-1] if ran else None)

    def resume_command(self):
        """This command with ``--resume`` of the stopped stage's final snapshot and ``--out
        OUT``, so the resumed run continues the same log and curves."""
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
        snapshot = self._reported_stage().snapshot_path(self.out)
        launch = ['mpiexec', '-n', str(self.dist.size)] if self.dist.comm is not None else []
        return ' '.join(launch + ['python', self.args.script] + [shlex.quote(a) for a in out] +
                        ['--out', shlex.quote(self.out), '--resume', shlex.quote(snapshot)])

    # -- results -------------------------------------------------------------------------
    def record(self, key, value):
        """Put ``value`` into results.json under ``key`` (e.g. a schedule, a data split)."""
        self._recorded[key] = value

    def finish(self, measured, config=None, diverged=None):
        """Write ``out/results.json`` (atomically, its paths portable: expkit.portable) and
        return the results as a dict with this run's own paths (rank 0 of a distributed run;
        the other ranks write nothing and get None)."""
        if not self.is_root:
            return None
        args = {k: v for k, v in vars(self.args).items() if k not in ('argv', 'script')}
        command = ' '.join(['python', self.args.script] + list(self.args.argv))
        trained = [st for st in self._stages.values() if st.status in ('trained', 'partial')]
        seconds = sum(st.seconds for st in trained)
        images = sum(st.iterations * st.images_per_iteration for st in trained)
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
            'resumed_from': self.resume,
            'train_iterations': sum(st.iterations for st in trained) if trained else None,
            'train_seconds': round(seconds, 2) if trained else None,
            'train_images_per_second': round(images / max(seconds, 1e-9), 1) if trained
            else None,
            'eval_seconds': (None if self._train_end is None
                             else round(clock() - self._train_end, 2)),
            'time_limit_minutes': self.time_limit,
            'partial': self.partial,
            'diverged': bool(diverged),
        }
        if diverged:
            results['divergence'] = diverged
            for st in self._stages.values():
                if st.status == 'running':
                    st.status = 'diverged'
        reported = self._reported_stage()
        if reported is not None:
            results['stopped_at_iteration'] = int(reported.trainer.updater.iteration)
            results['planned_iterations'] = reported.planned_iterations()
            results['planned'] = {'length': reported.stop.length, 'unit': reported.stop.unit}
            results['resume_command'] = self.resume_command() if self.partial else None
            if self.partial and len(self.stages) > 1:
                results['stopped_in_stage'] = reported.name
        if self._stages:
            results['stages'] = {name: st.record() for name, st in self._stages.items()}
        if self.selectors:
            results['model_selection'] = {k: sel.summary() for k, sel in self.selectors.items()}
        results.update(self._recorded)
        on_disk = portable(results, self.out, [getattr(self.args, 'data_dir', None),
                                               os.environ.get('MNIST_DIR')])
        text = json.dumps(on_disk, indent=2, default=_json_default, sort_keys=False)
        atomic_write(self.path('results.json'), lambda f: f.write(text.encode() + b'\n'))
        sys.stdout.write('wrote %s\n' % self.path('results.json'))
        return results

    def finish_diverged(self, info):
        """``results.json`` of a run that :class:`expkit.guards.FiniteGuard` stopped."""
        return self.finish(measured={}, diverged=info)
