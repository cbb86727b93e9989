"""datasets: binarization statistics, semi-supervised split, AAE priors, GAN toy data,
Fashion-MNIST and digits."""
import os

import chainer
import numpy as np
import pytest

from datasets import DataError, load
from datasets.binarize import DynamicBinarizeConverter, binarize_dynamic, binarize_static
from datasets.priors import sample_gaussian, sample_gaussian_mixture, sample_swiss_roll
from datasets.semisup import split_labelled
from datasets import toy


# ---------------------------------------------------------------- binarization
def test_dynamic_binarization_is_bernoulli_of_x():
    np.random.seed(0)
    p = np.linspace(0, 1, 11, dtype=np.float32)
    x = np.tile(p, (20000, 1))
    b = binarize_dynamic(x)
    assert b.dtype == np.float32 and set(np.unique(b)) <= {0.0, 1.0}
    se = np.sqrt(p * (1 - p) / len(x))
    assert (np.abs(b.mean(axis=0) - p) <= 5 * se + 1e-12).all()   # E[b] = x, within 5 s.e.
    assert b[:, 0].max() == 0 and b[:, -1].min() == 1              # x=0 never fires, x=1 always


def test_dynamic_draws_differ_static_is_fixed():
    x = np.random.default_rng(0).random((50, 784)).astype(np.float32)
    assert (binarize_dynamic(x) != binarize_dynamic(x)).any()
    np.testing.assert_array_equal(binarize_static(x), (x > 0.5).astype(np.float32))
    s1, s2 = binarize_static(x, 'bernoulli', seed=3), binarize_static(x, 'bernoulli', seed=3)
    np.testing.assert_array_equal(s1, s2)
    assert (s1 != binarize_static(x, 'bernoulli', seed=4)).any()
    assert abs(s1.mean() - x.mean()) < 0.01
    with pytest.raises(ValueError):
        binarize_static(x, 'median')


