"""gan/: the optimal-discriminator check, the toy metrics, and a smoke run of every script."""
import json
import os

import numpy as np
import pytest

from datasets.toy import (GRID_MODES, GaussianPair1D, sample_grid, sample_ring,
                          sample_swiss_roll_2d)
from expkit.testing import run_script
from gan import optimal_discriminator as od
from gan import toy


# ------------------------------------------------------------------ optimal discriminator
def test_closed_form_value_is_2jsd_minus_2ln2():
    """The quadrature of V at D* = p_d/(p_d+p_g) reproduces Theorem 1 (no training)."""
    for pair in (GaussianPair1D(0, 1, 2, 1), GaussianPair1D(0, 1, 1, 0.4),
                 GaussianPair1D(0, 1, 0, 1)):
        x = od.support_grid(pair)
        logit_star = pair.logpdf_data(x) - pair.logpdf_model(x)
        v = od.value_by_quadrature(pair, x, logit_star)
        assert abs(v - (2 * pair.jsd() - 2 * np.log(2))) < 1e-6


class _ConstantD(object):
    """A 'discriminator' with a fixed logit (stand-in for an untrained D)."""
    xp = np

    def __call__(self, x):
        import chainer
        return chainer.Variable(np.zeros((len(x), 1), np.float32))


def test_trained_discriminator_recovers_density_ratio_on_easy_pair():
    """Stated tolerance: E_m|D - D*| < 0.03 and |V(D) - (2 JSD - 2 ln 2)| < 0.01 after 400
    Adam steps (m = (p_d + p_g)/2); a constant D = 1/2 fails both."""
    pair = GaussianPair1D(0.0, 1.0, 2.0, 1.0)
    dis, losses, _ = od.fit_discriminator(pair, n_iter=400, batchsize=256, seed=0)
    r = od.evaluate(pair, dis)
    assert r['d_mean_abs_error'] < 0.03
    assert r['v_abs_error'] < 0.01
    assert losses[-50:].mean() < losses[:10].mean()
    bad = od.evaluate(pair, _ConstantD())
    assert bad['d_mean_abs_error'] > 0.1 and bad['v_abs_error'] > 0.1


# ------------------------------------------------------------------ toy metrics
def test_toy_metrics_on_data_and_on_collapse():
    rng = np.random.default_rng(0)
    ring = toy.coverage('ring', sample_ring(2500, rng))
    assert ring['modes_captured'] == 8 and ring['high_quality_fraction'] > 0.97
    grid = toy.coverage('grid', sample_grid(2500, rng))
    assert grid['modes_captured'] == 25 and grid['high_quality_fraction'] > 0.97
    roll = toy.coverage('swissroll', sample_swiss_roll_2d(2500, rng))
    assert roll['modes_captured'] == 10 and roll['high_quality_fraction'] > 0.97
    # collapse onto one mode: 1 mode captured, all samples high quality
    one = GRID_MODES[3] + 0.01 * rng.normal(size=(2500, 2))
    r = toy.coverage('grid', one)
    assert r['modes_captured'] == 1 and r['high_quality_fraction'] == 1.0
    # off-mode samples: none high quality, no mode captured
    off = GRID_MODES[:1] + 1.0 + 0.01 * rng.normal(size=(2500, 2))
    r = toy.coverage('grid', off)
    assert r['modes_captured'] == 0 and r['high_quality_fraction'] == 0.0
    # 19 samples on a mode is "lost" (PacGAN's < 20 rule)
    few = np.concatenate([GRID_MODES[:1].repeat(19, 0), GRID_MODES[1:2].repeat(20, 0)])
    assert toy.coverage('grid', few)['modes_captured'] == 1
    with pytest.raises(ValueError):
        toy.coverage('moons', one)


# ------------------------------------------------------------------ smoke runs
@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv('MNIST_OFFLINE', '1')
    monkeypatch.setenv('OMP_NUM_THREADS', '1')


def _files(out):
    return set(os.listdir(out))


@pytest.mark.slow
def test_smoke_gan_optimal_discriminator(tmp_path, offline):
    res = run_script('experiments/gan_optimal_discriminator.py',
                     ['--quick', '--out', str(tmp_path)])
    assert {'discriminator.png', 'value.png', 'results.json'} <= _files(tmp_path)
    pairs = res['measured']['pairs']
    assert set(pairs) == {'identical', 'easy', 'unequal-width', 'nearly-disjoint', 'disjoint'}
    assert pairs['disjoint']['jsd_over_ln2'] > 0.999
    assert abs(pairs['identical']['v_theory'] + 2 * np.log(2)) < 1e-9


