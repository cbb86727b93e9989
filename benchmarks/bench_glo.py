"""GLO training step (Bojanowski et al. 2017), images per second.

``glo``: ``glo_mnist.py``'s model: DCGAN generator 100 -> 7x7x64 -> 14x14x32 -> 28x28x1
(sigmoid), one free code z_i in R^100 per training image (60,000 codes, as on MNIST), the
Lap1 loss (3-level Laplacian pyramid of 5x5 Gaussian blurs), batch 128, SGD lr 1 on the
generator and lr 10 on the codes, codes projected onto the unit ball after every step.

ours: ``glo.updater.GLOUpdater`` with ``glo.net.LatentCodes``/``ProjectCodes`` and
``glo.loss.lap1`` (its blurs as two small GEMMs, B_H x B_W^T); plain Chainer: the codes as an
``L.EmbedID``, the same pyramid from stock ``F.convolution_2d``, projection of the code matrix after each step; PyTorch: the same with
``nn.Embedding`` and ``conv2d``.
"""
import chainer_compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np
from chainer.training import StandardUpdater

from benchmarks import data, flops
from fused_updates import fuse_updater   # what expkit does when it trains
from benchmarks.bench_gan import PlainDCGANG
from benchmarks.harness import Benchmark

B, D, CH, N_CODES, LEVELS = 128, 100, 64, 60000, 3


class _Indexed(chainer.dataset.DatasetMixin):
    """(image, index) for ``N_CODES`` indices, the images repeating a small pool."""

    def __init__(self, tiny):
        self.images, self.n = data.images(data.dataset_size(tiny)), 500 if tiny else N_CODES

    def __len__(self):
        return self.n

    def get_example(self, i):
        return self.images[i % len(self.images)], np.int32(i)


def _kernel():
    from glo.loss import gaussian_kernel
    return gaussian_kernel(5, 1.0)


# ------------------------------------------------------------------------ ours
def ours_glo(tiny=False):
    from gan.dcgan import Generator
    from glo.loss import make_loss
    from glo.net import LatentCodes, ProjectCodes
    from glo.updater import GLOUpdater
    dataset = _Indexed(tiny)
    gen = Generator(n_hidden=D, out_size=28, out_ch=1, ch=CH, out_activation='sigmoid')
    codes = LatentCodes(len(dataset), D, np.random.randn(len(dataset), D) * 0.1)
    opts = {'m/gen': chainer.optimizers.SGD(lr=1.0), 'm/codes': chainer.optimizers.SGD(lr=10.0)}
    opts['m/gen'].setup(gen)
    opts['m/codes'].setup(codes)
    opts['m/codes'].add_hook(ProjectCodes())
    it = chainer.iterators.SerialIterator(dataset, B)
    return fuse_updater(GLOUpdater(it, {'m': (gen, codes)}, {'m': make_loss('lap1')},
                                   opts)).update


def ours_glo_full_projection(tiny=False):
    """Ours projecting all 60,000 codes after every step (before the read-rows projection)."""
    import glo.net
    glo.net.ProjectCodes.__call__ = lambda self, opt: opt.target.project()   # this worker only
    return ours_glo(tiny)


def ours_glo_conv_blur(tiny=False):
    """Ours with the pyramid's blur as chainer's im2col convolution (before the separable one)."""
    import glo.loss
    from benchmarks import legacy
    glo.loss.laplacian_pyramid = legacy.laplacian_pyramid             # this worker only
    return ours_glo(tiny)


# ------------------------------------------------------------------------ plain Chainer
def plain_lap1(x, t, kernel):
    """Lap1 (mean per level, as glo.loss's default) from stock functions."""
    d = x - F.reshape(t, x.shape)
    loss = 0
    for level in range(LEVELS + 1):
        if level == LEVELS:
            band = d
        else:
            low = F.convolution_2d(d, kernel, pad=2)
            band, d = d - low, low[:, :, ::2, ::2]
        loss += F.sum(F.absolute(band)) / band.size
    return loss


