"""The training steps of every model family make no host round trip per update, checked on
the CPU with a stand-in for a GPU (tests/device_standin.py). These are CPU stand-in tests,
not GPU tests: they catch a device array read on the host (``float``, ``int``, ``bool``,
``.item()``) and a host array copied to the device inside an update; they say nothing about
CuPy's kernels."""
import numpy as np
import pytest

import chainer

import device_standin
from expkit import experiment, guards
from expkit.testing import load_script

N_UPDATES = 3


class _Enough(BaseException):
    """Stops a script's training after N_UPDATES updates (BaseException: chainer's Trainer
    passes it on without printing a traceback)."""


@pytest.fixture
def standin(monkeypatch):
    """CPU stand-in for a GPU (not a GPU test): every run gets a
    :class:`device_standin.StandInDevice`. The first update may fill caches (a constant
    copied to the device once); from the second on, strict mode makes a host round trip in
    the project's code raise ``HostSync``. Yields the recorder, with ``warmup`` (the first
    update's counts) and ``updates`` (the updaters, one per update)."""
    monkeypatch.setenv('MNIST_OFFLINE', '1')
    monkeypatch.setattr(experiment, 'resolve_device',
                        lambda args, dist=None: device_standin.StandInDevice())
    update = chainer.training.StandardUpdater.update
    updates = []

    def counted_update(self):
        rec = device_standin.recorder
        if len(updates) == N_UPDATES:
            raise _Enough()
        if len(updates) == 1:
            rec.warmup = dict(rec.counts)
            rec.reset()
        rec.strict, rec.active = len(updates) >= 1, True
        updates.append(self)
        try:
            update(self)
        finally:
            rec.strict, rec.active = False, False

    monkeypatch.setattr(chainer.training.StandardUpdater, 'update', counted_update)
    with device_standin.installed() as rec:
        rec.reset()
        rec.updates, rec.warmup = updates, {}
        yield rec


def _train(script, argv, tmp_path):
    """The first N_UPDATES updates of ``experiments/SCRIPT.py --quick`` on the stand-in."""
    module = load_script('experiments/%s.py' % script)
    try:
        module.main(['--quick'] + argv + ['--out', str(tmp_path / 'out')])
    except _Enough:
        pass


# every updater class: AAE (Gaussian, categorical, with batch normalisation and dropout,
# supervised, label-conditioned prior, dimension reduction, learned Cat(y) frequencies), the
# VAE of Fig. 2, VAE, M2, M1+M2, CVAE, GAN (alternating, simultaneous, DCGAN with batch
# normalisation), GLO (Lap1)
RUNS = {
    'aae_gaussian': ('aae_gaussian', []),
    'aae_gaussian_vae': ('aae_gaussian', ['--model', 'vae']),
    'aae_clustering': ('aae_clustering', []),
    'aae_clustering_paper': ('aae_clustering', ['--recipe', 'paper']),
    'aae_style': ('aae_style', []),
    'aae_label_prior': ('aae_label_prior', []),
    'aae_dim_reduction': ('aae_dim_reduction', []),
    'aae_semisupervised': ('aae_semisupervised', ['--set', 'y-prior=train-frequencies']),
    'vae_mnist': ('vae_mnist', []),
    'm2_semisupervised': ('m2_semisupervised', []),
    'm1m2_semisupervised': ('m1m2_semisupervised', []),
    'cvae_completion': ('cvae_completion', []),
    'gan_toy': ('gan_toy', []),
    'gan_mlp': ('gan_mlp', []),
    'gan_goodfellow': ('gan_goodfellow', []),
    'dcgan_mnist': ('dcgan_mnist', []),
    'glo_mnist': ('glo_mnist', ['--set', 'compare-loss=none']),
}


@pytest.mark.slow
@pytest.mark.parametrize('run', sorted(RUNS))
def test_updates_make_no_host_round_trip(run, standin, tmp_path):
    _train(*RUNS[run], tmp_path)
    assert len(standin.updates) >= 2, 'the run made fewer than two updates'
    assert standin.project() == 0, standin.events


def test_the_stand_in_catches_noise_drawn_on_the_host(standin, tmp_path, monkeypatch):
    """The check can fail: noise drawn with NumPy and copied over, as GANUpdater once did."""
    import gan.updater
    old = {}                  # the old line, compiled as gan/updater.py's own code
    exec(compile('def make_noise(self, n):\n'
                 '    return self.gen.xp.asarray(self.gen.make_hidden(n))\n',
                 gan.updater.__file__, 'exec'), old)
    monkeypatch.setattr(gan.updater.GANUpdater, 'make_noise', old['make_noise'])
    with pytest.raises(device_standin.HostSync, match='host-to-device copy at gan/updater'):
        _train('gan_toy', [], tmp_path)


