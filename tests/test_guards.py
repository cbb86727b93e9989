"""NaN and divergence guards: a NaN forced into each family's updater stops the
run with one line naming the phase and the update, exit status 3, the last good snapshot
kept and results.json marked diverged."""
import glob
import json
import os

import numpy as np
import pytest

from expkit import run_main
from expkit.testing import load_script

from aae.updater import AAEUpdater
from gan.updater import GANUpdater
from glo.updater import GLOUpdater
from vae.updater import M2Updater, VAEUpdater

SMALL = ['--batchsize', '500', '--epoch', '3', '--snapshot-interval', '1']
FAMILIES = {
    'aae': ('aae_gaussian', AAEUpdater, ['--set', 'n-hidden=16']),
    'vae': ('vae_mnist', VAEUpdater, ['--set', 'n-hidden=16', '--z-dim', '2',
                                      '--manifold-epoch', '0']),
    'm2': ('m2_semisupervised', M2Updater, ['--set', 'n-hidden=16', '--z-dim', '4']),
    'gan': ('dcgan_mnist', GANUpdater, ['--set', 'ch=2', '--z-dim', '10']),
    'glo': ('glo_mnist', GLOUpdater, ['--z-dim', '4', '--set', 'compare-loss=none',
                                      '--set', 'loss=mse', '--set', 'ch=2']),
}


def _poison(updater):
    """Set the first parameter of the first optimiser's target to NaN."""
    name, opt = sorted(updater.get_all_optimizers().items())[0]
    path, param = sorted(opt.target.namedparams())[0]
    param.array[...] = np.nan
    return name + path


def _inject(monkeypatch, cls, before_epoch=None, after_epoch=None):
    """Poison the parameters before the first update of epoch ``before_epoch`` (the loss of
    that update is NaN), or after the last update of epoch ``after_epoch`` (its loss is
    finite; only the parameters are bad). Returns a dict that records the update."""
    orig, record = cls.update_core, {}

    def update_core(self):
        if not record and before_epoch is not None and self.epoch == before_epoch:
            record.update(update=self.iteration + 1, param=_poison(self))
        orig(self)
        if not record and after_epoch is not None and self.epoch == after_epoch:
            record.update(update=self.iteration + 1, param=_poison(self))
    monkeypatch.setattr(cls, 'update_core', update_core)
    return record


def _run_diverging(script, argv, out, capsys):
    module = load_script('experiments/%s.py' % script)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run_main(module.main, argv + ['--out', str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 3, err[-3000:]
    lines = [line for line in err.strip().splitlines() if not line.startswith('WARNING: MNIST')]
    assert len(lines) == 1 and 'Traceback' not in err, err[-3000:]
    return lines[0], json.loads((out / 'results.json').read_text())


def _snapshots(out):
    return {int(os.path.basename(p)[len('snapshot_iter_'):-4]): p
            for p in glob.glob(str(out / 'snapshot_iter_*.npz'))}


def _assert_last_good_snapshot(out, results, update):
    snaps = _snapshots(out)
    assert snaps and max(snaps) < update, (sorted(snaps), update)
    newest = snaps[max(snaps)]
    assert results['divergence']['last_good_snapshot'] == 'OUT/' + os.path.basename(newest)
    with np.load(newest) as f:            # loadable, and every array in it finite
        for key in f.files:
            if f[key].dtype.kind == 'f':
                assert np.isfinite(f[key]).all(), key
    assert not [n for n in os.listdir(out) if n.startswith('tmp')]


@pytest.mark.slow
@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_nan_loss_stops_the_run(family, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('MNIST_OFFLINE', '1')
    script, cls, extra = FAMILIES[family]
    record = _inject(monkeypatch, cls, before_epoch=1)
    out = tmp_path / 'out'
    line, results = _run_diverging(script, SMALL + extra, out, capsys)
    update = record['update']
    assert results['diverged'] is True and results['measured'] == {}
    info = results['divergence']
    assert info['update'] == update and '/' in info['phase'], info     # e.g. main/loss_rec
    assert not info['phase'].startswith('parameter')                  # the loss, at once
    assert 'diverged: %s is nan at update %d ' % (info['phase'], update) in line, line
    assert 'kept the last good snapshot' in line and 'results.json' in line, line
    _assert_last_good_snapshot(out, results, update)


@pytest.mark.slow
def test_nan_parameter_with_finite_loss_is_caught_before_the_snapshot(tmp_path, capsys,
                                                                        monkeypatch):
    monkeypatch.setenv('MNIST_OFFLINE', '1')
    script, cls, extra = FAMILIES['aae']
    record = _inject(monkeypatch, cls, after_epoch=2)
    out = tmp_path / 'out'
    line, results = _run_diverging(script, SMALL + extra, out, capsys)
    update = record['update']
    assert 'diverged: parameter %s is nan at update %d ' % (record['param'], update) in line
    assert results['divergence']['phase'] == 'parameter ' + record['param']
    _assert_last_good_snapshot(out, results, update)
    assert len(_snapshots(out)) == 1        # epoch 1's; epoch 2's state was bad, not written


@pytest.mark.slow
def test_a_finite_run_is_marked_not_diverged(tmp_path, monkeypatch):
    monkeypatch.setenv('MNIST_OFFLINE', '1')
    from expkit.testing import run_script
    res = run_script('experiments/aae_gaussian.py',
                     ['--quick', '--set', 'n-hidden=8', '--out', str(tmp_path / 'ok')])
    assert res['diverged'] is False and 'divergence' not in res
