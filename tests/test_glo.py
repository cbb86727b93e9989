"""GLO (glo/): codes link and projection, PCA init, the training step, latent-space tools,
and the experiment's smoke run."""
import os

import numpy as np
import pytest

import chainer

from expkit.testing import run_script
from gan.dcgan import Generator
from glo.initialization import fit_pca, initial_codes, pca_codes, random_codes
from glo.latent import (class_means, decode, fit_gaussian, infer_codes, interpolate,
                        sample_codes)
from glo.loss import make_loss
from glo.net import LatentCodes, ProjectCodes, project
from glo.updater import GLOUpdater
from test_glo_loss import strokes


def tiny_generator(dim=4, seed=0, wscale=0.02):
    np.random.seed(seed)
    return Generator(n_hidden=dim, out_size=28, out_ch=1, ch=8, wscale=wscale)


# -- projection and the codes link ---------------------------------------------------------
def test_projection_ball_and_sphere():
    z = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])
    ball = project(z, 'ball')
    np.testing.assert_allclose(ball, [[0.6, 0.8], [0.3, 0.4], [0.0, 0.0]])
    sphere = project(z[:2], 'sphere')
    np.testing.assert_allclose(np.linalg.norm(sphere, axis=1), [1.0, 1.0])
    with pytest.raises(ValueError):
        project(z, 'cube')


def test_codes_link_rows_and_gradient_only_on_the_batch():
    z0 = np.arange(12, dtype=np.float32).reshape(6, 2) / 20.0
    codes = LatentCodes(6, 2, z0)
    idx = np.array([1, 3, 3], np.int32)
    out = codes(idx)
    np.testing.assert_array_equal(out.array, z0[idx])
    chainer.functions.sum(out).backward()
    expected = np.zeros((6, 2), np.float32)
    expected[1], expected[3] = 1.0, 2.0                      # repeated index accumulates
    np.testing.assert_array_equal(codes.W.grad, expected)
    codes.W.array[...] = 0
    assert z0.max() > 0                                      # the link holds a copy
    with pytest.raises(ValueError):
        LatentCodes(5, 2, z0)
    with pytest.raises(ValueError):
        LatentCodes(6, 2, z0, projection='cube')


@pytest.mark.parametrize('projection', ['ball', 'sphere'])
def test_projection_hook_keeps_every_code_in_the_ball(projection):
    codes = LatentCodes(20, 3, np.random.RandomState(0).randn(20, 3) * 0.1,
                        projection=projection)
    opt = chainer.optimizers.SGD(lr=100.0)
    opt.setup(codes)
    opt.add_hook(ProjectCodes())
    loss = chainer.functions.sum(codes(np.arange(20, dtype=np.int32)) ** 2 * -1.0)
    codes.cleargrads()
    loss.backward()
    opt.update()                                             # lr 100 pushes far outside
    norms = np.linalg.norm(codes.W.array, axis=1)
    assert norms.max() <= 1.0 + 1e-6
    if projection == 'sphere':
        np.testing.assert_allclose(norms, 1.0, rtol=1e-6)


# -- initialisation --------------------------------------------------------------------------
def low_rank_images(n=300, d=5, dim=64, seed=0):
    rng = np.random.RandomState(seed)
    basis = np.linalg.qr(rng.randn(dim, d))[0].T                  # d orthonormal directions
    scales = np.array([8.0, 5.0, 3.0, 2.0, 1.0])[:d]
    x = (rng.randn(n, d) * scales) @ basis + 0.5 + 0.01 * rng.randn(n, dim)
    return x.astype(np.float32), basis


def test_pca_init_reproduces_the_top_components():
    x, basis = low_rank_images()
    pca = fit_pca(x, 3)
    # the fitted components are the top-3 right singular vectors of the centred data ...
    vt = np.linalg.svd(x - x.mean(0), full_matrices=False)[2][:3]
    np.testing.assert_allclose(np.abs(np.sum(pca.components_ * vt, axis=1)), 1.0, atol=1e-5)
    # ... and span the data's 3 strongest planted directions
    np.testing.assert_allclose(np.linalg.norm(pca.components_ @ basis[:3].T, axis=0), 1.0,
                               atol=1e-3)
    # codes = projection of the centred data on them, put on the sphere / in the ball
    z, _ = pca_codes(x, 3, projection='sphere', pca=pca)
    direct = (x - x.mean(0)) @ pca.components_.T
    np.testing.assert_allclose(z, direct / np.linalg.norm(direct, axis=1, keepdims=True),
                               atol=1e-5)
    zb, _ = pca_codes(x, 3, projection='ball')
    assert zb.dtype == np.float32 and np.linalg.norm(zb, axis=1).max() <= 1 + 1e-6
    with pytest.raises(ValueError):
        fit_pca(x[:2], 3)


