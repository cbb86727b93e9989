"""tools/gpu_parity.py and tools/gpu_check.sh, checked on the CPU. No GPU here: the parity
checks compare the CPU with the CPU stand-in for a GPU (tests/device_standin.py), into which
deliberately broken copies of the training steps are injected, on the stand-in only; each
must make its check fail."""
import json
import os
import re
import subprocess
import time

import numpy as np
import pytest

import chainer
import chainer.links as L

import device_standin
from expkit.testing import load_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def parity():
    return load_script('tools/gpu_parity.py')


def _on_device(*arrays):
    return any(isinstance(getattr(a, 'array', a), device_standin.DeviceArray) for a in arrays)


# -- the broken copies: each changes one step, on the stand-in device only ---------------------
def _aae_phase(monkeypatch, phase, change):
    from aae.updater import _PhaseUpdater
    step = _PhaseUpdater._step

    def broken(self, names, loss, links):
        if list(names) == [phase] and _on_device(loss):
            return change(self, step, names, loss, links)
        return step(self, names, loss, links)
    monkeypatch.setattr(_PhaseUpdater, '_step', broken)


def _disabled(self, step, names, loss, links):
    for link in links:
        link.cleargrads()


def _sign_flipped(self, step, names, loss, links):
    return step(self, names, -loss, links)


def _halved(self, step, names, loss, links):
    from aae.optim import STEP_SIZE_ATTR
    opt = self.get_optimizer(names[0])
    attr = STEP_SIZE_ATTR[type(opt)]
    setattr(opt, attr, getattr(opt, attr) / 2)
    try:
        return step(self, names, loss, links)
    finally:
        setattr(opt, attr, getattr(opt, attr) * 2)


def _nips14_halved(monkeypatch):
    from vae.optim import _NIPS14AdamRule
    update = _NIPS14AdamRule.update_core_cpu

    def broken(self, param):
        if _on_device(param):
            self.hyperparam.alpha /= 2
        update(self, param)
    monkeypatch.setattr(_NIPS14AdamRule, 'update_core_cpu', broken)


def _kl_sign_flipped(monkeypatch):
    import vae.loss
    kl = vae.loss.gaussian_kl
    monkeypatch.setattr(vae.loss, 'gaussian_kl', lambda mu, ln_var: -kl(mu, ln_var)
                        if _on_device(mu) else kl(mu, ln_var))


def _gan_generator_sign_flipped(monkeypatch):
    import gan.updater
    loss = gan.updater.generator_loss
    monkeypatch.setattr(gan.updater, 'generator_loss', lambda y, kind: -loss(y, kind)
                        if _on_device(y) else loss(y, kind))


def _running_stats_frozen(monkeypatch):
    forward = L.BatchNormalization.forward

    def broken(self, x, **kwargs):
        kept = self.avg_mean.copy(), self.avg_var.copy()
        y = forward(self, x, **kwargs)
        if _on_device(x):
            self.avg_mean[...], self.avg_var[...] = kept
        return y
    monkeypatch.setattr(L.BatchNormalization, 'forward', broken)


def _projection_disabled(monkeypatch):
    from glo.net import ProjectCodes
    project = ProjectCodes.__call__
    monkeypatch.setattr(ProjectCodes, '__call__', lambda self, opt: None
                        if _on_device(opt.target.W) else project(self, opt))


def _parzen_sigma_halved(monkeypatch):
    import evaluation.parzen
    ll = evaluation.parzen.parzen_log_likelihood
    monkeypatch.setattr(evaluation.parzen, 'parzen_log_likelihood', lambda x, s, sigma, **k:
                        ll(x, s, sigma / 2 if _on_device(x) else sigma, **k))


FAULTS = {
    'AAE %s: %s' % (optimizer, what): (check, lambda m, phase=phase, change=change:
                                       _aae_phase(m, phase, change))
    for optimizer, check in (('SGD', 'aae_sgd'), ('Adam', 'aae_adam'))
    for what, phase, change in (('generator step disabled', 'gen', _disabled),
                                ('generator step sign-flipped', 'gen', _sign_flipped),
                                ('discriminator step halved', 'dis', _halved))}
