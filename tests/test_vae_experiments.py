"""Smoke runs of every VAE experiment script (--quick, offline data) and their error paths."""
import os

import numpy as np
import pytest

from expkit.testing import load_script, run_script


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv('MNIST_OFFLINE', '1')
    monkeypatch.setenv('OMP_NUM_THREADS', '1')


def _files(out):
    return set(os.listdir(str(out)))


@pytest.mark.slow
def test_smoke_vae_mnist(tmp_path, offline):
    res = run_script('experiments/vae_mnist.py', ['--quick', '--out', str(tmp_path)])
    assert {'samples.png', 'reconstructions.png', 'latent_scatter.png', 'manifold.png',
            'samples.npz', 'codes.npz', 'results.json'} <= _files(tmp_path)
    m = res['measured']
    # ELBO <= importance-sampled log-likelihood <= 0, on the same test images
    assert m['test_nll'] > 0
    assert m['test_nll'] <= m['test_neg_elbo_same_examples'] + 1.0
    assert res['train_images_per_second'] > 0
    x = np.load(str(tmp_path / 'samples.npz'))['x']
    assert x.shape == (100, 784) and 0 <= x.min() and x.max() <= 1
    z = np.load(str(tmp_path / 'codes.npz'))['z']
    assert z.shape[1] == 2
    assert list(res['stages']) == ['main', 'z2'] and 'log_z2' in _files(tmp_path)
    assert res['config']['quick_protocol']['nll_examples'] == m['test_nll_examples'] == 20


@pytest.mark.slow
def test_smoke_vae_mnist_static_and_ae_init(tmp_path, offline):
    res = run_script('experiments/vae_mnist.py',
                     ['--quick', '--out', str(tmp_path), '--set', 'binarize=static',
                      '--set', 'init-from-ae', '--manifold-epoch', '0', '--set', 'n-hidden=50'])
    assert res['config']['binarize'] == 'static' and res['config']['init_from_ae']
    assert 'manifold.png' not in _files(tmp_path)
    assert list(res['stages']) == ['ae', 'main']        # the pretraining is a stage of its own
    assert res['stages']['ae']['iterations'] == res['stages']['main']['iterations'] > 0
    assert {'log_ae', 'model_ae.npz', 'log', 'model_vae.npz'} <= _files(tmp_path)


@pytest.mark.slow
def test_smoke_cvae_completion(tmp_path, offline):
    res = run_script('experiments/cvae_completion.py', ['--quick', '--out', str(tmp_path)])
    assert {'completion.png', 'samples.npz', 'results.json'} <= _files(tmp_path)
    assert res['config']['n_condition_pixels'] == 28
    assert res['measured']['cvae_sample_pixel_std'] > 0


@pytest.mark.slow
def test_smoke_m2(tmp_path, offline):
    res = run_script('experiments/m2_semisupervised.py', ['--quick', '--out', str(tmp_path)])
    assert {'analogies.png', 'samples.npz', 'results.json'} <= _files(tmp_path)
    assert res['config']['n_labelled'] == 100
    # the default recipe alpha10: beta = alpha N / N_labelled with alpha 10
    assert res['config']['recipe'] == 'alpha10' and res['config']['alpha'] == 10
    assert res['config']['beta'] == pytest.approx(10 * 300 / 100)
    assert 0 <= res['measured']['test_error_percent'] <= 100
    assert np.load(str(tmp_path / 'samples.npz'))['x'].shape == (8 * 11, 784)


@pytest.mark.slow
def test_smoke_m1m2(tmp_path, offline):
    res = run_script('experiments/m1m2_semisupervised.py', ['--quick', '--out', str(tmp_path)])
    assert res['experiment'] == 'm1m2_semisupervised'
    assert res['config']['n_hidden'] == 300 and 1 <= res['config']['active_m1_dims'] <= 50
    assert {k: s['status'] for k, s in res['stages'].items()} == {'m1': 'trained',
                                                                 'main': 'trained'}
    assert {'log_m1', 'model_m1.npz', 'log', 'model_m2.npz'} <= _files(tmp_path)
    assert 'analogies.png' in _files(tmp_path)


@pytest.mark.parametrize('script,argv', [
    ('experiments/m2_semisupervised.py', ['--labels', '50']),
    ('experiments/cvae_completion.py', ['--condition', 'top-half']),
    ('experiments/vae_mnist.py', ['--set', 'binarize=sometimes'])])
def test_bad_options_exit_2(script, argv, tmp_path):
    with pytest.raises(SystemExit) as err:
        load_script(script).main(argv + ['--out', str(tmp_path)])
    assert err.value.code == 2


def test_bad_numbers_exit_2(tmp_path, offline):
    with pytest.raises(SystemExit) as err:
        load_script('experiments/vae_mnist.py').main(['--iw-samples', '0', '--out',
                                                       str(tmp_path)])
    assert err.value.code == 2


@pytest.mark.slow
def test_m1m2_encodes_grey_images_for_train_validation_and_test(tmp_path, offline,
                                                                monkeypatch):
    """nips14-ssl feeds M1 the grey images everywhere; binarised test features cost 1-2
    points of test error. Every array M1 encodes must have grey levels."""
    from vae import semisup
    seen = []
    encode = semisup.encode_dataset

    def spy(m1, x, *args, **kwargs):
        seen.append(np.asarray(x))
        return encode(m1, x, *args, **kwargs)
    monkeypatch.setattr(semisup, 'encode_dataset', spy)
    run_script('experiments/m1m2_semisupervised.py',
               ['--quick', '--out', str(tmp_path), '--validation', '200'])
    assert len(seen) == 3                                       # train, test, validation
    for x in seen:
        assert ((x > 0.01) & (x < 0.99)).mean() > 0.02          # grey levels, not {0, 1}