@pytest.mark.slow
def test_smoke_gan_mlp(tmp_path, offline):
    res = run_script('experiments/gan_mlp.py', ['--quick', '--out', str(tmp_path),
                                                '--gen-loss', 'minimax'])
    assert {'samples_grid.png', 'samples.gif', 'gen_grad_norm.png', 'loss.png',
            'samples.npz', 'results.json'} <= _files(tmp_path)
    x = np.load(str(tmp_path / 'samples.npz'))['x']
    assert x.shape == (1000, 784) and 0 <= x.min() and x.max() <= 1
    assert res['config']['gen_loss'] == 'minimax' and res['config']['recipe'] == 'notebook'
    assert res['train_images_per_second'] > 0
    assert res['measured']['grad_norm_first_10pct']['nonsaturating'] > 0


def test_gan_mlp_recipes_set_the_notebook_switches_and_explicit_options_win():
    from expkit.testing import load_script
    from expkit.validate import script_parser
    parse = script_parser(load_script('experiments/gan_mlp.py').main).parse_args
    nb = parse([])
    assert (nb.recipe, nb.batchsize, nb.out_batchnorm, nb.gen_regularizer,
            nb.fakes_test_mode, nb.with_replacement) == ('notebook', 1000, True, True, True, True)
    art = parse(['--recipe', 'article', '--set', 'out-batchnorm'])
    assert (art.batchsize, art.out_batchnorm, art.gen_regularizer, art.fakes_test_mode,
            art.with_replacement) == (128, True, False, False, False)
    assert parse(['--set', 'no-with-replacement']).with_replacement is False


@pytest.mark.slow
def test_smoke_gan_toy(tmp_path, offline):
    res = run_script('experiments/gan_toy.py', ['--quick', '--out', str(tmp_path),
                                                '--toy', 'ring', 'grid'])
    assert {'toy_nonsaturating.png', 'samples.npz', 'results.json'} <= _files(tmp_path)
    assert set(res['measured']) == {'ring', 'grid'}
    assert 0 <= res['measured']['grid']['modes_captured'] <= 25


@pytest.mark.slow
def test_smoke_gan_goodfellow(tmp_path, offline):
    res = run_script('experiments/gan_goodfellow.py', ['--quick', '--out', str(tmp_path)])
    assert {'samples.png', 'samples_nearest.png', 'parzen_sigma.png', 'loss.png',
            'samples.npz', 'results.json'} <= _files(tmp_path)
    p = res['measured']['parzen_ll']
    assert np.isfinite(p['mean']) and p['std_error'] > 0 and p['n_samples'] == 500
    assert res['paper']['values']['adversarial_nets'] == '225 +- 2'


@pytest.mark.slow
def test_smoke_dcgan_mnist(tmp_path, offline):
    res = run_script('experiments/dcgan_mnist.py', ['--quick', '--out', str(tmp_path)])
    assert {'samples_grid.png', 'samples.png', 'loss.png', 'samples.npz',
            'results.json'} <= _files(tmp_path)
    with open(str(tmp_path / 'results.json')) as f:
        assert json.load(f)['measured']['parzen_ll']['n_test'] == 200
    assert res['dataset']['n_train'] > 0


@pytest.mark.slow
def test_bad_option_is_one_line_error(tmp_path, capsys):
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.run([sys.executable, os.path.join(root, 'experiments', 'gan_mlp.py'),
                        '--gen-loss', 'hinge', '--out', str(tmp_path / 'x')],
                       capture_output=True, text=True)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / 'x').exists()


@pytest.mark.slow
def test_gan_goodfellow_selection_by_validation_parzen(tmp_path, offline):
    # evaluated every epoch: the selected G's test number, the last G's beside it
    res = run_script('experiments/gan_goodfellow.py',
                     ['--quick', '--epoch', '2', '--set', 'select-every=1',
                      '--out', str(tmp_path)])
    sel, m = res['model_selection']['parzen'], res['measured']
    log = json.load(open(str(tmp_path / 'log')))
    scored = {e['iteration']: e['validation/parzen'] for e in log}
    assert len(scored) == 2 and sel['mode'] == 'max'
    assert sel['best_iteration'] == max(scored, key=scored.get) == m['selected_iteration']
    assert sel['best_value'] == max(scored.values())
    assert ('parzen_ll_last' in m) == (sel['best_iteration'] != m['iterations'])
    assert os.path.exists(str(tmp_path / 'parzen.png'))
