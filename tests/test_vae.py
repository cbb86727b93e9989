"""Unit tests of the VAE package: closed forms, bounds, exact sums, masks, gradients."""
import math

import numpy as np
import pytest
import chainer
import chainer.functions as F
from chainer import gradient_check, optimizers
from chainer.iterators import SerialIterator

from expkit import UsageError
from vae import completion, functions, likelihood, loss, semisup
from vae.net import VAE, M2, CompletionCVAE, CompletionRegressor
from vae.updater import VAEUpdater, M2Updater, CompletionUpdater, add_weight_decay


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)


def binary(n, d, p=0.3, seed=0):
    return (np.random.RandomState(seed).uniform(size=(n, d)) < p).astype(np.float32)


# --- closed forms --------------------------------------------------------------------------

def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.RandomState(1)
    mu = rng.normal(size=(3, 4))
    ln_var = rng.normal(scale=0.5, size=(3, 4))
    kl = loss.gaussian_kl(mu, ln_var).array
    # Monte Carlo: E_q[log q(z) - log N(z; 0, I)]
    eps = rng.standard_normal((200000, 3, 4))
    z = mu + np.exp(0.5 * ln_var) * eps
    log_q = -0.5 * (eps ** 2 + ln_var + math.log(2 * math.pi)).sum(-1)
    log_p = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(-1)
    mc = (log_q - log_p).mean(0)
    assert kl.shape == (3,)
    np.testing.assert_allclose(kl, mc, rtol=0, atol=0.03)
    assert loss.gaussian_kl(np.zeros((2, 5)), np.zeros((2, 5))).array == pytest.approx(0)


def test_fused_bernoulli_matches_chainer_and_closed_form():
    rng = np.random.RandomState(2)
    logits = rng.normal(scale=30, size=(5, 7)).astype(np.float32)    # includes |a| >> 88
    x = binary(5, 7, seed=3)
    ours = loss.bernoulli_log_likelihood(x, logits).array
    ref = -F.sum(F.bernoulli_nll(x, logits, reduce='no'), axis=1).array
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-3)
    small = loss.bernoulli_log_likelihood(x[:2, :3], logits[:2, :3] / 30).array
    p = 1 / (1 + np.exp(-logits[:2, :3].astype(np.float64) / 30))
    np.testing.assert_allclose(small, (x[:2, :3] * np.log(p) + (1 - x[:2, :3])
                                       * np.log(1 - p)).sum(1), rtol=1e-5)
    assert np.all(np.isfinite(ours)) and np.all(ours <= 0)


def test_fast_softplus_matches_log1p_form():
    a = np.linspace(-100, 100, 2001).astype(np.float32)
    ref = np.logaddexp(0, a.astype(np.float64))
    np.testing.assert_allclose(functions.softplus(a).array, ref, rtol=1e-6, atol=2e-7)


# --- gradient checks (float64) -------------------------------------------------------------

def test_gradient_softplus_and_bernoulli():
    rng = np.random.RandomState(4)
    a = rng.normal(scale=3, size=(4, 6))
    gradient_check.check_backward(functions.softplus, a, rng.normal(size=(4, 6)),
                                  dtype=np.float64, atol=1e-6, rtol=1e-6)
    x = binary(4, 6).astype(np.float64)
    gradient_check.check_backward(lambda l: functions.bernoulli_log_likelihood(x, l), a,
                                  rng.normal(size=4), dtype=np.float64, atol=1e-6, rtol=1e-6)


def test_gradient_kl_and_gaussian_likelihood():
    rng = np.random.RandomState(5)
    mu, ln_var, x = rng.normal(size=(3, 2, 4))
    gradient_check.check_backward(loss.gaussian_kl, (mu, ln_var), rng.normal(size=2),
                                  dtype=np.float64, atol=1e-6, rtol=1e-6)
    gradient_check.check_backward(lambda m, v: loss.gaussian_log_likelihood(x, m, v),
                                  (mu, ln_var), rng.normal(size=2), dtype=np.float64,
                                  atol=1e-6, rtol=1e-6)