def test_the_stand_in_catches_a_device_read(standin):
    dev = device_standin.StandInDevice()
    a = dev.send(np.ones(3, np.float32))
    standin.active = True
    import aae.net
    labels = dev.send(np.array([0, 1], np.int32))
    monkey = aae.net.get_array_module
    assert monkey(labels) is device_standin.xp
    standin.strict = True
    with pytest.raises(device_standin.HostSync, match='__float__'):
        exec(compile('float(a.sum())', aae.net.__file__, 'exec'), {'a': a})


class _Trainer:
    """What FiniteGuard reads of a trainer."""

    def __init__(self):
        self.observation = {}
        self.updater = self
        self.iteration, self.epoch, self.epoch_detail, self.is_new_epoch = 0, 0, 0.0, False

    def get_all_optimizers(self):
        return {}


class _Exp:
    out = 'out'

    def __init__(self):
        self.diverged = None

    def finish_diverged(self, info):
        self.diverged = info


def test_the_nan_guard_reads_the_device_once_per_log_interval(standin):
    """On the device the guard reads nothing between log iterations, and still stops at the
    end of the log interval in which a loss went NaN, naming that update."""
    dev = device_standin.StandInDevice()
    trainer, exp = _Trainer(), _Exp()
    guard = guards.FiniteGuard(exp, check_trigger=(4, 'iteration'))
    guard.initialize(trainer)
    losses = [1.0, 2.0, np.nan, 3.0, 4.0]
    standin.active = True
    with pytest.raises(guards.Diverged) as info:
        for it, loss in enumerate(losses, 1):
            trainer.iteration, trainer.epoch_detail = it, it / 100.0
            trainer.observation = {'main/loss': chainer.Variable(
                dev.send(np.array(loss, np.float32))), 'main/acc': dev.send(np.ones(2))}
            standin.strict = it % 4 != 0                  # not a log iteration: no read
            guard(trainer)
    assert trainer.iteration == 4                       # the log iteration, not later
    assert exp.diverged['update'] == 3 and exp.diverged['phase'] == 'main/loss'
    assert 'main/loss is nan at update 3' in str(info.value)
    assert [(kind, site.split(':')[0]) for kind, site in standin.events] == [
        ('device-to-host copy', 'expkit/guards.py')]                     # one read in all


def test_the_nan_guard_on_the_cpu_still_stops_at_once():
    trainer, exp = _Trainer(), _Exp()
    guard = guards.FiniteGuard(exp, check_trigger=(4, 'iteration'))
    trainer.iteration, trainer.observation = 2, {'main/loss': np.float32(np.inf)}
    with pytest.raises(guards.Diverged, match='main/loss is inf at update 2'):
        guard(trainer)


def test_the_nll_on_the_device_is_one_pass_equal_to_the_cpu_blocks(standin):
    from vae import likelihood
    rng = np.random.RandomState(0)
    x = (rng.rand(70, 30) < 0.5).astype(np.float32)            # 70 rows: two CPU blocks
    logits = rng.normal(size=(3, 70, 30)).astype(np.float32)
    cpu = likelihood.bernoulli_log_px(x, logits.copy(), threads=1)
    dev = device_standin.StandInDevice()
    on_device = likelihood.bernoulli_log_px(dev.send(x), dev.send(logits.copy()))
    assert isinstance(on_device, device_standin.DeviceArray)
    np.testing.assert_allclose(device_standin.to_host(on_device), cpu, rtol=1e-6)


def test_the_cat_y_prior_is_drawn_on_the_device_with_its_probabilities(standin):
    from aae.updater import sample_categorical
    probs = device_standin.xp.asarray([0.7, 0.2, 0.1], dtype='d')
    standin.strict = True
    y = sample_categorical(20000, 3, device_standin.xp, probs=probs)
    share = device_standin.to_host(y).mean(axis=0)
    np.testing.assert_allclose(share, [0.7, 0.2, 0.1], atol=0.015)


def test_no_snapshot_is_written_after_a_nan_on_the_device(standin):
    """Between log iterations the NaN is only recorded; the snapshot reads the record first."""
    dev = device_standin.StandInDevice()
    trainer, exp = _Trainer(), _Exp()
    guard = guards.FiniteGuard(exp, check_trigger=(100, 'iteration'))
    guard.initialize(trainer)
    trainer.iteration, trainer.observation = 7, {'gen/loss': dev.send(np.array(np.inf))}
    guard(trainer)
    assert exp.diverged is None                          # not read yet
    written = []
    with pytest.raises(guards.Diverged, match='gen/loss is inf at update 7'):
        guard.saving(lambda filename, state: written.append(filename))('snapshot', {})
    assert written == [] and exp.diverged['update'] == 7