class PlainGLOUpdater(StandardUpdater):
    def update_core(self):
        x, idx = self.converter(self.get_iterator('main').next())
        gen, codes = self.get_optimizer('gen').target, self.get_optimizer('codes').target
        loss = plain_lap1(gen(codes(idx)), x, self.kernel)
        gen.cleargrads()
        codes.cleargrads()
        loss.backward()
        self.get_optimizer('gen').update()
        self.get_optimizer('codes').update()
        w = codes.W.array
        w /= np.maximum(np.sqrt((w * w).sum(axis=1, keepdims=True)), 1)


def chainer_glo(tiny=False):
    dataset = _Indexed(tiny)
    gen, codes = PlainDCGANG(), L.EmbedID(len(dataset), D)
    opts = {'gen': chainer.optimizers.SGD(lr=1.0), 'codes': chainer.optimizers.SGD(lr=10.0)}
    opts['gen'].setup(gen)
    opts['codes'].setup(codes)
    updater = PlainGLOUpdater(chainer.iterators.SerialIterator(dataset, B), opts)
    updater.kernel = _kernel()
    return updater.update


# ------------------------------------------------------------------------ PyTorch
def torch_glo(tiny=False):
    import torch
    from torch import nn
    import torch.nn.functional as TF

    class Reshape(nn.Module):
        def forward(self, h):
            return h.view(len(h), CH, 7, 7)

    dataset = _Indexed(tiny)
    gen = nn.Sequential(nn.Linear(D, 7 * 7 * CH), nn.BatchNorm1d(7 * 7 * CH), nn.ReLU(),
                        Reshape(), nn.ConvTranspose2d(CH, CH // 2, 4, 2, 1),
                        nn.BatchNorm2d(CH // 2), nn.ReLU(), nn.ConvTranspose2d(CH // 2, 1, 4, 2, 1),
                        nn.Sigmoid())
    codes = nn.Embedding(len(dataset), D)
    o_gen, o_codes = torch.optim.SGD(gen.parameters(), 1.0), torch.optim.SGD(codes.parameters(), 10.0)
    kernel = torch.from_numpy(_kernel())
    images = torch.from_numpy(dataset.images)
    order = data.TorchBatches(B, np.arange(len(dataset)))

    def lap1(x, t):
        d, loss = x - t.view_as(x), 0
        for level in range(LEVELS + 1):
            if level == LEVELS:
                band = d
            else:
                low = TF.conv2d(d, kernel, padding=2)
                band, d = d - low, low[:, :, ::2, ::2]
            loss = loss + band.abs().mean()
        return loss

    def step():
        idx = order.next()
        loss = lap1(gen(codes(idx)), images[idx % len(images)])
        o_gen.zero_grad()
        o_codes.zero_grad()
        loss.backward()
        o_gen.step()
        o_codes.step()
        with torch.no_grad():
            w = codes.weight
            w /= w.norm(dim=1, keepdim=True).clamp(min=1)
    return step


# ------------------------------------------------------------------------ spec
_G = (flops.mlp(B, [D, 7 * 7 * CH]) + flops.deconv(B, CH, CH // 2, 4, 7, 7)
      + flops.deconv(B, CH // 2, 1, 4, 14, 14))
_BLUR = [s for side in (28, 14, 7) for s in flops.conv(B, 1, 1, 5, side, side)]

BENCHMARKS = [
    Benchmark('glo', 'GLO, DCGAN generator (ch 64), 60k codes, Lap1, batch 128', __name__, B,
              passes=[(3, _G), (2, _BLUR)],     # the pyramid: forward and dX only
              steps=10,
              impls={'ours': 'ours_glo', 'chainer': 'chainer_glo', 'torch': 'torch_glo',
                     'before:project': 'ours_glo_full_projection',
                     'before:lap1': 'ours_glo_conv_blur'}),
]