def test_gradient_m2_objective():
    """Whole M2 objective (labelled + exact-sum unlabelled) against finite differences."""
    with chainer.using_config('dtype', np.float64):
        model = M2(n_in=6, n_latent=2, n_hidden=(5,), n_classes=3, init_std=None)
    assert {p.dtype for p in model.params()} == {np.dtype(np.float64)}
    x_l, y_l = binary(4, 6), np.array([0, 1, 2, 1], np.int32)
    x_u = binary(5, 6, seed=7)
    x_l, x_u = x_l.astype(np.float64), x_u.astype(np.float64)
    params = [model.encoder.mu.W, model.decoder.hidden.label_in.W,
              model.classifier_out.W]

    def objective():
        np.random.seed(11)                    # same eps on every evaluation
        return loss.m2_objective(model, x_l, y_l, x_u, 40, 500)[0]

    gradient_check.check_backward(objective, (), np.ones((), np.float64), params=params,
                                  atol=1e-5, rtol=1e-4)         # all float64 already


# --- bounds --------------------------------------------------------------------------------

def tiny_vae(n_in=8, n_latent=2):
    vae = VAE(n_in, n_latent, (6,), 'tanh')
    for p in vae.params():
        p.array *= 3          # a sharp, badly fitted model: the bounds are far apart
    return vae


def test_elbo_le_iw_log_likelihood_le_zero():
    vae = tiny_vae()
    x = binary(6, 8)
    elbo = np.mean([likelihood.elbo(vae, x) for _ in range(400)], axis=0)   # E_q[ELBO]
    iw = likelihood.iw_log_likelihood(vae, x, n_samples=20000)
    assert iw.shape == (6,)
    assert np.all(iw <= 0)
    assert np.all(elbo < iw - 0.05)           # strictly looser by a margin


def test_iw_log_likelihood_equals_exact_marginal_in_1d():
    """n_latent=1: integrate p(x|z)p(z) on a grid and compare."""
    vae = tiny_vae(n_in=5, n_latent=1)
    vae.encoder.ln_var.W.array[:] = 0      # q wider than the prior: bounded weights, so
    vae.encoder.ln_var.b.array[:] = 1      # the estimate has small variance
    x = binary(3, 5)
    z = np.linspace(-9, 9, 20001, dtype=np.float32)[:, None]
    with chainer.no_backprop_mode():
        logits = vae.decode(z).array.astype(np.float64)
    log_px = (x[:, None] * logits - np.logaddexp(0, logits)).sum(-1)      # (3, G)
    log_joint = log_px - 0.5 * (z[:, 0] ** 2 + math.log(2 * math.pi))
    exact = np.log(np.exp(log_joint).sum(1) * (z[1, 0] - z[0, 0]))
    iw = likelihood.iw_log_likelihood(vae, x, n_samples=50000)
    np.testing.assert_allclose(iw, exact, atol=0.01)


def test_iw_chunking_does_not_change_the_estimate():
    vae = tiny_vae()
    x = binary(4, 8)
    np.random.seed(3)
    whole = likelihood.iw_log_likelihood(vae, x, n_samples=64, max_elements=10 ** 9)
    np.random.seed(3)
    chunked = likelihood.iw_log_likelihood(vae, x, n_samples=64, max_elements=4 * 8 * 5)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6)


# --- M2 ------------------------------------------------------------------------------------

def test_m2_exact_sum_equals_enumeration():
    model = M2(n_in=7, n_latent=3, n_hidden=(6, 5), n_classes=4, init_std=None)
    x = binary(5, 7)
    np.random.seed(8)
    batched = loss.m2_bound_all_classes(model, x).array                  # (B, K)
    np.random.seed(8)                    # same eps: (K, B, Z) drawn in C order = K draws
    enumerated = np.stack([loss.m2_labelled_bound(model, x, np.full(5, k, np.int32)).array
                           for k in range(4)], axis=1)
    assert batched.shape == (5, 4)
    np.testing.assert_allclose(batched, enumerated, rtol=1e-5, atol=1e-4)
    log_qy = F.log_softmax(model.classify(x)).array
    np.random.seed(8)
    u = loss.m2_unlabelled_bound(model, x).array
    qy = np.exp(log_qy)
    np.testing.assert_allclose(u, (qy * (enumerated - log_qy)).sum(1), rtol=1e-5, atol=1e-4)