def test_random_init_and_dispatch():
    z = random_codes(50, 8, seed=1)
    assert z.shape == (50, 8) and np.linalg.norm(z, axis=1).max() <= 1 + 1e-6
    np.testing.assert_array_equal(z, random_codes(50, 8, seed=1))
    x, _ = low_rank_images(40)
    assert initial_codes('random', x, 4)[1] is None
    assert initial_codes('pca', x, 4)[0].shape == (40, 4)
    with pytest.raises(ValueError):
        initial_codes('zeros', x, 4)


# -- the training step -----------------------------------------------------------------------
def make_updater(n=16, dim=4, batchsize=4, lr_gen=1.0, lr_codes=10.0):
    x = strokes(n).reshape(n, 784)
    gen = tiny_generator(dim)
    codes = LatentCodes(n, dim, random_codes(n, dim, seed=0))
    opt_gen = chainer.optimizers.SGD(lr=lr_gen)
    opt_gen.setup(gen)
    opt_codes = chainer.optimizers.SGD(lr=lr_codes)
    opt_codes.setup(codes)
    opt_codes.add_hook(ProjectCodes())
    data = chainer.datasets.TupleDataset(x, np.arange(n, dtype=np.int32))
    it = chainer.iterators.SerialIterator(data, batchsize, shuffle=False)
    updater = GLOUpdater(it, {'m': (gen, codes)}, {'m': make_loss('lap1')},
                         {'m/gen': opt_gen, 'm/codes': opt_codes})
    return updater, gen, codes


def test_one_update_moves_theta_and_the_batch_codes_only():
    updater, gen, codes = make_updater()
    theta0 = {k: p.array.copy() for k, p in gen.namedparams()}
    z0 = codes.W.array.copy()
    observation = {}
    with chainer.reporter.Reporter().scope(observation):
        updater.update()
    moved = [k for k, p in gen.namedparams() if not np.array_equal(p.array, theta0[k])]
    assert '/l0/W' in moved and '/out/W' in moved
    changed_rows = np.flatnonzero(np.any(codes.W.array != z0, axis=1))
    np.testing.assert_array_equal(changed_rows, [0, 1, 2, 3])   # the first minibatch
    assert np.linalg.norm(codes.W.array, axis=1).max() <= 1 + 1e-6
    assert set(observation) == {'m/loss', 'm/mse'}
    assert float(observation['m/loss'].array) > 0


def test_training_lowers_the_objective():
    updater, gen, codes = make_updater(n=8, batchsize=8)
    losses = []
    for _ in range(25):
        observation = {}
        with chainer.reporter.Reporter().scope(observation):
            updater.update()
        losses.append(float(observation['m/loss'].array))
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:3])


def test_updater_rejects_missing_optimizer():
    updater, gen, codes = make_updater()
    with pytest.raises(ValueError):
        GLOUpdater(updater.get_iterator('main'), {'m': (gen, codes)},
                   {'m': make_loss('mse')}, {'m/gen': updater.get_optimizer('m/gen')})


# -- latent-space tools ----------------------------------------------------------------------
def test_fit_gaussian_and_samples():
    rng = np.random.RandomState(0)
    cov = np.array([[0.02, 0.01, 0.0], [0.01, 0.03, 0.0], [0.0, 0.0, 0.01]])
    z = rng.multivariate_normal([0.1, -0.2, 0.0], cov, size=4000)
    mean, fitted = fit_gaussian(z)
    np.testing.assert_allclose(mean, [0.1, -0.2, 0.0], atol=0.01)
    np.testing.assert_allclose(fitted, cov, atol=0.003)
    s = sample_codes(mean, fitted, 3000, seed=1)
    assert s.dtype == np.float32 and np.linalg.norm(s, axis=1).max() <= 1 + 1e-6
    np.testing.assert_allclose(np.cov(s, rowvar=False), cov, atol=0.004)


def test_interpolate_and_class_means():
    a, b = np.zeros((2, 3)), np.ones((2, 3))
    path = interpolate(a, b, steps=5)
    assert path.shape == (2, 5, 3)
    np.testing.assert_allclose(path[:, 0], a)
    np.testing.assert_allclose(path[:, -1], b)
    np.testing.assert_allclose(path[:, 2], 0.5)
    z = np.array([[0.0], [2.0], [10.0]])
    np.testing.assert_allclose(class_means(z, np.array([0, 0, 1]), 2), [[1.0], [10.0]])


