"""``results.json``: what a run measured, next to everything needed to judge and repeat it
(command, options, seed, device, versions, git commit, timings, training stages)."""
import json
import os
import platform
import subprocess

import numpy as np

import chainer

from expkit import training


def versions():
    try:
        import cupy
        cupy_version = cupy.__version__
    except Exception:
        cupy_version = None
    return {'python': platform.python_version(), 'chainer': chainer.__version__,
            'numpy': np.__version__, 'cupy': cupy_version}


def git_state():
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


def to_json(results):
    return json.dumps(results, indent=2, default=_json_default, sort_keys=False)


def collect(exp, measured, config=None, diverged=None):
    """The results of the run ``exp`` (an :class:`expkit.Experiment`) as a dict: ``measured``
    (the script's numbers), ``config`` (added to every parsed option), ``diverged`` (what
    :class:`expkit.guards.FiniteGuard` found, or None)."""
    run, schedule = exp.run, exp.schedule
    stages = schedule.stages
    trained = [st for st in stages.values() if st.status in ('trained', 'partial')]
    seconds = sum(st.seconds for st in trained)
    images = sum(st.iterations * st.images_per_iteration for st in trained)
    results = {
        'experiment': exp.name,
        'command': run.command,
        'paper': exp.paper,
        'measured': measured,
        'dataset': exp.data.info if exp.data is not None else None,
        'config': dict(run.options, **(config or {})),
        'seed': run.seed,
        'device': str(exp.device),
        'versions': versions(),
        'git_commit': exp.git[0], 'git_dirty': exp.git[1],
        'seconds': round(training.clock() - exp.started, 2),
        'threads': exp.threads,
        'resumed_from': run.resume,
        'train_iterations': sum(st.iterations for st in trained) if trained else None,
        'train_seconds': round(seconds, 2) if trained else None,
        'train_images_per_second': round(images / max(seconds, 1e-9), 1) if trained
        else None,
        'eval_seconds': (None if schedule.train_end is None
                         else round(training.clock() - schedule.train_end, 2)),
        'time_limit_minutes': run.time_limit,
        'partial': schedule.partial,
        'diverged': bool(diverged),
    }
    if diverged:
        results['divergence'] = diverged
        for st in stages.values():
            if st.status == 'running':
                st.status = 'diverged'
    reported = schedule.reported()
    if reported is not None:
        results['stopped_at_iteration'] = int(reported.trainer.updater.iteration)
        results['planned_iterations'] = reported.planned_iterations()
        results['planned'] = {'length': reported.stop.length, 'unit': reported.stop.unit}
        results['resume_command'] = schedule.resume_command() if schedule.partial else None
        if schedule.partial and len(schedule.names) > 1:
            results['stopped_in_stage'] = reported.name
    if stages:
        results['stages'] = {name: st.record() for name, st in stages.items()}
    if exp.selectors:
        results['model_selection'] = {k: sel.summary() for k, sel in exp.selectors.items()}
    results.update(exp.recorded)
    return results
