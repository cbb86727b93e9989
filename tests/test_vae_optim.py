"""IWAE's optimiser and schedule (vae.optim), the decoder-bias start, and --recipe iwae."""
import math

import numpy as np
import pytest

import chainer

import fused_updates
from expkit.testing import run_script
from vae import optim as vo
from vae.net import VAE


def test_iwae_stages_match_the_released_schedule():
    # yburda/iwae checkpoint1to8: 3**(i-1) epochs at 1e-4 * round(10**(1-(i-1)/7), 1)
    epochs = [e for e, _ in vo.IWAE_STAGES]
    rates = [lr for _, lr in vo.IWAE_STAGES]
    assert epochs == [1, 3, 9, 27, 81, 243, 729, 2187]
    assert vo.total_epochs(vo.IWAE_STAGES) == 3280
    assert rates == pytest.approx([1e-3, 7.2e-4, 5.2e-4, 3.7e-4, 2.7e-4, 1.9e-4, 1.4e-4, 1e-4])


def test_staged_learning_rate_follows_the_iteration():
    bounds = vo.stage_boundaries([(1, 1.0), (3, 0.5), (9, 0.25)], updates_per_epoch=10)
    assert bounds == [(0, 1.0), (10, 0.5), (40, 0.25)]
    ext = vo.StagedLearningRate(object(), bounds)
    assert [ext.rate(i) for i in (0, 9, 10, 39, 40, 10 ** 6)] == [1.0, 1.0, 0.5, 0.5, .25, .25]


def test_iwae_adam_starts_second_moments_at_one():
    link = chainer.links.Linear(3, 2, initialW=0)      # steps measured exactly at 0
    opt = vo.IWAEAdam(alpha=1e-3)
    opt.setup(link)
    assert (opt.beta1, opt.beta2, opt.eps) == (0.99, 0.999, 1e-4)
    link.cleargrads()
    w0 = link.W.array.copy()
    link.W.grad = np.full_like(w0, 0.01)
    link.b.grad = np.zeros_like(link.b.array)
    opt.update()
    v = link.W.update_rule.state['v']
    np.testing.assert_allclose(v, 0.999 + 0.001 * 0.01 ** 2, rtol=1e-6)
    # the first step: lr * sqrt(1 - b2) / (1 - b1) * m / (sqrt(v) + eps), m = 0.01 * 0.01
    step = 1e-3 * np.sqrt(1 - 0.999) / (1 - 0.99) * 1e-4 / (np.sqrt(v) + 1e-4)
    np.testing.assert_allclose(w0 - link.W.array, step, rtol=1e-4)


def test_output_bias_starts_at_the_logit_of_the_training_mean():
    x = np.zeros((4, 6), np.float32)
    x[:2, 0] = 1                      # mean 0.5 -> logit 0
    x[:, 1] = 1                       # mean 1 -> clipped to 0.999
    vae = VAE(6, 2, (5,), 'tanh')
    vae.init_output_bias(x)
    b = vae.decoder.logit.b.array
    np.testing.assert_allclose(b[0], 0, atol=1e-6)
    np.testing.assert_allclose(b[1], np.log(0.999 / 0.001), rtol=1e-5)
    np.testing.assert_allclose(b[2], np.log(0.001 / 0.999), rtol=1e-5)


@pytest.mark.slow
def test_recipe_iwae_sets_its_defaults_and_explicit_options_win(tmp_path, monkeypatch):
    monkeypatch.setenv('MNIST_OFFLINE', '1')
    res = run_script('experiments/vae_mnist.py',
                     ['--quick', '--recipe', 'iwae', '--manifold-epoch', '0',
                      '--z-dim', '7', '--out', str(tmp_path)])
    c = res['config']
    assert (c['n_hidden'], c['z_dim'], c['batchsize'], c['optimizer'], c['validation']) == \
        ([200, 200], 7, 20, 'iwae-adam', 0)
    assert c['epoch'] == 1               # --quick wins over the recipe, explicit options over both
    assert (tmp_path / 'test_bound.png').exists()
    assert res['measured']['test_nll_seconds'] >= 0


def test_nips14_adam_first_step_and_moments_closed_form():
    """adam.py of nips14-ssl: no bias correction and no epsilon, so the first step is
    alpha (1 - beta1) g / sqrt((1 - beta2) g^2) = 3.162 alpha sign(g); a zero gradient
    (v = 0) leaves the weight where it is instead of 0/0."""
    link = chainer.Link()
    with link.init_scope():
        link.w = chainer.Parameter(np.array([1.0, 2.0, 3.0], np.float32))
    opt = vo.NIPS14Adam(alpha=1e-2)
    opt.setup(link)
    assert fused_updates.fused_class(type(link.w.update_rule)) is None   # not fused
    link.w.grad = np.array([0.5, -4.0, 0.0], np.float32)
    opt.update()
    step = 1e-2 * 0.1 / math.sqrt(0.001)
    np.testing.assert_allclose(link.w.array, [1 - step, 2 + step, 3.0], rtol=1e-5)
    state = link.w.update_rule.state
    np.testing.assert_allclose(state['m'], [0.05, -0.4, 0], rtol=1e-6)
    np.testing.assert_allclose(state['v'], [0.00025, 0.016, 0], rtol=1e-5)
    link.w.grad = np.array([0.5, -4.0, 0.0], np.float32)
    opt.update()                          # m = 0.19 g, v = 0.001999 g^2
    step2 = 1e-2 * 0.19 / math.sqrt(0.001999)
    np.testing.assert_allclose(link.w.array, [1 - step - step2, 2 + step + step2, 3.0],
                               rtol=1e-5)
