"""Helpers for the kill/resume and determinism tests: run a script with a log entry per
update, in this process (one BLAS thread) or in a child process that can be killed.

Both patch ``Experiment.trainer`` alike: LogReport's trigger becomes every update, and the
loss plots (PlotReport, which would draw a PNG per update) are left out. Everything else is
the script as a user runs it."""
import contextlib
import json
import os
import subprocess
import sys

from threadpoolctl import threadpool_limits

import expkit.experiment
from expkit.testing import run_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONE_THREAD = {name: '1' for name in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS',
                                     'MKL_NUM_THREADS')}

PER_UPDATE = dict(log_trigger=(1, 'iteration'), plots=None)
_CHILD = '''
import runpy, sys
import expkit.experiment as e
trainer = e.Experiment.trainer
e.Experiment.trainer = lambda self, *a, **k: trainer(self, *a, **dict(k, **%r))
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
''' % PER_UPDATE


@contextlib.contextmanager
def per_update_log(monkeypatch):
    trainer = expkit.experiment.Experiment.trainer
    monkeypatch.setattr(expkit.experiment.Experiment, 'trainer', lambda self, *a, **k: trainer(
        self, *a, **dict(k, **PER_UPDATE)))
    yield
    monkeypatch.setattr(expkit.experiment.Experiment, 'trainer', trainer)


def run_logged(script, argv, monkeypatch, threads=1):
    """``run_script`` with a log entry per update and ``threads`` BLAS threads; returns
    (results, log)."""
    with per_update_log(monkeypatch), threadpool_limits(limits=threads):
        res = run_script('experiments/%s.py' % script, argv)
    out = argv[argv.index('--out') + 1]
    return res, read_log(out)


def start_child(script, argv, cwd):
    env = dict(os.environ, MNIST_OFFLINE='1', **ONE_THREAD)
    return subprocess.Popen([sys.executable, '-c', _CHILD,
                             os.path.join(ROOT, 'experiments', script + '.py')] + list(argv),
                            cwd=str(cwd), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def read_log(out):
    with open(os.path.join(str(out), 'log')) as f:
        return json.load(f)


def losses(entry):
    """A log entry without its clock (``elapsed_time`` and the ``images_per_sec`` it gives)."""
    return {k: v for k, v in entry.items() if k not in ('elapsed_time', 'images_per_sec')}
