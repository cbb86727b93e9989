"""Crash-safe resume, shown by killing real runs.

For one script of each family: a run in a child process is killed with SIGKILL at a random
moment after its first snapshot, then resumed from its newest snapshot. The resumed run
finishes; at most one snapshot interval of updates was lost; every snapshot left behind
loads; and from the snapshot on, the resumed run's losses equal those of an uninterrupted
run with the same seed, update for update (CPU, one BLAS thread, a log entry per update:
``tests/reliability_runs.py``).
"""
import glob
import os
import random
import signal
import time

import numpy as np
import pytest

from reliability_runs import losses, read_log, run_logged, start_child

pytestmark = pytest.mark.slow      # real script runs

FAMILIES = {   # script, epochs (one snapshot each), small options
    'aae': ('aae_gaussian', 5, ['--set', 'n-hidden=64']),
    'vae': ('vae_mnist', 5, ['--set', 'n-hidden=64', '--z-dim', '4', '--manifold-epoch', '0',
                             '--iw-samples', '5', '--nll-examples', '10']),
    'm2': ('m2_semisupervised', 3, ['--set', 'n-hidden=32', '--z-dim', '4']),
    'gan': ('dcgan_mnist', 4, ['--set', 'ch=2', '--z-dim', '10', '--parzen-samples', '100',
                               '--parzen-test', '50']),
    'glo': ('glo_mnist', 3, ['--z-dim', '4', '--set', 'compare-loss=none', '--set', 'loss=mse',
                             '--set', 'ch=2', '--n-heldout', '10', '--set', 'infer-steps=2']),
}


def _snapshots(out):
    return sorted((int(os.path.basename(p)[len('snapshot_iter_'):-4]), p)
                  for p in glob.glob(os.path.join(str(out), 'snapshot_iter_*.npz')))


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_killed_run_resumes_update_for_update(family, tmp_path, monkeypatch):
    monkeypatch.setenv('MNIST_OFFLINE', '1')
    script, epochs, extra = FAMILIES[family]
    argv = ['--batchsize', '500', '--epoch', str(epochs), '--snapshot-interval', '1',
            '--n-train', '5000', '--n-test', '500'] + extra    # the same with $MNIST_DIR

    # the uninterrupted run
    res, reference = run_logged(script, argv + ['--out', str(tmp_path / 'ref')], monkeypatch)
    seconds = res['train_seconds']
    n_updates = reference[-1]['iteration']
    assert [e['iteration'] for e in reference] == list(range(1, n_updates + 1))
    ref_snaps = [0] + [it for it, _ in _snapshots(tmp_path / 'ref')]
    interval = max(np.diff(ref_snaps))             # one epoch of updates
    assert len(ref_snaps) == epochs + 1 and ref_snaps[-1] == n_updates

    # the same run, killed at a random moment after its first snapshot
    out = tmp_path / 'killed'
    child = start_child(script, argv + ['--out', str(out)], tmp_path)
    try:
        deadline = time.time() + 600          # generous: a loaded machine is slow
        while not _snapshots(out) and child.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        assert _snapshots(out), 'no snapshot appeared: %s' % child.stderr.read()[-2000:]
        delay = random.uniform(0, 0.5 * seconds * (epochs - 2) / epochs)
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL, (
        'the run ended by itself before the kill (after %.2f s); lengthen it' % delay)
    assert not (out / 'results.json').exists()
    reached = read_log(out)[-1]['iteration']
    snaps = _snapshots(out)
    for _, path in snaps:                           # nothing half-written under these names
        with np.load(path) as f:
            assert f.files
    snap_it, newest = snaps[-1]
    assert snap_it in ref_snaps[1:]
    assert reached - snap_it <= interval, (reached, snap_it)    # at most one interval lost
    assert reached < n_updates, 'killed after the last update (delay %.2f s)' % delay

    # resumed from the newest snapshot, in the same folder, as a user would
    res, resumed = run_logged(script, argv + ['--out', str(out), '--resume', newest],
                              monkeypatch)
    assert res['resumed_from'] == 'OUT/' + os.path.basename(newest)    # portable path
    assert res['diverged'] is False
    assert res['train_iterations'] == n_updates - snap_it
    assert [e['iteration'] for e in resumed] == [e['iteration'] for e in reference]
    for ref, got in zip(reference, resumed):
        assert losses(got) == losses(ref), (family, snap_it, ref['iteration'])
