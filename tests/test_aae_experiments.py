"""Smoke runs of every experiments/aae_*.py with --quick (offline: mnist-5k fallback)."""
import json
import os

import numpy as np
import pytest

from expkit import UsageError
from expkit import validate
from expkit.testing import load_script, run_script
from aae.optim import LR_DROP_UPDATES
from aae.options import lr_drops


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    if not os.environ.get('MNIST_DIR'):
        monkeypatch.setenv('MNIST_OFFLINE', '1')    # no download attempts in tests


def _run(tmp_path, script, *args):
    out = str(tmp_path / 'out')
    res = run_script('experiments/%s.py' % script, ['--quick', '--out', out] + list(args))
    return res, out


def _finite(d, keys):
    for k in keys:
        assert np.all(np.isfinite(d[k])), k


@pytest.mark.slow
def test_aae_gaussian_quick(tmp_path):
    res, out = _run(tmp_path, 'aae_gaussian')
    m = res['measured']
    _finite(m, ['test_reconstruction_mse_per_pixel', 'mmd2_codes_vs_prior'])
    assert 0 < m['test_reconstruction_mse_per_pixel'] < 1
    assert res['config']['prior'] == 'gaussian' and res['train_images_per_second'] > 0
    for name in ('codes.png', 'manifold.png', 'samples.png', 'loss.png'):
        assert os.path.getsize(os.path.join(out, name)) > 1000
    codes = np.load(os.path.join(out, 'codes.npz'))
    assert codes['z'].shape == (m['n_test_images'], 2)
    assert len(codes['labels']) == len(codes['z'])
    x = np.load(os.path.join(out, 'samples.npz'))['x']
    assert x.shape[1] == 784 and x.min() >= 0 and x.max() <= 1


@pytest.mark.slow
def test_aae_gaussian_logs_the_collapse_detector_and_its_recipe(tmp_path):
    res, out = _run(tmp_path, 'aae_gaussian', '--epoch', '2')
    with open(os.path.join(out, 'log')) as f:
        log = json.load(f)
    assert len(log) == 2
    for entry in log:
        assert 0 <= entry['codes/d_real'] <= 1 and 0 <= entry['codes/d_fake'] <= 1
        assert entry['codes/std_z1'] > 0 and entry['codes/std_z2'] > 0
        assert np.isfinite(entry['codes/mmd2'])
    for name in ('prior_mmd.png', 'prior_match.png'):
        assert os.path.getsize(os.path.join(out, name)) > 1000
    config = res['config']          # the default recipe, and what it set
    assert config['recipe'] == 'adam-drop' and config['optimizer'] == 'adam'
    assert config['recipe_settings'] == {'optimizer': 'adam', 'lr_drop_updates': [20000]}
    assert res['lr_schedule']['divide_by_10_after_updates'] == [20000]
    for where in ('prior', 'codes'):                  # is D flat? (a diagnostic)
        d = res['measured']['discriminator'][where]
        assert 0 <= d['p_real_mean'] <= 1 and d['p_real_std'] >= 0
        assert d['grad_log_p_real_norm_mean'] >= 0 and 0 <= d['first_layer_active_fraction'] <= 1


def test_aae_gaussian_paper_recipe_is_the_appendix_sgd():
    parse = lambda argv: validate.script_parser(
        load_script('experiments/aae_gaussian.py').main).parse_args(argv)
    paper = parse(['--recipe', 'paper'])
    assert (paper.optimizer, paper.rec_loss, paper.lr_drop_updates) == ('sgd', 'sum', None)
    assert lr_drops(paper) == (LR_DROP_UPDATES, 'update')
    default = parse([])
    assert (default.optimizer, default.rec_loss) == ('adam', 'mean')
    assert lr_drops(default) == ((20000,), 'update')
    assert parse(['--set', 'lr-drop-updates=5000']).lr_drop_updates == (5000,)  # explicit wins


