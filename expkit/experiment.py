"""One run of one experiment: seeds, device, data, the Trainer wiring, and ``results.json``."""
import json
import os
import platform
import random
import sys
import tempfile
import time

import numpy as np

import chainer
from chainer.training import extensions

from expkit import cli, guards
from expkit.errors import UsageError
from expkit.resume import RandomStateSnapshot


def resolve_device(args):
    """``--gpu N`` is an alias for ``--device @cupy:N``, as in chainer's own examples."""
    spec = args.device
    if args.gpu is not None:
        spec = '@cupy:%d' % args.gpu if args.gpu >= 0 else '@numpy'
    if spec.startswith('@cupy') or spec.lstrip('-').isdigit() and int(spec) >= 0:
        if not chainer.backends.cuda.available:
            raise UsageError(
                '%s needs CuPy and a CUDA GPU, which this Python does not have; install them '
                "with pip install -e '.[gpu]' (cupy-cuda12x==13.6.0) or drop --gpu/--device "
                'to run on the CPU' % ('--gpu %d' % args.gpu if args.gpu is not None
                                       else '--device ' + spec))
    try:
        return chainer.get_device(spec)
    except Exception as exc:  # chainer raises ValueError/RuntimeError for bad specs
        raise UsageError("bad --device %r (%s); use '@numpy' or '@cupy:N'" % (spec, exc))


def save_npz_uncompressed(file, obj):
    """``chainer.serializers.save_npz`` without zlib: snapshots of 1000-unit MLPs compress
    poorly and zlib cost more than the training step of a ``--quick`` run."""
    chainer.serializers.save_npz(file, obj, compression=False)


class StopAt:
    """Stop once ``epoch_detail`` (or ``iteration``) reaches ``length``.

    Stateless on purpose: chainer's ``IntervalTrigger`` is serialized into snapshots, so a
    finished run resumed with the same ``--epoch`` would train one more full period.
    """

    def __init__(self, length, unit):
        if unit not in ('epoch', 'iteration'):
            raise ValueError('unit must be epoch or iteration')
        self.length, self.unit = length, unit

    def __call__(self, trainer):
        done = (trainer.updater.epoch_detail if self.unit == 'epoch'
                else trainer.updater.iteration)
        return done >= self.length

    def get_training_length(self):
        return self.length, self.unit


def _versions():
    try:
        import cupy
        cupy_version = cupy.__version__
    except Exception:
        cupy_version = None
    return {'python': platform.python_version(), 'chainer': chainer.__version__,
            'numpy': np.__version__, 'cupy': cupy_version}


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
        self._start = time.time()
        if args.resume is not None and not os.path.isfile(args.resume):
            raise UsageError('--resume %s: no such snapshot file; pass a snapshot_*.npz '
                             'written by an earlier run' % args.resume)
        self.seed(args.seed)

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
        return self.data

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

        Extensions: LogReport, PrintReport(epoch, iteration, ``report``, elapsed_time),
        ProgressBar, PlotReport per ``plots`` entry ({png name: [keys]}), an atomic trainer
        snapshot every ``--snapshot-interval`` epochs (and at the end, see :meth:`run`), and
        the ``models`` ({name: link}) saved as ``model_<name>.npz`` at the end.
        """
        stop = stop or (self.args.epoch, 'epoch')
        log_trigger = log_trigger or (1, 'epoch')
        self.path('')  # create out
        trainer = chainer.training.Trainer(updater, StopAt(*stop), out=self.out)
        trainer.extend(extensions.LogReport(trigger=log_trigger))
        columns = ['epoch', 'iteration'] + list(report) + ['elapsed_time']
        trainer.extend(extensions.PrintReport(columns), trigger=log_trigger)
        if not self.quick:
            trainer.extend(extensions.ProgressBar(update_interval=10))
        for filename, keys in (plots or {}).items():
            trainer.extend(extensions.PlotReport(list(keys), x_key=log_trigger[1],
                                                 filename=filename, trigger=log_trigger))
        guard = guards.FiniteGuard(self)     # NaN/inf: results.json marked diverged, exit 3
        trainer.extend(guard)
        trainer.extend(RandomStateSnapshot())  # a resumed run draws the same random numbers
        self._snapshot = extensions.snapshot(savefun=guard.saving(save_npz_uncompressed),
                                             filename='snapshot_iter_{.updater.iteration}.npz')
        trainer.extend(self._snapshot,
                       trigger=snapshot_trigger or (self.args.snapshot_interval, 'epoch'))
        self._models = dict(models or {})
        return trainer

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
        """Resume (``--resume``), run the trainer, snapshot the final state, save models,
        measure images/s."""
        self.resume(trainer)
        start_iteration = trainer.updater.iteration
        t0 = time.time()
        trainer.run()
        self.train_seconds = time.time() - t0
        self.train_iterations = trainer.updater.iteration - start_iteration
        images = self.train_iterations * images_per_iteration
        self.images_per_second = images / max(self.train_seconds, 1e-9)
        self._snapshot(trainer)
        for name, link in self._models.items():
            self.save_model('model_%s.npz' % name, link)
        return trainer

    # -- results -------------------------------------------------------------------------
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
            'seconds': round(time.time() - self._start, 2),
            'resumed_from': self.args.resume,
            'train_iterations': self.train_iterations,
            'train_seconds': None if self.train_seconds is None else round(self.train_seconds, 2),
            'train_images_per_second': (None if self.images_per_second is None
                                        else round(self.images_per_second, 1)),
            'diverged': bool(diverged),
        }
        if diverged:
            results['divergence'] = diverged
        text = json.dumps(results, indent=2, default=_json_default, sort_keys=False)
        atomic_write(self.path('results.json'), lambda f: f.write(text.encode() + b'\n'))
        sys.stdout.write('wrote %s\n' % self.path('results.json'))
        return results

    def finish_diverged(self, info):
        """``results.json`` of a run that :class:`expkit.guards.FiniteGuard` stopped."""
        return self.finish(measured={}, diverged=info)