FAULTS.update({
    'NIPS14 Adam: step halved': ('nips14_adam', _nips14_halved),
    'VAE: KL sign-flipped': ('vae', _kl_sign_flipped),
    'DCGAN: generator step sign-flipped': ('dcgan', _gan_generator_sign_flipped),
    'DCGAN: batch-norm running statistics frozen': ('dcgan', _running_stats_frozen),
    'GLO: code projection disabled': ('glo', _projection_disabled),
    'Parzen: sigma halved': ('parzen', _parzen_sigma_halved),
})


def test_every_check_passes_on_the_stand_in_without_a_fault(parity):
    with device_standin.installed():
        results = parity.run_checks(device_standin.StandInDevice())
    assert set(results) == set(parity.CHECKS)
    assert all(r['ok'] for r in results.values()), results
    assert all(r['arrays'] >= 1 for r in results.values())


@pytest.mark.parametrize('fault', sorted(FAULTS))
def test_each_injected_fault_fails_its_check(fault, parity, monkeypatch):
    check, inject = FAULTS[fault]
    inject(monkeypatch)
    with device_standin.installed():
        result = parity.run_checks(device_standin.StandInDevice(), [check])[check]
    assert 'error' not in result, result
    assert not result['ok'] and result['difference'] > 0.1, result


def test_the_cpu_against_itself_is_exact_and_writes_json(parity, tmp_path, capsys):
    out = tmp_path / 'parity.json'
    assert parity.main(['--device', '@numpy', '--only', 'aae_sgd', 'parzen',
                        '--json', str(out)]) == 0
    assert 'parity: all ok' in capsys.readouterr().out
    checks = json.loads(out.read_text())['checks']
    assert checks['aae_sgd']['ok'] and checks['aae_sgd']['difference'] == 0.0
    assert checks['aae_sgd']['arrays'] == 78       # 3 phases: 54 updates + 24 gradients


def test_a_failing_check_does_not_stop_the_others(parity, monkeypatch, capsys):
    def broken(device):
        raise RuntimeError('CUDA_ERROR_LAUNCH_FAILED\nin a kernel')
    monkeypatch.setitem(parity.CHECKS, 'vae', broken)
    assert parity.main(['--device', '@numpy', '--only', 'vae', 'parzen']) == 1
    out = capsys.readouterr().out
    assert 'vae          FAIL  RuntimeError: CUDA_ERROR_LAUNCH_FAILED in a kernel' in out
    assert 'parzen       ok' in out and 'FAILED: vae' in out


def test_relative_difference(parity):
    rd = parity.relative_difference
    assert rd(np.zeros(3), np.zeros(3)) == 0.0
    assert rd(np.array([2.0, -4.0]), np.array([2.0, -2.0])) == 0.5
    assert rd(np.zeros(2), np.ones(2)) == np.inf          # a step that should not move
    assert rd(np.ones(2), np.array([1.0, np.nan])) == np.inf
    assert rd(np.ones(2), np.ones(3)) == np.inf
    assert rd(np.ones(2), None) == np.inf                 # an array on one side only
    assert rd(np.array([1e-9]), np.array([-1e-9]), floor=1e-3) == pytest.approx(2e-6)


def test_rounding_noise_in_a_zero_gradient_and_its_adam_sign_is_not_a_failure(parity):
    """A bias before batch normalisation: its gradient is zero up to rounding, and Adam's
    first step there is +-alpha by the noise's sign."""
    pairs = {'gen l/W grad': (np.array([1.0, -2.0]), np.array([1.0, -2.0])),
             'gen l/b grad': (np.array([1e-9, -1e-9]), np.array([-1e-9, 1e-9])),
             'gen l/b update': (np.array([-1e-3, 1e-3]), np.array([1e-3, -1e-3])),
             'gen l/W update': (np.array([-1e-3, 1e-3]), np.array([-1e-3, 5e-4]))}
    diffs = parity.compare(pairs)
    assert diffs['gen l/b grad'] < 1e-5 and diffs['gen l/b update'] == 0.0
    assert diffs['gen l/W update'] == pytest.approx(0.5)         # a halved step is seen