@pytest.mark.slow
def test_aae_gaussian_vae_panels_and_the_four_panel_figure(tmp_path):
    outs = {}
    for model in ('aae', 'vae'):
        for prior in ('gaussian', 'mixture'):
            out = str(tmp_path / (model + prior))
            res = run_script('experiments/aae_gaussian.py', [
                '--quick', '--model', model, '--prior', prior, '--n-samples', '20', '--out', out])
            assert res['config']['model'] == model and np.isfinite(
                res['measured']['mmd2_codes_vs_prior'])
            outs['--%s-%s' % (model, prior)] = out
    with open(os.path.join(outs['--vae-mixture'], 'log')) as f:
        entry = json.load(f)[-1]
    assert entry['main/kl'] == entry['main/kl'] and 'codes/d_real' not in entry
    argv = [a for kv in outs.items() for a in kv] + ['--out', str(tmp_path / 'fig')]
    summary = load_script('experiments/aae_fig2_panels.py').main(argv)
    assert set(summary) == {'aae_gaussian', 'aae_mixture', 'vae_gaussian', 'vae_mixture'}
    assert os.path.getsize(str(tmp_path / 'fig' / 'aae_vs_vae.png')) > 10000
    swapped = dict(outs, **{'--aae-gaussian': outs['--vae-gaussian']})
    with pytest.raises(UsageError, match='not the --model aae --prior gaussian panel'):
        load_script('experiments/aae_fig2_panels.py').main(
            [a for kv in swapped.items() for a in kv] + ['--out', str(tmp_path / 'fig2')])
    with pytest.raises(UsageError, match='--model vae needs a prior with a density'):
        load_script('experiments/aae_gaussian.py').main(
            ['--quick', '--model', 'vae', '--prior', 'swissroll', '--out', str(tmp_path / 's')])
    assert not os.path.exists(str(tmp_path / 's'))


@pytest.mark.slow
def test_aae_gaussian_sigmoid_mixture_adam_quick(tmp_path):
    res, out = _run(tmp_path, 'aae_gaussian', '--prior', 'mixture', '--set',
                    'dis-output=sigmoid', '--set', 'optimizer=adam', '--set', 'dis-noise=0.3')
    assert res['config']['prior'] == 'mixture' and res['config']['dis_output'] == 'sigmoid'
    assert os.path.exists(os.path.join(out, 'manifold.png'))


def test_aae_gaussian_bad_options(tmp_path):
    with pytest.raises(SystemExit) as e:
        load_script('experiments/aae_gaussian.py').main(['--prior', 'uniform'])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:            # refused by its declared type
        load_script('experiments/aae_gaussian.py').main(
            ['--quick', '--set', 'lr-drop=ten', '--out', str(tmp_path / 'x')])
    assert e.value.code == 2


@pytest.mark.slow
def test_aae_label_prior_quick(tmp_path):
    res, out = _run(tmp_path, 'aae_label_prior', '--prior', 'swissroll')
    m = res['measured']
    assert 0 <= m['test_codes_on_own_component'] <= 1
    assert 0 <= m['codes_far_from_prior_fraction'] <= 1
    assert m['code_distance_to_prior_median'] >= m['prior_distance_to_prior_median']
    assert m['n_labelled'] == round(0.2 * m['n_train_images'])
    t = m['train_codes']            # the same scores on training codes, split by label
    assert t['n_codes'] == m['n_test_images'] and 0 < t['n_labelled'] < t['n_codes']
    assert 0 <= t['on_own_component_labelled'] <= 1 and t['mmd2_codes_vs_prior'] > -1
    assert 0 <= t['codes_far_from_prior_fraction_unlabelled'] <= 1
    assert os.path.exists(os.path.join(out, 'codes.png'))
    # the seed's regularize_z recipe is the default (the one that reproduces Fig. 4)
    c = res['config']
    assert (c['optimizer'], c['rec_loss'], c['dis_noise']) == ('adam', 'mean', 0.3)