def test_dynamic_with_explicit_rngs_is_reproducible():
    x = np.full((4, 100), 0.5, dtype=np.float64)
    a = binarize_dynamic(x, np.random.default_rng(1))
    b = binarize_dynamic(x, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float64
    np.testing.assert_array_equal(binarize_dynamic(x, np.random.RandomState(2)),
                                  binarize_dynamic(x, np.random.RandomState(2)))


def test_converter_binarizes_only_the_images_each_batch():
    x = np.full((6, 5), 0.5, dtype=np.float32)
    y = np.arange(6, dtype=np.int32)
    batch = list(chainer.datasets.TupleDataset(x, y))
    conv = DynamicBinarizeConverter()
    assert isinstance(conv, chainer.dataset.Converter)
    draws = [conv(batch, None) for _ in range(5)]
    for bx, by in draws:
        np.testing.assert_array_equal(by, y)
        assert set(np.unique(bx)) <= {0.0, 1.0} and bx.shape == (6, 5)
    assert any((draws[0][0] != d[0]).any() for d in draws[1:])
    bare = DynamicBinarizeConverter()(list(x), chainer.get_device('@numpy'))
    assert bare.shape == (6, 5) and set(np.unique(bare)) <= {0.0, 1.0}
    dicts = [{'x': xi, 'y': yi} for xi, yi in zip(x, y)]
    out = DynamicBinarizeConverter(keys='x')(dicts)
    np.testing.assert_array_equal(out['y'], y)
    with pytest.raises(ValueError):
        DynamicBinarizeConverter()(dicts)


def test_converter_inside_standard_updater():
    """The converter plugs into chainer's updater (new-style converter, device object)."""
    x = np.random.default_rng(0).random((8, 4)).astype(np.float32)
    seen = []

    class Probe(chainer.Link):
        def forward(self, xb):
            seen.append(xb.array if hasattr(xb, 'array') else xb)
            return chainer.Variable(np.zeros((), dtype=np.float32))

    it = chainer.iterators.SerialIterator(x, 4, shuffle=False)
    opt = chainer.optimizers.SGD()
    opt.setup(Probe())
    updater = chainer.training.updaters.StandardUpdater(
        it, opt, converter=DynamicBinarizeConverter(), device='@numpy')
    updater.update()
    assert seen and set(np.unique(seen[0])) <= {0.0, 1.0} and seen[0].shape == (4, 4)


# ---------------------------------------------------------------- semi-supervised split
def test_split_labelled_balanced_seeded_partition():
    y = np.repeat(np.arange(10), 50)
    lab, unl = split_labelled(y, 100, seed=0)
    assert np.bincount(y[lab]).tolist() == [10] * 10
    assert len(np.intersect1d(lab, unl)) == 0 and len(lab) + len(unl) == len(y)
    np.testing.assert_array_equal(lab, split_labelled(y, 100, seed=0)[0])
    assert not np.array_equal(lab, split_labelled(y, 100, seed=1)[0])
    odd, _ = split_labelled(y, 15, seed=0)
    counts = np.bincount(y[odd], minlength=10)
    assert counts.sum() == 15 and set(counts) == {1, 2}
    with pytest.raises(DataError, match='class 0 has only 5 examples'):
        split_labelled(y[45:], 100, seed=0)               # class 0 keeps 5 examples
    with pytest.raises(DataError):
        split_labelled(y, 501)


# ---------------------------------------------------------------- AAE priors
def test_gaussian_prior():
    z = sample_gaussian(20000, 3, std=2.0, rng=0)
    assert z.shape == (20000, 3) and z.dtype == np.float32
    assert np.allclose(z.std(axis=0), 2.0, atol=0.05) and np.allclose(z.mean(axis=0), 0, atol=0.05)
    np.random.seed(5)
    a = sample_gaussian(4, 2)
    np.random.seed(5)
    np.testing.assert_array_equal(a, sample_gaussian(4, 2))        # rng=None: global seed


@pytest.mark.parametrize('k', [0, 3, 7])
def test_mixture_component_geometry(k):
    n, K = 20000, 10
    z, comp = sample_gaussian_mixture(n, K, labels=np.full(n, k), rng=1)
    assert z.dtype == np.float32 and (comp == k).all()
    angle = 2 * np.pi * k / K
    radial = np.array([np.cos(angle), np.sin(angle)])
    tangential = np.array([-np.sin(angle), np.cos(angle)])
    np.testing.assert_allclose(z.mean(axis=0), 1.4 * radial, atol=0.02)   # centre at radius 1.4
    assert abs((z @ radial).std() - 0.5) < 0.02                         # radial std 0.5
    assert abs((z @ tangential).std() - 0.05) < 0.002                   # tangential std 0.05


def test_mixture_labels_unlabelled_and_higher_dims():
    n, K = 5000, 10
    labels = np.where(np.arange(n) % 2 == 0, 4, K)                # every other one unlabelled
    z, comp = sample_gaussian_mixture(n, K, labels=labels, dim=4, rng=2)
    assert z.shape == (n, 4)
    assert (comp[::2] == 4).all()
    assert len(np.unique(comp[1::2])) == K                        # unlabelled: random component
    angle = np.arctan2(z[::2, 1::2].mean(), z[::2, 0::2].mean())
    assert abs(angle - 2 * np.pi * 4 / K) < 0.05                  # each pair of dims uses k
    _, free = sample_gaussian_mixture(n, K, rng=3)
    assert np.bincount(free, minlength=K).min() > 400
    with pytest.raises(ValueError):
        sample_gaussian_mixture(10, K, dim=3)
    with pytest.raises(ValueError):
        sample_gaussian_mixture(3, K, labels=[0, 1, K + 1])
    with pytest.raises(ValueError):
        sample_gaussian_mixture(3, K, labels=[0, 1])
    a, _ = sample_gaussian_mixture(7, K, rng=11, radius=5.0)
    b, _ = sample_gaussian_mixture(7, K, rng=11, radius=5.0)
    np.testing.assert_array_equal(a, b)


def test_swiss_roll_slices():
    n, K = 4000, 10
    for k in (0, 5, 9):
        z, _ = sample_swiss_roll(n, K, labels=np.full(n, k), rng=k)
        r = np.linalg.norm(z, axis=1)
        u = (r / 3.0) ** 2                                        # radius 3√u
        assert (u >= k / K - 1e-5).all() and (u <= (k + 1) / K + 1e-5).all()
        theta = np.arctan2(z[:, 1], z[:, 0])
        expected = 4 * np.pi * np.sqrt(u)                         # angle 4π√u
        assert np.allclose(np.angle(np.exp(1j * (theta - expected))), 0, atol=1e-4)
    z, comp = sample_swiss_roll(n, K, labels=np.full(n, K), rng=0)
    assert len(np.unique(comp)) == K and z.shape == (n, 2)
    assert sample_swiss_roll(5, K, rng=0, dim=4)[0].shape == (5, 4)


# ---------------------------------------------------------------- GAN toy data
def test_gaussian_pair_jsd_limits_and_discriminator():
    assert toy.GaussianPair1D(0, 1, 0, 1).jsd() == pytest.approx(0, abs=1e-9)
    assert toy.GaussianPair1D(0, 1, 60, 0.5).jsd() == pytest.approx(np.log(2), abs=1e-9)
    pair = toy.GaussianPair1D(0, 1, 1.5, 0.7)
    rng = np.random.default_rng(0)
    xd, xg = rng.normal(0, 1, 400000), rng.normal(1.5, 0.7, 400000)
    half = lambda x, own: np.mean(np.log(2 * own(x) / (pair.pdf_data(x) + pair.pdf_model(x))))
    mc = 0.5 * half(xd, pair.pdf_data) + 0.5 * half(xg, pair.pdf_model)
    assert pair.jsd() == pytest.approx(mc, abs=3e-3)              # Monte Carlo check
    x = np.linspace(-3, 4, 50)
    d = pair.optimal_discriminator(x)
    np.testing.assert_allclose(d, pair.pdf_data(x) / (pair.pdf_data(x) + pair.pdf_model(x)))
    assert toy.GaussianPair1D(-1, 1, 1, 1).optimal_discriminator(0.0) == pytest.approx(0.5)
    assert np.isfinite(pair.optimal_discriminator(np.array([-1e3, 1e3]))).all()
    s = pair.sample_data(1000, rng=1)
    assert s.shape == (1000, 1) and s.dtype == np.float32
    assert abs(pair.sample_model(20000, rng=2).std() - 0.7) < 0.02


@pytest.mark.parametrize('sampler, modes, std, n_modes', [
    (toy.sample_ring, toy.RING_MODES, toy.RING_STD, 8),
    (toy.sample_grid, toy.GRID_MODES, toy.GRID_STD, 25),
])
def test_ring_and_grid(sampler, modes, std, n_modes):
    assert modes.shape == (n_modes, 2)
    x, k = sampler(20000, rng=0, return_labels=True)
    assert x.shape == (20000, 2) and x.dtype == np.float32
    assert np.bincount(k, minlength=n_modes).min() > 20000 / n_modes * 0.8
    resid = x - modes[k]
    assert abs(resid.std() - std) < 0.05 * std
    assert np.allclose(resid.mean(axis=0), 0, atol=4 * std / np.sqrt(20000 / n_modes))
    np.testing.assert_array_equal(sampler(10, rng=3), sampler(10, rng=3))


def test_ring_and_grid_parameters_are_pacgans():
    np.testing.assert_allclose(np.linalg.norm(toy.RING_MODES, axis=1), 1.0)
    assert toy.RING_STD == 0.01 and toy.GRID_STD == 0.05
    assert sorted(set(toy.GRID_MODES.ravel())) == [-4, -2, 0, 2, 4]


def test_swiss_roll_2d():
    x = toy.sample_swiss_roll_2d(5000, rng=0)
    assert x.shape == (5000, 2) and x.dtype == np.float32
    r = np.linalg.norm(x, axis=1) * 7.5
    assert 4.0 < r.min() and r.max() < 15.5                       # t in [1.5π, 4.5π]
    np.testing.assert_array_equal(x[:5], toy.sample_swiss_roll_2d(5000, rng=0)[:5])


# ---------------------------------------------------------------- other datasets
def test_digits():
    d = load('digits')
    assert d.image_shape == (8, 8) and d.x_train.shape == (1497, 64) and d.x_test.shape == (300, 64)
    assert d.x_train.min() == 0.0 and d.x_train.max() == 1.0 and d.x_train.dtype == np.float32
    assert np.bincount(d.y_test).tolist() == [30] * 10
    np.testing.assert_array_equal(d.y_test, load('digits').y_test)


def test_fashion_mnist_from_folder(tmp_path, monkeypatch):
    from fixtures_data import TEST, TRAIN, make_split
    make_split(tmp_path, TRAIN, 12)
    make_split(tmp_path, TEST, 6)
    monkeypatch.setenv('FASHION_MNIST_DIR', str(tmp_path))
    d = load('fashion-mnist')
    assert d.info['name'] == 'fashion-mnist' and d.x_test.shape == (6, 784)
    assert d.info['md5_official'] is False
    with pytest.raises(DataError, match='apt-get install dataset-fashion-mnist'):
        load('fashion-mnist', data_dir=str(tmp_path / 'nowhere'))
    (tmp_path / 'half').mkdir()
    with pytest.raises(DataError, match='Fashion-MNIST needs'):
        load('fashion-mnist', data_dir=str(tmp_path / 'half'))


@pytest.mark.skipif(not os.path.isdir('/usr/share/datasets/fashion-mnist'),
                    reason='Debian package dataset-fashion-mnist not installed')
def test_fashion_mnist_debian_package(monkeypatch):
    monkeypatch.delenv('FASHION_MNIST_DIR', raising=False)
    d = load('fashion-mnist')
    assert (d.info['n_train'], d.info['n_test']) == (60000, 10000)
    assert np.bincount(d.y_test).tolist() == [1000] * 10


def test_binarize_on_cupy_if_available():
    cupy = pytest.importorskip('cupy')
    try:
        x = cupy.full((1000, 10), 0.25, dtype=cupy.float32)
    except Exception as e:                                        # cupy without a usable GPU
        pytest.skip('no CUDA device: {}'.format(e))
    b = binarize_dynamic(x)
    assert isinstance(b, cupy.ndarray) and abs(float(b.mean()) - 0.25) < 0.02
    s = binarize_static(x, 'bernoulli', seed=0)
    np.testing.assert_array_equal(cupy.asnumpy(s), binarize_static(cupy.asnumpy(x), 'bernoulli'))