def test_m2_gaussian_likelihood_runs_and_beta_weight():
    model = M2(n_in=4, n_latent=2, n_hidden=(5,), n_classes=3, likelihood="gaussian",
               init_std=None)
    x_l = np.random.randn(3, 4).astype(np.float32)
    y_l = np.array([0, 1, 2], np.int32)
    x_u = np.random.randn(6, 4).astype(np.float32)
    np.random.seed(1)
    loss_a, stats = loss.m2_objective(model, x_l, y_l, x_u, 10, 90, alpha=0.0)
    np.random.seed(1)
    loss_b, _ = loss.m2_objective(model, x_l, y_l, x_u, 10, 90, alpha=0.1)
    # beta = alpha * N / N_l = 0.1 * 100 / 10 = 1; labelled sum scaled by N_l/B_l; / N
    expected = -(1.0 * (-stats['loss_cls'].array) * 3 * (10 / 3)) / 100
    assert float(loss_b.array - loss_a.array) == pytest.approx(expected, rel=1e-4)


def test_m2_updater_learns_labels():
    rng = np.random.RandomState(0)
    y = np.arange(40) % 2
    x = (rng.uniform(size=(40, 6)) < np.where(y[:, None] == 1, 0.9, 0.1)).astype(np.float32)
    labelled = list(zip(x[:4], y[:4].astype(np.int32)))
    model = M2(n_in=6, n_latent=2, n_hidden=(8,), n_classes=2)
    opt = optimizers.Adam(1e-2)
    opt.setup(model)
    updater = M2Updater({'main': SerialIterator(x[4:], 12),
                         'labelled': SerialIterator(labelled, 4)}, opt, 4, 36)
    for _ in range(120):
        updater.update()
    with chainer.no_backprop_mode():
        pred = model.classify(x).array.argmax(1)
    assert (pred == y).mean() > 0.9


# --- M1 training, completion masks, converters ---------------------------------------------

def test_vae_updater_lowers_the_loss():
    x = binary(64, 10)
    vae = VAE(10, 2, (16,), 'softplus')
    opt = optimizers.Adam(1e-2)
    opt.setup(vae)
    add_weight_decay(vae, 1e-4)
    updater = VAEUpdater(SerialIterator(x, 32), opt)
    before = -likelihood.elbo(vae, x).mean()
    for _ in range(100):
        updater.update()
    after = -likelihood.elbo(vae, x).mean()
    assert after < before - 0.5


def test_mixture_log_prior_matches_scipy_and_the_sampler():
    """log p(z) of the AAE's 10-Gaussian mixture (Fig. 2c) against scipy's densities built
    from the sampler's own parameters; its samples have the density's moments."""
    from scipy.stats import multivariate_normal
    from datasets.priors import (MIXTURE_RADIAL_STD, MIXTURE_RADIUS, MIXTURE_TANGENTIAL_STD,
                                 sample_gaussian_mixture)
    z = np.random.RandomState(3).uniform(-2.5, 2.5, size=(400, 2)).astype(np.float32)
    comps, dists = [], []
    for k in range(10):
        a = 2 * np.pi * k / 10
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        cov = rot @ np.diag([MIXTURE_RADIAL_STD ** 2, MIXTURE_TANGENTIAL_STD ** 2]) @ rot.T
        dists.append(multivariate_normal(MIXTURE_RADIUS * np.array([np.cos(a), np.sin(a)]), cov))
        comps.append(dists[-1].logpdf(z))
    expected = np.logaddexp.reduce(np.array(comps), axis=0) - np.log(10)
    got = loss.gaussian_mixture_log_prior(z).array
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)
    # 4-D: one component shared by both pairs (the sampler's construction)
    pair2 = -z[:5]
    comps2 = np.array([multivariate_normal(c.mean, c.cov).logpdf(pair2) for c in dists])
    shared = np.logaddexp.reduce(np.array(comps)[:, :5] + comps2, axis=0) - np.log(10)
    np.testing.assert_allclose(loss.gaussian_mixture_log_prior(np.concatenate(
        [z[:5], pair2], 1)).array, shared, rtol=1e-4, atol=1e-3)
    # samples of the prior score higher than uniform points on the same box
    zs = sample_gaussian_mixture(400, rng=np.random.RandomState(0))[0]
    assert loss.gaussian_mixture_log_prior(zs).array.mean() > got.mean() + 1