@pytest.mark.slow
def test_aae_semisupervised_quick(tmp_path):
    res, out = _run(tmp_path, 'aae_semisupervised', '--labels', '100')
    m = res['measured']
    assert m['n_labelled'] == 100 and 0 <= m['test_error_percent'] <= 100
    cm = np.array(m['test_confusions']['matrix'])     # the same errors, by digit pair
    assert cm.sum() == m['n_test_images']
    assert 100 * (1 - np.trace(cm) / cm.sum()) == pytest.approx(m['test_error_percent'])
    counts = cm.sum(1)            # the error a uniform prediction would force, by hand
    assert m['test_error_percent_if_classes_uniform'] == pytest.approx(
        100 * np.maximum(0, counts - counts.sum() / 10).sum() / counts.sum())
    assert res['config']['y_prior'] == 'uniform' and res['config']['y_prior_probs'] is None
    assert '1.90' in res['paper']['values']['test_error_percent_100_labels']
    # --recipe balanced-bn (default): one Adam per phase, noise on the encoder's and D's
    # inputs, batch norm in the encoder and decoder
    assert res['config']['recipe'] == 'balanced-bn' and res['config']['optimizer'] == 'adam-phase'
    assert (res['config']['enc_noise'], res['config']['dis_noise']) == (0.3, 0.3)
    assert res['config']['recipe_settings']['phase_lr'] == {'reg': 1e-3}
    assert res['config']['batch_norm'] is True
    assert os.path.exists(os.path.join(out, 'styles.png'))
    assert os.path.getsize(os.path.join(out, 'test_error_updates.png')) > 1000
    mmd = m['style_code_vs_prior']
    assert mmd['mmd_n_points'] == min(2000, m['n_test_images']) and mmd['mmd2_prior_vs_prior_sd'] > 0


@pytest.mark.slow
def test_aae_semisupervised_takes_the_appendix_pieces_quick(tmp_path):
    res, out = _run(tmp_path, 'aae_semisupervised', '--set', 'batch-norm',
                    '--set', 'input-dropout=0.2')
    assert (res['config']['batch_norm'], res['config']['input_dropout']) == (True, 0.2)
    saved = np.load(os.path.join(out, 'model_enc.npz'))
    bn_means = [k for k in saved.files if k.endswith('avg_mean')]
    assert len(bn_means) == 3                   # two hidden layers and the (y, z) output
    assert all(np.abs(saved[k]).sum() > 0 for k in bn_means)   # running stats were learned


@pytest.mark.slow
def test_aae_semisupervised_train_frequency_prior_quick(tmp_path):
    res, out = _run(tmp_path, 'aae_semisupervised', '--set', 'y-prior=train-frequencies')
    probs = np.array(res['config']['y_prior_probs'])
    assert res['config']['y_prior'] == 'train-frequencies' and probs.shape == (10,)
    assert probs.sum() == pytest.approx(1) and probs.std() > 0      # not uniform


@pytest.mark.slow
def test_aae_semisupervised_supervised_only_baseline_quick(tmp_path):
    res, out = _run(tmp_path, 'aae_semisupervised', '--set', 'supervised-only')
    m = res['measured']
    assert res['config']['supervised_only'] is True and 0 <= m['test_error_percent'] <= 100
    assert 'test_reconstruction_mse_per_pixel' not in m        # no decoder was trained
    assert os.path.exists(os.path.join(out, 'error.png'))
    assert not os.path.exists(os.path.join(out, 'styles.png'))
    assert os.path.exists(os.path.join(out, 'model_enc.npz'))
    with pytest.raises(UsageError):
        load_script('experiments/aae_semisupervised.py').main(
            ['--quick', '--set', 'supervised-only', '--set', 'labelled-reconstruction',
             '--out', str(tmp_path / 'x')])
    assert not os.path.exists(str(tmp_path / 'x'))


@pytest.mark.slow
def test_aae_clustering_quick(tmp_path):
    res, out = _run(tmp_path, 'aae_clustering', '--clusters', '16')
    m = res['measured']
    assert len(m['cluster_labels']) == 16 and sum(m['test_cluster_sizes']) == m['n_test_images']
    assert 0 <= m['test_hungarian_accuracy'] <= 1
    # the least error any labelling of 16 equal-size clusters allows on these test digits
    assert 0 < m['test_error_percent_floor_equal_clusters'] < 100
    assert res['config']['recipe'] == 'balanced' and res['config']['z_dim'] == 10
    assert (res['config']['enc_noise'], res['config']['dis_noise']) == (0.3, 0.3)
    assert np.load(os.path.join(out, 'samples.npz'))['x'].shape == (16, 784)
    # Sec. 6: clusters are labelled from the validation images when there is a split
    n_val = m['n_validation_images']
    assert res['config']['label_source'] == '%s (%d images)' % (
        ('validation', n_val) if n_val else ('training', m['n_train_images']))
    assert os.path.getsize(os.path.join(out, 'test_error_updates.png')) > 1000
    # both labelling rules are logged every epoch, as error rates
    log = json.load(open(os.path.join(out, 'log')))
    assert all(0 <= e[key] <= 1 for e in log for key in ('test/error', 'test/error_majority'))
    # is D flat? both discriminators, on prior samples and on codes
    for d in m['discriminators'].values():
        for where in ('prior', 'codes'):
            assert 0 < d[where]['p_real_mean'] < 1 and d[where]['p_real_std'] >= 0
            assert d[where]['grad_log_p_real_norm_mean'] > 0
            assert 0 < d[where]['first_layer_active_fraction'] <= 1