def test_infer_codes_fits_unseen_images_with_theta_fixed():
    gen = tiny_generator(4, seed=3, wscale=0.3)     # outputs that depend on z at init
    z_true = random_codes(6, 4, seed=5)
    x = decode(gen, z_true)                                  # images the generator can make
    assert x.shape == (6, 784)
    theta0 = {k: p.array.copy() for k, p in gen.namedparams()}
    start = random_codes(6, 4, seed=6)       # (z = 0 is a stationary point: ReLU(0))
    loss = make_loss('mse')

    def err(z):
        return float(((decode(gen, z) - x) ** 2).mean())
    z = infer_codes(gen, x, loss, start, steps=60, lr=150.0, batchsize=3)
    assert err(z) < 0.01 * err(start)
    assert np.linalg.norm(z, axis=1).max() <= 1 + 1e-6
    for k, p in gen.namedparams():
        np.testing.assert_array_equal(p.array, theta0[k])


# -- the experiment --------------------------------------------------------------------------
@pytest.mark.slow
def test_glo_mnist_quick_smoke(tmp_path):
    out = str(tmp_path / 'glo')
    results = run_script('experiments/glo_mnist.py', ['--quick', '--out', out])
    assert set(results['config']['variants']) == {'lap1_d8', 'lap1_d16', 'mse_d8'}
    for name in results['config']['variants'] + ['pca_d8', 'pca_d16']:
        m = results['measured'][name]
        assert 0 < m['train_mse'] < 1 and 0 < m['heldout_mse'] < 1
        assert m['heldout_psnr_db'] > 0
    pca = results['measured']
    assert pca['pca_d16']['train_mse'] < pca['pca_d8']['train_mse']     # nested subspaces
    assert isinstance(pca['lap1_d8']['train_mse_below_pca'], bool)
    for png in ('reconstructions.png', 'lap1_vs_mse.png', 'samples.png', 'interpolation.png',
                'arithmetic.png', 'conditional.png', 'loss.png'):
        assert os.path.getsize(os.path.join(out, png)) > 1000, png
    samples = np.load(os.path.join(out, 'samples.npz'))['x']
    assert samples.shape == (100, 784) and 0 <= samples.min() and samples.max() <= 1
    codes = np.load(os.path.join(out, 'codes.npz'))
    assert codes['z'].shape == (256, 8) and codes['labels'].shape == (256,)


def test_pca_baseline_is_the_best_rank_d_affine_reconstruction():
    from glo.latent import pca_reconstructions
    rng = np.random.RandomState(0)
    basis = rng.randn(3, 20)
    x = (rng.randn(200, 3) @ basis + 0.5).astype('f')             # a 3-D affine subspace
    held = (rng.randn(10, 3) @ basis + 0.5).astype('f')
    rec, rec_held = pca_reconstructions(x, held, 3)
    np.testing.assert_allclose(rec, x, atol=1e-4)
    np.testing.assert_allclose(rec_held, held, atol=1e-4)
    y = rng.rand(300, 12).astype('f')                              # generic data, d = 4:
    rec, _ = pca_reconstructions(y, y[:5], 4)                       # SVD of the centred data
    c = y - y.mean(0)
    u, s, vt = np.linalg.svd(c.astype(np.float64), full_matrices=False)
    np.testing.assert_allclose(((rec - y) ** 2).sum(), (s[4:] ** 2).sum(), rtol=1e-4)


def test_glo_mnist_rejects_bad_dims(tmp_path):
    with pytest.raises(SystemExit) as err:
        run_script('experiments/glo_mnist.py', ['--quick', '--z-dim', '0,x',
                                                '--out', str(tmp_path / 'bad')])
    assert err.value.code == 2


@pytest.mark.parametrize('projection', ['ball', 'sphere'])
def test_projecting_only_the_read_codes_equals_projecting_all(projection):
    # ProjectCodes under plain SGD projects the rows the minibatches read (after one full
    # projection); with momentum it projects every row. Both must equal the full projection.
    rng = np.random.RandomState(0)
    z0 = rng.randn(30, 3) * 2.0                    # some codes start outside the ball
    batches = [rng.randint(0, 30, 7).astype(np.int32) for _ in range(6)]
    results = []
    for make, full in ((lambda: chainer.optimizers.SGD(lr=5.0), False),
                       (lambda: chainer.optimizers.SGD(lr=5.0), True),
                       (lambda: chainer.optimizers.MomentumSGD(lr=5.0), False)):
        codes = LatentCodes(30, 3, z0, projection=projection)
        opt = make()
        opt.setup(codes)
        opt.add_hook(ProjectCodes())
        for idx in batches:
            loss = chainer.functions.sum(codes(idx) ** 2 * -1.0)
            codes.cleargrads()
            loss.backward()
            opt.update()
            if full:
                codes.project()                    # reference: every row, every step
        assert np.linalg.norm(codes.W.array, axis=1).max() <= 1.0 + 1e-6
        results.append(codes.W.array.copy())
    # equal up to rounding: re-projecting a code already in the ball moves it by an ulp
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-7)