def test_mixture_log_prior_gradient():
    z = np.random.RandomState(1).normal(size=(5, 2)).astype(np.float64)
    gradient_check.check_backward(lambda v: loss.gaussian_mixture_log_prior(v), z,
                                  np.ones(5), eps=1e-4, atol=1e-3, rtol=1e-3)


def test_monte_carlo_kl_matches_the_closed_form_for_the_gaussian_prior():
    """vae_bound_mc with log N(z; 0, I) estimates the closed-form KL without bias."""
    vae = VAE(10, 2, (16,), 'relu')
    x = binary(4, 10)
    log_normal = lambda z: -0.5 * F.sum(z ** 2 + math.log(2 * math.pi), axis=1)
    closed = loss.vae_bound(vae, x)[1].array
    mc = np.mean([loss.vae_bound_mc(vae, x, log_normal)[1].array for _ in range(4000)], 0)
    np.testing.assert_allclose(mc, closed, atol=0.05)


def test_vae_updater_with_the_mixture_prior_lowers_the_loss():
    x = binary(64, 10)
    vae = VAE(10, 2, (16,), 'relu')
    opt = optimizers.Adam(1e-2)
    opt.setup(vae)
    updater = VAEUpdater(SerialIterator(x, 32), opt, log_prior=loss.gaussian_mixture_log_prior)
    bound = lambda: np.mean([sum(t.array.mean() * s for t, s in zip(
        loss.vae_bound_mc(vae, x, loss.gaussian_mixture_log_prior), (-1, 1)))
        for _ in range(20)])
    before = bound()
    for _ in range(150):
        updater.update()
    assert bound() < before - 0.5


@pytest.mark.parametrize('condition,n_cond,columns', [
    ('center-column', 28, [13]), ('left-half', 392, range(14)),
    ('right-half', 392, range(14, 28))])
def test_condition_masks(condition, n_cond, columns):
    mask = completion.condition_mask(condition)
    assert mask.shape == (784,) and mask.sum() == n_cond
    grid = mask.reshape(28, 28)
    assert np.all(grid[:, list(columns)])
    assert grid.sum(axis=0)[list(columns)].tolist() == [28] * len(list(columns))
    x = np.random.uniform(size=(3, 784)).astype(np.float32)
    c, t = completion.split(x, mask)
    assert c.shape == (3, n_cond) and t.shape == (3, 784 - n_cond)
    np.testing.assert_array_equal(completion.merge(c, t, mask), x)
    if condition == 'center-column':
        np.testing.assert_array_equal(c, x.reshape(3, 28, 28)[:, :, 13])


def test_condition_mask_rejects_unknown():
    with pytest.raises(ValueError):
        completion.condition_mask('top-half')


def test_noisy_binarize_has_bernoulli_mean():
    x = np.random.uniform(size=(4, 30)).astype(np.float32)
    draws = np.stack([completion.noisy_binarize(x) for _ in range(4000)])
    assert set(np.unique(draws)) <= {0.0, 1.0}
    np.testing.assert_allclose(draws.mean(0), x, atol=0.04)
    assert not np.array_equal(draws[0], draws[1])            # fresh every call


def test_dynamic_binarize_from_datasets_has_bernoulli_mean():
    binarize = pytest.importorskip('datasets.binarize')
    x = np.random.uniform(size=(4, 30)).astype(np.float32)
    draws = np.stack([binarize.binarize_dynamic(x) for _ in range(4000)])
    assert set(np.unique(draws)) <= {0.0, 1.0}
    np.testing.assert_allclose(draws.mean(0), x, atol=0.04)