@pytest.mark.slow
@pytest.mark.parametrize('labels', ['100', '0'])
def test_aae_dim_reduction_quick(tmp_path, labels):
    res, out = _run(tmp_path, 'aae_dim_reduction', '--labels', labels, '--set', 'optimizer=adam')
    m, m_heads = res['measured'], 10 if labels != '0' else 20
    assert 0 <= m['test_error_percent'] <= 100 and m['min_head_distance'] > 0
    assert res['config']['clusters'] == m_heads and res['config']['rec_loss'] == 'mean'
    codes = np.load(os.path.join(out, 'codes.npz'))
    assert codes['heads'].shape == (m_heads, 2)
    np.testing.assert_allclose(codes['representation'],           # Fig. 10: W y + z
                               codes['q_y'] @ codes['heads'] + codes['z'], rtol=1e-5)
    for name in ('codes.png', 'heads.png', 'loss.png'):
        assert os.path.getsize(os.path.join(out, name)) > 1000
    with pytest.raises(UsageError):
        load_script('experiments/aae_dim_reduction.py').main(
            ['--quick', '--clusters', '7', '--out', str(tmp_path / 'x')])


@pytest.mark.slow
def test_aae_parzen_quick(tmp_path):
    res, out = _run(tmp_path, 'aae_parzen')
    m = res['measured']
    assert np.isfinite(m['parzen_test_ll_nats']) and m['parzen_test_ll_std_error'] > 0
    sigmas = np.logspace(-1, 0, 10)                 # the bandwidth maximises validation LL
    assert m['parzen_sigma'] == pytest.approx(sigmas[np.argmax(m['parzen_valid_ll'])])
    assert res['config']['z_dim'] == 8 and res['config']['prior_std'] == 5.0
    # the reconstructions-as-samples diagnostic: its own bandwidth, a finite score
    assert np.isfinite(m['parzen_reconstructions_nats'])
    assert np.isclose(sigmas, m['parzen_reconstructions_sigma']).sum() == 1


@pytest.mark.slow
def test_aae_parzen_selection_by_validation_parzen(tmp_path):
    # scored every epoch: the selected model's test number, the last model's beside it
    res, out = _run(tmp_path, 'aae_parzen', '--epoch', '3', '--set', 'select-every=1')
    sel, m = res['model_selection']['parzen'], res['measured']
    scored = {e['iteration']: e['validation/parzen'] for e in json.load(open(out + '/log'))
              if 'validation/parzen' in e}
    assert len(scored) == 3 and sel['mode'] == 'max'
    assert sel['best_iteration'] == max(scored, key=scored.get) == m['selected_iteration']
    assert sel['best_value'] == max(scored.values())
    assert sel['files'] == ['model_dec_best.npz', 'model_enc_best.npz']
    last = res['train_iterations'] != sel['best_iteration']
    assert ('parzen_test_ll_last' in m) == last
    assert os.path.getsize(os.path.join(out, 'validation_parzen.png')) > 1000


def test_aae_parzen_bandwidth_images_default_to_the_whole_validation_split():
    pick = load_script('experiments/aae_parzen.py').bandwidth_images
    x_val, x_train = np.arange(150.)[:, None], np.arange(1000.)[:, None] + 1000
    y_train = np.arange(1000) % 10
    assert np.array_equal(pick(x_val, x_train, y_train)[0], x_val)     # all 10,000
    assert len(pick(x_val, x_train, y_train, 40)[0]) == 40
    valid, train = pick(x_val[:0], x_train, y_train)        # no split: 500 held-out images
    assert (len(valid), len(train)) == (500, 500) and not set(valid[:, 0]) & set(train[:, 0])
    with pytest.raises(UsageError):
        pick(x_val, x_train, y_train, 151)


