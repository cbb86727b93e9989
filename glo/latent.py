"""What GLO does with a trained generator: decode, sample, interpolate, fit unseen images.

Bojanowski et al., arXiv:1707.05776:

* §4.3 (sampling): "we fit a single full-covariance Gaussian to the latent vectors" of the
  training images and decode samples z ~ N(mu, Sigma) (here also put in the unit ball by
  the training projection, as g_theta has only seen codes there);
* §4.4 (interpolation): decode (1 - a) z_1 + a z_2 for a in [0, 1];
* §4.5 (arithmetic): decode sums and differences of codes, e.g. z_i - mean(z | y_i) +
  mean(z | c) to redraw image i as class c;
* held-out images (the seed's ||A g(z) - x|| reconstruction view): with theta fixed,
  min_z l(g_theta(z), x) by gradient steps on z alone, z kept in the unit ball.

All decoding uses the generator in test mode (batch-norm running statistics).
"""
import numpy

import chainer
from chainer import backend
import chainer.functions as F

from evaluation.inference import predict
from glo.net import LatentCodes, ProjectCodes, project


def decode(generator, z, batchsize=500):
    """g_theta(z) for codes ``z`` (N, d), in test mode, as a flat (N, C*H*W) array on the
    generator's device."""
    if len(z) == 0:
        return generator.xp.zeros((0, 0), generator.xp.float32)
    z = generator.xp.asarray(z, dtype=generator.xp.float32)
    return predict(lambda zb: F.reshape(generator(zb), (len(zb), -1)), z,
                   batchsize=batchsize, to_host=False)


def fit_gaussian(z):
    """Mean and full covariance of codes ``z`` (N, d) (float64, on the host)."""
    z = numpy.asarray(backend.CpuDevice().send(z), dtype=numpy.float64)
    return z.mean(axis=0), numpy.cov(z, rowvar=False)


def sample_codes(mean, cov, n, projection='ball', seed=0):
    """n codes z ~ N(mean, cov), projected like the training codes; float32 (n, d)."""
    z = numpy.random.RandomState(seed).multivariate_normal(mean, cov, size=n)
    return project(z, projection).astype(numpy.float32)


def interpolate(z_a, z_b, steps=10):
    """Codes on the segment (1 - a) z_a + a z_b, a = 0 .. 1: (len(z_a), steps, d)."""
    z_a = numpy.asarray(z_a, dtype=numpy.float32)[:, None, :]
    z_b = numpy.asarray(z_b, dtype=numpy.float32)[:, None, :]
    alpha = numpy.linspace(0.0, 1.0, steps, dtype=numpy.float32)[None, :, None]
    return (1.0 - alpha) * z_a + alpha * z_b


def class_means(z, labels, n_classes=10):
    """mean(z | y = c) for c = 0 .. n_classes - 1: (n_classes, d)."""
    z = numpy.asarray(z)
    return numpy.stack([z[labels == c].mean(axis=0) for c in range(n_classes)])


def infer_codes(generator, x, loss_func, z0, steps=30, lr=1.0, batchsize=500,
                projection='ball'):
    """Codes for images ``x`` (N, D) with the generator fixed: min_z l(g_theta(z), x).

    Plain SGD on z only, starting from ``z0`` (e.g. the code of the nearest training
    image), projected after every step. The loss is summed over the images of a chunk, so
    every code takes the step z_i <- P(z_i - lr * d l(g(z_i), x_i) / d z_i) whatever the
    chunk size (in training the same step has rate lr_z / batchsize = 10 / 128).
    Returns float32 codes (N, d) on the generator's device.
    """
    xp = generator.xp
    out = []
    for start in range(0, len(x), batchsize):
        xb = xp.asarray(x[start:start + batchsize], dtype=xp.float32)
        codes = LatentCodes(len(xb), z0.shape[1], backend.CpuDevice().send(
            z0[start:start + batchsize]), projection=projection)
        codes.to_device(backend.get_device_from_array(xb))
        optimizer = chainer.optimizers.SGD(lr=lr)
        optimizer.setup(codes)
        optimizer.add_hook(ProjectCodes())
        idx = xp.arange(len(xb), dtype=xp.int32)
        with chainer.using_config('train', False):
            for _ in range(steps):
                # sum_i l(g_theta(z_i), x_i), theta fixed
                loss = loss_func(generator(codes(idx)), xb) * len(xb)
                codes.cleargrads()
                generator.cleargrads()
                loss.backward()
                optimizer.update()                              # z <- P(z - lr * grad)
        out.append(codes.W.array)
    generator.cleargrads()
    return xp.concatenate(out)


__all__ = ['decode', 'fit_gaussian', 'sample_codes', 'interpolate', 'class_means',
           'infer_codes']


def pca_reconstructions(x_train, x_other, d, seed=0):
    """The linear baseline with the same code size: PCA with ``d`` components fitted on the
    training images; returns the reconstructions of ``x_train`` and of ``x_other`` (e.g.
    held-out images), each the projection onto the d-dimensional principal subspace plus
    the mean (the best rank-d affine reconstruction in squared error, Eckart-Young)."""
    from sklearn.decomposition import PCA
    x_train = numpy.asarray(x_train, dtype=numpy.float64).reshape(len(x_train), -1)
    x_other = numpy.asarray(x_other, dtype=numpy.float64).reshape(len(x_other), -1)
    pca = PCA(n_components=d, svd_solver='full', random_state=seed).fit(x_train)
    return tuple(pca.inverse_transform(pca.transform(x)).astype(numpy.float32)
                 for x in (x_train, x_other))
