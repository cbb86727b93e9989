"""GAN training steps (Goodfellow et al. 2014; Radford et al. 2015), real images per second.

``gan``: Goodfellow's MNIST GAN (goodfeli/adversarial ``mnist.yaml``): G 100-1200-1200-784
(ReLU, sigmoid), D maxout 784-240x5-240x5-1 with dropout 0.8/0.5, batch 100, SGD lr 0.1
momentum 0.5. The step is ``AdversaryCost2``'s: one forward pass (G on the noise, D on data
and on samples), D's and G's gradients both taken at the current parameters, then both
step.

``dcgan``: DCGAN on 28x28 MNIST (``dcgan_mnist.py``): G 100 -> 7x7x64 -> deconv 32 (14x14) ->
deconv 1 (28x28), D conv 32 (14x14) -> conv 64 (7x7) -> linear 1, batch norm, batch 64,
Adam(2e-4, beta1 0.5). Algorithm 1 with k = 1: D on data and on G(z) (no graph through G),
then G on fresh noise through D.

ours: ``gan.updater.SimultaneousGANUpdater`` / ``GANUpdater`` with ``gan.net`` /
``gan.dcgan``; plain Chainer: the same layers, stock ``F.sigmoid_cross_entropy`` /
``F.softplus`` losses; for DCGAN, chainer's ``examples/dcgan`` updater itself (one shared
forward pass, then ``dis_optimizer.update(loss_dis, ...)`` and ``gen_optimizer.update(loss_gen,
...)``); PyTorch: the same step as ours.
"""
import chainer_compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np
from chainer.training import StandardUpdater

from benchmarks import data, flops
from fused_updates import fuse_updater   # what expkit does when it trains
from benchmarks.harness import Benchmark

GB, DB, CH = 100, 64, 64          # Goodfellow batch, DCGAN batch, DCGAN channels


# ------------------------------------------------------------------------ ours
def _optimizers(gen, dis, make):
    opts = {}
    for key, link in (('gen', gen), ('dis', dis)):
        opts[key] = make()
        opts[key].setup(link)
    return opts


def ours_goodfellow(tiny=False):
    from gan.net import GoodfellowDiscriminator, GoodfellowGenerator
    from gan.updater import SimultaneousGANUpdater
    gen, dis = GoodfellowGenerator(), GoodfellowDiscriminator()
    opts = _optimizers(gen, dis, lambda: chainer.optimizers.MomentumSGD(0.1, 0.5))
    it = chainer.iterators.SerialIterator(data.images(data.dataset_size(tiny)), GB)
    return fuse_updater(SimultaneousGANUpdater(it, opts)).update


def _images_4d(tiny):
    return data.images(data.dataset_size(tiny)).reshape(-1, 1, 28, 28)


def ours_dcgan(tiny=False):
    from gan import dcgan
    from gan.updater import GANUpdater
    gen = dcgan.Generator(n_hidden=100, out_size=28, out_ch=1, ch=CH)
    dis = dcgan.Discriminator(in_size=28, in_ch=1, ch=CH)
    opts = _optimizers(gen, dis, lambda: chainer.optimizers.Adam(2e-4, beta1=0.5))
    it = chainer.iterators.SerialIterator(_images_4d(tiny), DB)
    return fuse_updater(GANUpdater(it, opts, n_dis=1, dis_loss_scale=1.0)).update


def ours_dcgan_chainer_leaky_relu(tiny=False):
    """Ours with chainer's ``F.leaky_relu`` (before ``gan.functions.leaky_relu``)."""
    from gan import dcgan
    dcgan.leaky_relu = F.leaky_relu                                   # this worker only
    return ours_dcgan(tiny)