@pytest.mark.slow
def test_aae_style_quick(tmp_path):
    res, out = _run(tmp_path, 'aae_style')
    m = res['measured']
    _finite(m, ['test_reconstruction_mse_per_pixel_true_label', 'mmd2_codes_vs_prior'])
    assert os.path.exists(os.path.join(out, 'styles.png'))
    assert np.load(os.path.join(out, 'codes.npz'))['z'].shape[1] == 15


@pytest.mark.parametrize('script', ['aae_semisupervised', 'aae_clustering'])
def test_categorical_recipes_set_their_defaults_and_explicit_options_win(script):
    from expkit.validate import script_parser
    parse = script_parser(load_script('experiments/%s.py' % script).main).parse_args
    seed = parse(['--recipe', 'seed'])
    assert (seed.optimizer, seed.enc_noise, seed.dis_noise, seed.batchsize) == (
        'adam', 0.0, 0.3, 64)
    assert seed.rec_loss == 'mean'                   # derived from the seed's single Adam
    assert getattr(seed, 'labelled_reconstruction', True) is True
    fast = parse(['--recipe', 'fast', '--set', 'dis-noise=0.1'])
    assert (fast.optimizer, fast.enc_noise, fast.dis_noise) == ('adam-phase', 0.3, 0.1)
    paper = parse(['--recipe', 'paper' if script == 'aae_semisupervised' else 'noise'])
    assert (paper.optimizer, paper.enc_noise, paper.dis_noise,
            paper.batchsize) == ('sgd', 0.3, 0.0, 100)
    default = parse([])              # the best recorded reproduction
    assert (default.optimizer, default.phase_lr, default.lr_drop_updates,
            default.enc_noise, default.dis_noise) == (
        'adam-phase', {'reg': 1e-3}, (25000,), 0.3, 0.3)
    # Table 2's default adds batch norm to the balanced recipe; Table 3's has none
    bn = script == 'aae_semisupervised'
    assert (default.recipe, default.batch_norm) == (('balanced-bn', True) if bn else
                                                    ('balanced', False))
    if bn:
        off = parse(['--set', 'no-batch-norm'])
        assert (off.recipe, off.batch_norm, off.optimizer) == ('balanced-bn', False, 'adam-phase')
        assert parse(['--recipe', 'balanced']).batch_norm is False


@pytest.mark.slow
def test_aae_semisupervised_fast_recipe_quick(tmp_path):
    res, out = _run(tmp_path, 'aae_semisupervised', '--recipe', 'fast',
                    '--set', 'phase-lr=sup=0.002')
    assert res['config']['recipe'] == 'fast' and res['config']['optimizer'] == 'adam-phase'
    assert res['config']['phase_lr'] == {'sup': 0.002}
    assert 0 <= res['measured']['test_error_percent'] <= 100
    with pytest.raises(UsageError):
        load_script('experiments/aae_semisupervised.py').main(
            ['--quick', '--recipe', 'seed', '--set', 'phase-lr=rec=0.01',
             '--out', str(tmp_path / 'x')])
    assert not os.path.exists(str(tmp_path / 'x'))


@pytest.mark.slow
def test_parzen_reference_quick(tmp_path):
    """Table 1's reference rows: the window on real digits, blurred digits and PCA
    reconstructions, by the exact evaluator and by scikit-learn's KernelDensity."""
    res, out = _run(tmp_path, 'parzen_reference')
    rows = res['measured']['rows']
    assert list(rows) == ['real training digits', 'blurred by 0.7 px', 'blurred by 1 px',
                          'PCA-32 reconstructions']
    for row in rows.values():
        assert np.isfinite(row['parzen_test_ll_nats']) and row['sigma'] > 0
        assert row['sklearn_n_test'] == 50
    # the tree-based KernelDensity reports the same real digits far more likely
    real = rows['real training digits']
    assert real['sklearn_test_ll_nats'] > real['parzen_test_ll_nats'] + 50
    assert os.path.getsize(os.path.join(out, 'samples.png')) > 1000