def test_completion_models_and_updater():
    mask = completion.condition_mask('center-column')
    x = np.random.uniform(size=(8, 784)).astype(np.float32)
    converter = completion.CompletionConverter(mask)
    c, t = converter(list(x))
    assert c.shape == (8, 28) and t.shape == (8, 756) and set(np.unique(c)) <= {0, 1}
    cvae, reg = CompletionCVAE(28, 756), CompletionRegressor(28, 756)
    assert cvae.complete(c).shape == (8, 756) and reg.complete(c).shape == (8, 756)
    with chainer.no_backprop_mode():
        a, b = cvae.complete(c).array, cvae.complete(c).array
    assert not np.allclose(a, b)                        # a fresh z each time
    for model, regressor in ((cvae, False), (reg, True)):
        opt = optimizers.Adam(1e-3)
        opt.setup(model)
        updater = CompletionUpdater(SerialIterator(x, 4), opt, converter=converter,
                                    regressor=regressor)
        updater.update()


def test_gaussian_feature_converter_samples_q():
    mean = np.full((2000, 3), 2.0, np.float32)
    ln_var = np.full((2000, 3), math.log(0.25), np.float32)
    y = np.zeros(2000, np.int32)
    x, yy = semisup.GaussianFeatureConverter()(list(zip(mean, ln_var, y)))
    assert x.shape == (2000, 3) and yy.shape == (2000,)
    assert x.mean() == pytest.approx(2.0, abs=0.02) and x.std() == pytest.approx(0.5, abs=0.02)
    mask = semisup.active_dimensions(np.stack([np.random.randn(100), np.zeros(100)], 1))
    assert mask.tolist() == [True, False]


def test_m1_diagnostics_signal_to_noise_closed_form():
    # 2 kept dims: posterior means spread with std 3 (dim 0) and 1 (dim 1), posterior sd 0.5
    rng = np.random.RandomState(4)
    y = np.tile(np.arange(10), 200)
    mean = np.stack([3.0 * rng.standard_normal(2000), rng.standard_normal(2000)], 1)
    mean = (mean - mean.mean(0)) / mean.std(0) * np.array([3.0, 1.0])
    ln_var = np.full_like(mean, 2 * math.log(0.5))
    d = semisup.m1_diagnostics(mean, ln_var, y, np.arange(100), mean[:50], y[:50], 50)
    assert d['kept_dims'] == 2 and d['latent_dims'] == 50
    assert d['posterior_sd_median'] == pytest.approx(0.5)
    assert d['sampled_code_snr_median'] == pytest.approx((6.0 + 2.0) / 2)   # median(3/.5, 1/.5)
    assert semisup.m1_gate(d, 'stop') == 'pass'


def test_m1_gate_stops_or_warns_on_noisy_codes(capsys):
    d = {'sampled_code_snr_median': 1.0}
    with pytest.raises(UsageError, match='--m1-epoch.*--set m1-gate=warn'):
        semisup.m1_gate(d, 'stop')
    assert semisup.m1_gate(d, 'warn') == 'failed'
    assert 'WARNING: M1 gate' in capsys.readouterr().out
    # the full-MNIST nips14 M1 (900 epochs: 1.67), whose M2 learned, passes
    assert semisup.m1_gate({'sampled_code_snr_median': 1.67}, 'stop') == 'pass'


def test_nips14_minibatch_composition():
    # learn_yz_x_ss.py: 100 minibatches with 100 labels (run_2layer_ssl.py), else 200
    assert semisup.nips14_composition(100, 49900, 100) == (499, 1)
    assert semisup.nips14_composition(600, 49400, 600) == (247, 3)
    assert semisup.nips14_composition(3000, 47000, 3000) == (235, 15)
    # the run's sizes: the recipe's where none is given, explicit ones win
    assert semisup.minibatch_sizes('nips14', None, None, 100, 49900, 100) == (499, 1)
    assert semisup.minibatch_sizes('nips14', 50, None, 100, 49900, 100) == (50, 1)
    assert semisup.minibatch_sizes('nips14', None, 5, 100, 49900, 100) == (499, 5)
    assert semisup.minibatch_sizes('ours', 100, None, 100, 49900, 100) == (100, 100)