# ------------------------------------------------------------------------ plain Chainer
class PlainGoodfellowG(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.l0, self.l1, self.l2 = L.Linear(100, 1200), L.Linear(1200, 1200), \
                L.Linear(1200, 784)

    def forward(self, z):
        return F.sigmoid(self.l2(F.relu(self.l1(F.relu(self.l0(z))))))


class PlainGoodfellowD(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.m0, self.m1 = L.Maxout(784, 240, 5), L.Maxout(240, 240, 5)
            self.out = L.Linear(240, 1)

    def forward(self, x):
        h = self.m0(F.dropout(x, 0.2))
        h = self.m1(F.dropout(h, 0.5))
        return self.out(F.dropout(h, 0.5))


class PlainSimultaneousUpdater(StandardUpdater):
    def update_core(self):
        gen, dis = self.get_optimizer('gen').target, self.get_optimizer('dis').target
        x = self.converter(self.get_iterator('main').next())
        z = np.random.uniform(-np.sqrt(3), np.sqrt(3), (len(x), 100)).astype('f')
        y_real, y_fake = dis(x), dis(gen(z))
        ones, zeros = np.ones_like(y_real.array, 'i'), np.zeros_like(y_real.array, 'i')
        loss_d = 0.5 * (F.sigmoid_cross_entropy(y_real, ones)
                        + F.sigmoid_cross_entropy(y_fake, zeros))
        loss_g = F.sigmoid_cross_entropy(y_fake, ones)
        d_params, g_params = list(dis.params()), list(gen.params())
        grads = chainer.grad([loss_d], d_params) + chainer.grad([loss_g], g_params)
        for p, g in zip(d_params + g_params, grads):
            p.grad = g.array
        self.get_optimizer('dis').update()
        self.get_optimizer('gen').update()


def chainer_goodfellow(tiny=False):
    gen, dis = PlainGoodfellowG(), PlainGoodfellowD()
    opts = _optimizers(gen, dis, lambda: chainer.optimizers.MomentumSGD(0.1, 0.5))
    it = chainer.iterators.SerialIterator(data.images(data.dataset_size(tiny)), GB)
    return PlainSimultaneousUpdater(it, opts).update


class PlainDCGANG(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.l0 = L.Linear(100, 7 * 7 * CH)
            self.dc1 = L.Deconvolution2D(CH, CH // 2, 4, 2, 1)
            self.dc2 = L.Deconvolution2D(CH // 2, 1, 4, 2, 1)
            self.bn0, self.bn1 = L.BatchNormalization(7 * 7 * CH), L.BatchNormalization(CH // 2)

    def make_hidden(self, n):
        return np.random.uniform(-1, 1, (n, 100)).astype('f')

    def forward(self, z):
        h = F.reshape(F.relu(self.bn0(self.l0(z))), (len(z), CH, 7, 7))
        return F.sigmoid(self.dc2(F.relu(self.bn1(self.dc1(h)))))


class PlainDCGAND(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.c0 = L.Convolution2D(1, CH // 2, 4, 2, 1)
            self.c1 = L.Convolution2D(CH // 2, CH, 4, 2, 1)
            self.bn1 = L.BatchNormalization(CH)
            self.l4 = L.Linear(7 * 7 * CH, 1)

    def forward(self, x):
        h = F.leaky_relu(self.c0(x))
        return self.l4(F.leaky_relu(self.bn1(self.c1(h))))


class ExamplesDCGANUpdater(StandardUpdater):
    """chainer/examples/dcgan/updater.py (DCGANUpdater), unchanged but for the names."""

    def __init__(self, *args, **kwargs):
        self.gen, self.dis = kwargs.pop('models')
        super().__init__(*args, **kwargs)

    def loss_dis(self, dis, y_fake, y_real):
        batchsize = len(y_fake)
        L1 = F.sum(F.softplus(-y_real)) / batchsize
        L2 = F.sum(F.softplus(y_fake)) / batchsize
        return L1 + L2

    def loss_gen(self, gen, y_fake):
        return F.sum(F.softplus(-y_fake)) / len(y_fake)

    def update_core(self):
        gen_optimizer, dis_optimizer = self.get_optimizer('gen'), self.get_optimizer('dis')
        batch = self.get_iterator('main').next()
        x_real = chainer.Variable(self.converter(batch, self.device))
        gen, dis = self.gen, self.dis
        y_real = dis(x_real)
        z = chainer.Variable(gen.make_hidden(len(batch)))
        x_fake = gen(z)
        y_fake = dis(x_fake)
        dis_optimizer.update(self.loss_dis, dis, y_fake, y_real)
        gen_optimizer.update(self.loss_gen, gen, y_fake)


def chainer_dcgan(tiny=False):
    gen, dis = PlainDCGANG(), PlainDCGAND()
    opts = _optimizers(gen, dis, lambda: chainer.optimizers.Adam(2e-4, beta1=0.5))
    it = chainer.iterators.SerialIterator(_images_4d(tiny), DB)
    return ExamplesDCGANUpdater(it, opts, models=(gen, dis)).update


# ------------------------------------------------------------------------ PyTorch
def torch_goodfellow(tiny=False):
    import torch
    from torch import nn
    import torch.nn.functional as TF

    class Maxout(nn.Module):
        def __init__(self, n_in, n_out, pieces):
            super().__init__()
            self.lin, self.shape = nn.Linear(n_in, n_out * pieces), (n_out, pieces)

        def forward(self, x):
            return self.lin(x).view(len(x), *self.shape).max(-1)[0]

    gen = nn.Sequential(nn.Linear(100, 1200), nn.ReLU(), nn.Linear(1200, 1200), nn.ReLU(),
                        nn.Linear(1200, 784), nn.Sigmoid())
    dis = nn.Sequential(nn.Dropout(0.2), Maxout(784, 240, 5), nn.Dropout(0.5),
                        Maxout(240, 240, 5), nn.Dropout(0.5), nn.Linear(240, 1))
    g_params, d_params = list(gen.parameters()), list(dis.parameters())
    opt = torch.optim.SGD(g_params + d_params, lr=0.1, momentum=0.5)
    batches = data.TorchBatches(GB, data.images(data.dataset_size(tiny)))

    def step():
        x = batches.next()
        z = (torch.rand(len(x), 100) * 2 - 1) * 3 ** 0.5
        y_real, y_fake = dis(x), dis(gen(z))
        loss_d = 0.5 * (TF.softplus(-y_real).mean() + TF.softplus(y_fake).mean())
        loss_g = TF.softplus(-y_fake).mean()
        grads = torch.autograd.grad(loss_d, d_params, retain_graph=True) + \
            torch.autograd.grad(loss_g, g_params)
        for p, g in zip(d_params + g_params, grads):
            p.grad = g
        opt.step()
    return step


def torch_dcgan(tiny=False):
    import torch
    from torch import nn
    import torch.nn.functional as TF

    class Reshape(nn.Module):
        def forward(self, h):
            return h.view(len(h), CH, 7, 7)

    gen = nn.Sequential(nn.Linear(100, 7 * 7 * CH), nn.BatchNorm1d(7 * 7 * CH), nn.ReLU(),
                        Reshape(), nn.ConvTranspose2d(CH, CH // 2, 4, 2, 1),
                        nn.BatchNorm2d(CH // 2), nn.ReLU(), nn.ConvTranspose2d(CH // 2, 1, 4, 2, 1),
                        nn.Sigmoid())
    dis = nn.Sequential(nn.Conv2d(1, CH // 2, 4, 2, 1), nn.LeakyReLU(0.2),
                        nn.Conv2d(CH // 2, CH, 4, 2, 1), nn.BatchNorm2d(CH), nn.LeakyReLU(0.2),
                        nn.Flatten(), nn.Linear(7 * 7 * CH, 1))
    o_gen = torch.optim.Adam(gen.parameters(), 2e-4, betas=(0.5, 0.999))
    o_dis = torch.optim.Adam(dis.parameters(), 2e-4, betas=(0.5, 0.999))
    batches = data.TorchBatches(DB, _images_4d(tiny))

    def step():
        x = batches.next()
        with torch.no_grad():
            x_fake = gen(torch.rand(len(x), 100) * 2 - 1)
        loss = TF.softplus(-dis(x)).mean() + TF.softplus(dis(x_fake)).mean()
        o_dis.zero_grad()
        loss.backward()
        o_dis.step()
        loss = TF.softplus(-dis(gen(torch.rand(len(x), 100) * 2 - 1))).mean()
        o_gen.zero_grad()
        loss.backward()
        o_gen.step()
    return step


# ------------------------------------------------------------------------ specs
_G = flops.mlp(GB, [100, 1200, 1200, 784])
_D = flops.mlp(GB, [784, 1200]) + flops.mlp(GB, [240, 1200]) + flops.mlp(GB, [240, 1])
_DCG = (flops.mlp(DB, [100, 7 * 7 * CH]) + flops.deconv(DB, CH, CH // 2, 4, 7, 7)
        + flops.deconv(DB, CH // 2, 1, 4, 14, 14))
_DCD = (flops.conv(DB, 1, CH // 2, 4, 14, 14) + flops.conv(DB, CH // 2, CH, 4, 7, 7)
        + flops.mlp(DB, [7 * 7 * CH, 1]))

BENCHMARKS = [
    Benchmark('gan', "Goodfellow's GAN (maxout D, dropout), batch 100, simultaneous step",
              __name__, GB,
              passes=[(3, _G), (3, _D), (3, _D),     # G; D on data and on G(z)
                      (1, _D)],                      # g_obj's second backward through D
              steps=20,
              impls={'ours': 'ours_goodfellow', 'chainer': 'chainer_goodfellow',
                     'torch': 'torch_goodfellow'}),
    Benchmark('dcgan', 'DCGAN 28x28 (ch 64), batch 64, Adam, k = 1', __name__, DB,
              passes=[(1, _DCG), (3, _DCD), (3, _DCD),   # D step: G(z) without graph
                      (3, _DCG), (2, _DCD)],              # G step: through D, no D weight grads
              steps=10,
              impls={'ours': 'ours_dcgan', 'chainer': 'chainer_dcgan', 'torch': 'torch_dcgan',
                     'before:leaky': 'ours_dcgan_chainer_leaky_relu'},
              note="plain Chainer is chainer's examples/dcgan updater: one forward pass of "
                   'G shared by both updates (no second G forward), so about 10 % fewer FLOPs'),
]
