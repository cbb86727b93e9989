"""GLO's Lap1 loss (glo/loss.py): NumPy reference, zero on equal images, gradient check,
the shift-vs-blur property, the loss factory and PSNR."""
import numpy as np
import pytest
import scipy.ndimage as ndi

import chainer
from chainer import gradient_check

from glo.loss import gaussian_kernel, lap1, laplacian_pyramid, make_loss, mse, psnr


def lap1_reference(x, t, levels=3, ksize=5, sigma=1.0, weights='mean'):
    """Direct NumPy/SciPy Lap1: per image and channel, blur (zero padding), subtract,
    decimate; weighted L1 sums divided by the full-resolution pixel count; batch mean."""
    k = gaussian_kernel(ksize, sigma, dtype=np.float64)[0, 0]
    n, c, h, w = x.shape
    total = 0.0
    for i in range(n):
        for ch in range(c):
            g = (x[i, ch] - t[i, ch]).astype(np.float64)
            bands = []
            for _ in range(levels):
                low = ndi.convolve(g, k, mode='constant', cval=0.0)
                bands.append(g - low)
                g = low[::2, ::2]
            bands.append(g)
            for j, band in enumerate(bands):
                if weights == 'seed':
                    wj = 2.0 ** (-2 * j)
                else:
                    wj = (h * w) / float(band.size)
                total += wj * np.abs(band).sum()
    return total / (n * c * h * w)


def strokes(n, size=28, seed=0):
    """Synthetic MNIST-like images: three thick random line segments, lightly smoothed."""
    rng = np.random.RandomState(seed)
    images = np.zeros((n, 1, size, size))
    for image in images:
        for _ in range(3):
            p, q = rng.uniform(5, size - 5, 2), rng.uniform(5, size - 5, 2)
            for a in np.linspace(0, 1, 60):
                r, c = np.round(p + a * (q - p)).astype(int)
                image[0, r - 1:r + 1, c - 1:c + 1] = 1.0
    return np.clip(ndi.gaussian_filter(images, (0, 0, 0.5, 0.5)), 0, 1).astype(np.float32)


@pytest.mark.parametrize('weights', ['mean', 'seed'])
@pytest.mark.parametrize('shape,levels', [((3, 1, 28, 28), 3), ((2, 2, 12, 10), 2)])
def test_lap1_matches_numpy_reference(weights, shape, levels):
    rng = np.random.RandomState(0)
    x = rng.rand(*shape).astype(np.float32)
    t = rng.rand(*shape).astype(np.float32)
    got = float(lap1(x, t, levels=levels, weights=weights).array)
    assert got == pytest.approx(lap1_reference(x, t, levels, weights=weights), rel=1e-5)


def test_pyramid_sizes_and_flat_targets():
    x = np.random.RandomState(1).rand(2, 1, 28, 28).astype(np.float32)
    sizes = [p.shape[-1] for p in laplacian_pyramid(x, levels=3)]
    assert sizes == [28, 14, 7, 4]
    t = np.zeros((2, 784), np.float32)
    assert float(lap1(x, t).array) == pytest.approx(float(lap1(x, t.reshape(x.shape)).array))
    with pytest.raises(ValueError):
        lap1(np.zeros((2, 1, 28, 28), np.float32), np.zeros((2, 10, 10), np.float32))


def test_lap1_is_zero_only_for_identical_images():
    x = strokes(4)
    assert float(lap1(x, x.copy()).array) == 0.0
    y = x.copy()
    y[0, 0, 14, 14] += 0.1
    assert float(lap1(x, y).array) > 0.0


def test_gaussian_kernel():
    k = gaussian_kernel(5, 1.0, dtype=np.float64)[0, 0]
    assert k.shape == (5, 5)
    assert k.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(k, k.T)
    np.testing.assert_allclose(k, k[::-1, ::-1])
    assert k[2, 2] == k.max()
    with pytest.raises(ValueError):
        gaussian_kernel(4)


@pytest.mark.parametrize('weights', ['mean', 'seed'])
def test_lap1_gradient_check_float64(weights):
    rng = np.random.RandomState(2)
    x = rng.rand(2, 1, 8, 8)
    t = rng.rand(2, 1, 8, 8)
    gy = np.array(rng.randn(), dtype=np.float64)
    gradient_check.check_backward(lambda v: lap1(v, t, levels=2, weights=weights), x, gy,
                                  dtype=np.float64, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize('weights', ['mean', 'seed'])
def test_lap1_penalises_blur_relatively_more_than_mse(weights):
    """The property the paper cites: the squared loss prefers a blurred image to a slightly
    shifted sharp one far more than Lap1 does (Lap1's shift/blur ratio is smaller)."""
    x = strokes(16)
    shifted = np.roll(x, 1, axis=3)
    blurred = ndi.gaussian_filter(x, (0, 0, 1.0, 1.0)).astype(np.float32)

    def ratio(f):
        return float(f(shifted, x).array) / float(f(blurred, x).array)
    lap_ratio = ratio(lambda a, b: lap1(a, b, weights=weights))
    mse_ratio = ratio(mse)
    assert mse_ratio > 1.0              # MSE: the blurred image is the better "reconstruction"
    assert lap_ratio < 0.75 * mse_ratio


def test_make_loss():
    rng = np.random.RandomState(3)
    x = rng.rand(2, 1, 28, 28).astype(np.float32)
    t = rng.rand(2, 784).astype(np.float32)
    l1 = float(make_loss('lap1')(x, t).array)
    l2 = float(make_loss('mse')(x, t).array)
    assert l2 == pytest.approx(((x.reshape(2, -1) - t) ** 2).mean(), rel=1e-5)
    assert float(make_loss('lap1+mse')(x, t).array) == pytest.approx(l1 + l2, rel=1e-5)
    assert float(make_loss('lap1', weights='seed')(x, t).array) != pytest.approx(l1)
    with pytest.raises(ValueError):
        make_loss('l2')
    with pytest.raises(ValueError):
        lap1(x, t, weights='bogus')


def test_psnr_closed_form():
    t = np.zeros((3, 784))
    x = np.full((3, 784), 0.1)             # MSE 0.01 -> 20 dB
    np.testing.assert_allclose(psnr(x, t), [20.0] * 3)
    assert psnr(t, t)[0] == pytest.approx(120.0)   # capped at MSE 1e-12


def test_lap1_accepts_variables_and_backpropagates():
    x = chainer.Variable(np.random.RandomState(4).rand(2, 1, 28, 28).astype(np.float32))
    loss = lap1(x, np.zeros((2, 784), np.float32))
    loss.backward()
    assert x.grad is not None and np.abs(x.grad).sum() > 0


def test_separable_blur_equals_the_convolution():
    from glo.loss import blur, blur_matrix, separable_blur
    x = np.random.RandomState(2).rand(3, 2, 12, 9).astype(np.float32)
    conv = blur(x, gaussian_kernel(5, 1.0)).array
    sep = separable_blur(x, blur_matrix(12), blur_matrix(9)).array
    np.testing.assert_allclose(sep, conv, rtol=1e-5, atol=1e-6)
