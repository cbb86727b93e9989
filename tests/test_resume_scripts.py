"""``--resume`` on a real experiment script: the AAE updater (two optimisers on the encoder,
learning-rate drops) continues from a snapshot instead of starting again."""
import json

import numpy as np
import pytest

from expkit.testing import run_script

pytestmark = pytest.mark.slow      # real script runs

SMALL = ['--set', 'n-hidden=16', '--batchsize', '500', '--snapshot-interval', '1',
         '--set', 'lr-drop=1']


def _log(out):
    return json.loads((out / 'log').read_text())


def test_aae_gaussian_resumes_from_snapshot(tmp_path, monkeypatch):
    monkeypatch.setenv('MNIST_OFFLINE', '1')
    first = tmp_path / 'first'
    res = run_script('experiments/aae_gaussian.py', SMALL + ['--epoch', '2', '--out', str(first)])
    n_train = res['dataset']['n_train']
    per_epoch = -(-n_train // 500)
    snapshots = sorted(p.name for p in first.glob('snapshot_iter_*.npz'))
    assert snapshots == sorted(['snapshot_iter_%d.npz' % per_epoch,
                                'snapshot_iter_%d.npz' % (2 * per_epoch)])
    assert [e['epoch'] for e in _log(first)] == [1, 2]

    # From the epoch-1 snapshot, with a longer schedule: epochs 2 and 3 only are trained.
    resumed = tmp_path / 'resumed'
    res = run_script('experiments/aae_gaussian.py', SMALL + [
        '--epoch', '3', '--out', str(resumed),
        '--resume', str(first / ('snapshot_iter_%d.npz' % per_epoch))])
    assert res['train_iterations'] == 2 * per_epoch
    assert res['resumed_from'] == 'OUT/../first/snapshot_iter_%d.npz' % per_epoch  # portable
    assert str(tmp_path) not in json.dumps(res)
    log = _log(resumed)
    assert [e['epoch'] for e in log] == [1, 2, 3]
    assert log[-1]['iteration'] == 3 * per_epoch
    assert (resumed / ('snapshot_iter_%d.npz' % (3 * per_epoch))).exists()

    # From the final snapshot with the same schedule: nothing more is trained.
    again = tmp_path / 'again'
    res = run_script('experiments/aae_gaussian.py', SMALL + [
        '--epoch', '2', '--out', str(again),
        '--resume', str(first / ('snapshot_iter_%d.npz' % (2 * per_epoch)))])
    assert res['train_iterations'] == 0
    a, b = np.load(first / 'model_enc.npz'), np.load(again / 'model_enc.npz')
    assert set(a.files) == set(b.files)
    for key in a.files:
        np.testing.assert_array_equal(a[key], b[key])