def test_new_m2_builds_the_recipes_optimiser_with_the_weight_prior():
    from vae.optim import NIPS14Adam
    m2, opt = semisup.new_m2(20, 4, 8, 'gaussian', 1e-3, 'nips14-adam', 3e-4, 500,
                             chainer.get_device('@numpy'))
    assert isinstance(opt, NIPS14Adam) and opt.target is m2 and opt.alpha == 3e-4
    decays = {name: [h.rate for h in p.update_rule._hookable._pre_update_hooks.values()
                     if type(h).__name__ == 'WeightDecay'] for name, p in m2.namedparams()}
    assert all(rates == ([pytest.approx(1.0 / 500)] if name.endswith('/W') else [])
               for name, rates in decays.items())     # a N(0, 1) prior on weights, per datum
    _, adam = semisup.new_m2(20, 4, 8, 'bernoulli', 0, 'adam', 1e-3, 500,
                             chainer.get_device('@numpy'))
    assert type(adam) is optimizers.Adam and adam.alpha == 1e-3


def test_manifold_codes_cover_the_priors_central_square_in_image_order():
    from vae.evaluate import manifold_codes, manifold_coverage
    z = manifold_codes(20)
    assert z.shape == (400, 2) and z.dtype == np.float32
    assert z[0, 0] < 0 < z[0, 1] and z[19, 0] > 0 and z[-1, 1] < 0   # top-left to bottom-right
    np.testing.assert_allclose(z[0], [-1.959964, 1.959964], rtol=1e-5)  # 2.5 % / 97.5 %
    assert manifold_coverage(z)['fraction_in_manifold_square'] == 1.0
    far = manifold_coverage(np.float32([[0, 0], [0, 2.5], [3, 0], [0.1, -0.2]]))
    assert far['fraction_in_manifold_square'] == 0.5
    np.testing.assert_allclose(far['mean'], [0.775, 0.575])


def test_blocked_bernoulli_log_px_matches_the_float64_formula():
    # vae.likelihood.bernoulli_log_px: blocks, threads and the grey-x fallback
    rng = np.random.RandomState(0)
    x = (rng.rand(70, 784) > 0.5).astype('f')        # 70 rows: two blocks, one partial
    a = (rng.randn(3, 70, 784) * 5).astype('f')
    expect = (x * a.astype('f8') - np.logaddexp(0, a.astype('f8'))).sum(-1)
    for threads in (1, 2):
        got = likelihood.bernoulli_log_px(x, a.copy(), threads=threads)
        assert got.shape == (3, 70)
        np.testing.assert_allclose(got, expect, rtol=1e-6)
    grey = rng.rand(70, 784).astype('f')
    np.testing.assert_allclose(likelihood.bernoulli_log_px(grey, a.copy()),
                               (grey * a - np.logaddexp(0, a)).sum(-1), rtol=1e-6)


def test_fused_gaussian_kl_equals_chainers_composed_kl():
    rng = np.random.RandomState(3)
    mu, ln_var = rng.randn(2, 4, 6).astype('f'), rng.randn(2, 4, 6).astype('f')
    a = [chainer.Variable(v.copy()) for v in (mu, ln_var)]
    b = [chainer.Variable(v.copy()) for v in (mu, ln_var)]
    ka = functions.gaussian_kl(*a)
    kb = F.sum(F.gaussian_kl_divergence(*b, reduce='no'), axis=-1)
    np.testing.assert_allclose(ka.array, kb.array, rtol=1e-6)
    gy = rng.randn(2, 4).astype('f')
    gy = chainer.Variable(gy)
    for ga, gb in zip(chainer.grad([ka], a, [gy]), chainer.grad([kb], b, [gy])):
        np.testing.assert_allclose(ga.array, gb.array, rtol=1e-6, atol=1e-7)