# -- tools/gpu_check.sh ------------------------------------------------------------------------
def _check(tmp_path, *args, **env):
    out = tmp_path / 'out'
    environ = dict(os.environ, OUT=str(out), PYTHON=os.sys.executable, MNIST_OFFLINE='1')
    environ.pop('GPU_CHECK_DEVICE', None)
    environ.update(env)
    t0 = time.time()
    proc = subprocess.run(['bash', os.path.join(ROOT, 'tools', 'gpu_check.sh')] + list(args),
                          cwd=str(tmp_path), env=environ, capture_output=True, text=True,
                          timeout=120)
    return proc, time.time() - t0, out


def test_gpu_check_without_a_gpu_exits_2_in_seconds_with_the_reason(tmp_path):
    if chainer.backends.cuda.available:
        pytest.skip('CUDA is usable here')
    proc, seconds, out = _check(tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert seconds < 30
    assert 'no GPU: ' in proc.stdout
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['exit_status'] == 2
    assert summary['preflight']['unavailable'] in proc.stdout
    assert list(summary['steps']) == ['install', 'preflight']        # nothing after it
    assert summary['parity'] is None and summary['quick'] == []


def test_gpu_check_dry_run_shows_the_order_and_the_deadline(tmp_path):
    proc, _, out = _check(tmp_path, '--dry-run', GPU_CHECK_SECONDS='300')
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith('gpu_check: deadline 300 s')
    steps = [line.split()[0] for line in lines[1:7]]
    assert steps == ['install', 'preflight', 'parity', 'quick', 'speed', 'summary']
    last = int(lines[5].split('by')[1].split()[0])        # the speed step ends by ...
    assert last <= 330 < 360                  # all steps fit the default deadline, < 6 min
    assert not out.exists()                   # nothing run, nothing written


@pytest.mark.slow
def test_gpu_check_stops_at_its_deadline(tmp_path):
    """With 16 s and 10 of them kept for the summary, what does not fit is cut short or not
    started: the run ends by its deadline, marked failed, the summary written."""
    proc, seconds, out = _check(tmp_path, GPU_CHECK_DEVICE='@numpy', GPU_CHECK_SECONDS='16')
    summary = json.loads((out / 'summary.json').read_text())
    assert proc.returncode == 1 and summary['exit_status'] == 1, proc.stdout
    assert seconds < 16 + 5
    steps = summary['steps']
    assert steps['quick']['note'] == 'skipped: deadline', steps
    assert steps['speed']['exit'] == 124, steps                  # cut short or not started


def test_every_script_the_check_runs_takes_quick_and_gpu(capsys):
    text = open(os.path.join(ROOT, 'tools', 'gpu_check.sh')).read()
    skipped = text.split('NOT_TRAINING="')[1].split('"')[0].split()
    scripts = sorted(n[:-3] for n in os.listdir(os.path.join(ROOT, 'experiments'))
                     if n.endswith('.py') and n[:-3] not in skipped)
    assert len(scripts) >= 17
    for name in scripts:
        with pytest.raises(SystemExit) as info:
            load_script('experiments/%s.py' % name).main(['--help'])
        assert info.value.code == 0
        usage = capsys.readouterr().out
        assert '--quick' in usage and '--gpu' in usage, name


def test_gpu_check_writes_at_most_eight_flat_files_to_out(tmp_path):
    text = open(os.path.join(ROOT, 'tools', 'gpu_check.sh')).read()
    outputs = set(re.findall(r'\$OUT/([A-Za-z0-9_.-]*[A-Za-z0-9])', text))
    assert outputs == {'summary.json', 'check.log', 'quick_logs.tgz', 'kernel_cache.tgz'}
    proc, _, out = _check(tmp_path)          # no GPU here: what the early exit leaves
    assert {p.name for p in out.iterdir()} <= outputs and (out / 'summary.json').exists()
