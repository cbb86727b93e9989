"""VAE training steps (Kingma & Welling 2013; Kingma et al. 2014; Burda et al. 2016), images/s.

``m1``: M1 784-500-500-20, tanh (``vae_mnist.py``'s default recipe), Bernoulli decoder,
batch 100, Adam(1e-3), a fresh Bernoulli draw of every batch (dynamic binarisation).

``m1_iwae``: ``vae_mnist.py --recipe iwae``: 784-200-200-50 tanh, batch 20, IWAE's Adam (second
moments started at one). Small GEMMs: per-step overhead dominates.

``m2``: semi-supervised M2 (nips14-ssl): q(z|x,y), p(x|y,z), q(y|x) with one softplus layer of
500, latent 50, 100 unlabelled + 100 labelled images per step, Adam(3e-4) with weight decay
on the weights; the unlabelled bound sums L(x, y) over the 10 classes (Kingma 2014 Eq. 7).
Ours runs the 10 classes as one batched pass of 1,000 rows sharing the first layer's
W_x x; plain Chainer writes the sum as a loop of 10 calls with a one-hot input concatenated
to x (the usual way); PyTorch is batched like ours.

ours: ``vae.updater.VAEUpdater`` / ``M2Updater`` with ``vae.net``; plain Chainer: chainer's
``examples/vae`` style (``L.Linear``, ``F.bernoulli_nll``, ``F.gaussian_kl_divergence``,
``StandardUpdater`` with a loss function); PyTorch: ``nn.Linear``,
``binary_cross_entropy_with_logits`` and ``torch.optim.Adam``.
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

M1 = dict(hidden=(500, 500), latent=20, batch=100)
IWAE = dict(hidden=(200, 200), latent=50, batch=20)
M2_HIDDEN, M2_LATENT, M2_BATCH, K = 500, 50, 100, 10


def _binarize(batch, device=None):
    x = chainer.dataset.concat_examples(batch, device)
    if isinstance(x, tuple):
        return (np.random.random_sample(x[0].shape) < x[0]).astype('f'), x[1]
    return (np.random.random_sample(x.shape) < x).astype('f')


# ------------------------------------------------------------------------ ours
def _ours_m1(cfg, tiny, adam):
    from datasets.binarize import DynamicBinarizeConverter
    from vae.net import VAE
    from vae.updater import VAEUpdater
    vae = VAE(784, cfg['latent'], cfg['hidden'], 'tanh')
    opt = adam()
    opt.setup(vae)
    it = chainer.iterators.SerialIterator(data.images(data.dataset_size(tiny)), cfg['batch'])
    return fuse_updater(VAEUpdater(it, opt, converter=DynamicBinarizeConverter())).update


def ours_m1(tiny=False):
    return _ours_m1(M1, tiny, lambda: chainer.optimizers.Adam(1e-3))


def ours_m1_unfused(tiny=False):
    """Ours with chainer's own Adam rule (before ``fused_updates``)."""
    from benchmarks import legacy
    return legacy.unfuse(ours_m1(tiny).__self__).update


def ours_iwae(tiny=False):
    from vae.optim import IWAEAdam
    return _ours_m1(IWAE, tiny, IWAEAdam)


def ours_iwae_more_nodes(tiny=False):
    """Ours with the reshape nodes and chainer's seven-node KL (before the node cuts)."""
    from benchmarks import legacy
    legacy.more_vae_nodes()                                          # this worker only
    return ours_iwae(tiny)


def ours_m2(tiny=False):
    from datasets.binarize import DynamicBinarizeConverter
    from vae.net import M2
    from vae.updater import M2Updater, add_weight_decay
    n = data.dataset_size(tiny)
    model = M2(784, M2_LATENT, (M2_HIDDEN,), K)
    opt = chainer.optimizers.Adam(alpha=3e-4)
    opt.setup(model)
    add_weight_decay(model, 1.0 / n)
    its = {'main': chainer.iterators.SerialIterator(data.images(n), M2_BATCH),
           'labelled': chainer.iterators.SerialIterator(
               chainer.datasets.TupleDataset(data.images(n), data.labels(n)), M2_BATCH)}
    return fuse_updater(M2Updater(its, opt, 100, n - 100, converter=DynamicBinarizeConverter(),
                                  labelled_converter=DynamicBinarizeConverter())).update


# ------------------------------------------------------------------------ plain Chainer
class PlainVAE(chainer.Chain):
    """chainer examples/vae's net with two hidden layers: a loss function as forward."""

    def __init__(self, hidden, latent):
        super().__init__()
        h1, h2 = hidden
        with self.init_scope():
            self.le1, self.le2 = L.Linear(784, h1), L.Linear(h1, h2)
            self.le_mu, self.le_ln_var = L.Linear(h2, latent), L.Linear(h2, latent)
            self.ld1, self.ld2, self.ld3 = L.Linear(latent, h2), L.Linear(h2, h1), L.Linear(h1, 784)

    def forward(self, x):
        h = F.tanh(self.le2(F.tanh(self.le1(x))))
        mu, ln_var = self.le_mu(h), self.le_ln_var(h)
        logits = self.ld3(F.tanh(self.ld2(F.tanh(self.ld1(F.gaussian(mu, ln_var))))))
        b = len(x)
        return F.bernoulli_nll(x, logits) / b + F.gaussian_kl_divergence(mu, ln_var) / b


def _plain_m1(cfg, tiny, opt):
    model = PlainVAE(cfg['hidden'], cfg['latent'])
    opt.setup(model)
    it = chainer.iterators.SerialIterator(data.images(data.dataset_size(tiny)), cfg['batch'])
    return StandardUpdater(it, opt, converter=_binarize, loss_func=model).update


def chainer_m1(tiny=False):
    return _plain_m1(M1, tiny, chainer.optimizers.Adam(1e-3))


def chainer_iwae(tiny=False):
    return _plain_m1(IWAE, tiny, chainer.optimizers.Adam(1e-3, beta1=0.99, eps=1e-4))


class PlainM2(chainer.Chain):
    """M2 with the label as a one-hot concatenated to the input of q(z|x,y) and p(x|y,z)."""

    def __init__(self):
        super().__init__()
        h, z = M2_HIDDEN, M2_LATENT
        with self.init_scope():
            self.qz_h, self.qz_mu, self.qz_ln_var = L.Linear(784 + K, h), L.Linear(h, z), \
                L.Linear(h, z)
            self.px_h, self.px_out = L.Linear(z + K, h), L.Linear(h, 784)
            self.qy_h, self.qy_out = L.Linear(784, h), L.Linear(h, K)

    def bound(self, x, y_onehot):
        """L(x, y) per example: log p(x|y,z) + log p(y) - KL(q(z|x,y) || p(z))."""
        h = F.softplus(self.qz_h(F.concat((x, y_onehot))))
        mu, ln_var = self.qz_mu(h), self.qz_ln_var(h)
        z = F.gaussian(mu, ln_var)
        logits = self.px_out(F.softplus(self.px_h(F.concat((z, y_onehot)))))
        log_px = -F.sum(F.bernoulli_nll(x, logits, reduce='no'), axis=1)
        kl = F.sum(F.gaussian_kl_divergence(mu, ln_var, reduce='no'), axis=1)
        return log_px - np.log(K) - kl

    def classify(self, x):
        return self.qy_out(F.softplus(self.qy_h(x)))

    def loss(self, x_l, y_l, x_u, n_l, n_u, alpha=0.1):
        eye = np.eye(K, dtype='f')
        beta = alpha * (n_l + n_u) / n_l
        bound_l = self.bound(x_l, eye[y_l])
        log_qy_l = -F.softmax_cross_entropy(self.classify(x_l), y_l, reduce='no')
        log_qy = F.log_softmax(self.classify(x_u))
        qy = F.exp(log_qy)
        bound_u = 0
        for y in range(K):                       # sum over the classes, one call each
            onehot = np.broadcast_to(eye[y], (len(x_u), K))
            bound_u += qy[:, y] * (self.bound(x_u, onehot) - log_qy[:, y])
        labelled = F.sum(bound_l + beta * log_qy_l) * (n_l / len(x_l))
        return -(labelled + F.sum(bound_u) * (n_u / len(x_u))) / (n_l + n_u)


class PlainM2Updater(StandardUpdater):
    def update_core(self):
        opt = self.get_optimizer('main')
        x_u = self.converter(self.get_iterator('main').next())
        x_l, y_l = self.converter(self.get_iterator('labelled').next())
        opt.update(opt.target.loss, x_l, y_l, x_u, self.n_l, self.n_u)


def chainer_m2(tiny=False):
    n = data.dataset_size(tiny)
    model = PlainM2()
    opt = chainer.optimizers.Adam(alpha=3e-4)
    opt.setup(model)
    for name, p in model.namedparams():
        if name.endswith('/W'):
            p.update_rule.add_hook(chainer.optimizer_hooks.WeightDecay(1.0 / n))
    its = {'main': chainer.iterators.SerialIterator(data.images(n), M2_BATCH),
           'labelled': chainer.iterators.SerialIterator(
               chainer.datasets.TupleDataset(data.images(n), data.labels(n)), M2_BATCH)}
    updater = PlainM2Updater(its, opt, converter=_binarize)
    updater.n_l, updater.n_u = 100, n - 100
    return updater.update


# ------------------------------------------------------------------------ PyTorch
def _torch_kl(mu, ln_var):
    return 0.5 * (mu * mu + ln_var.exp() - ln_var - 1).sum(-1)


def _torch_m1(cfg, tiny, make_opt):
    import torch
    from torch import nn
    import torch.nn.functional as TF
    h1, h2 = cfg['hidden']
    enc = nn.Sequential(nn.Linear(784, h1), nn.Tanh(), nn.Linear(h1, h2), nn.Tanh(),
                        nn.Linear(h2, 2 * cfg['latent']))
    dec = nn.Sequential(nn.Linear(cfg['latent'], h2), nn.Tanh(), nn.Linear(h2, h1), nn.Tanh(),
                        nn.Linear(h1, 784))
    opt = make_opt(list(enc.parameters()) + list(dec.parameters()))
    batches = data.TorchBatches(cfg['batch'], data.images(data.dataset_size(tiny)))

    def step():
        x = torch.bernoulli(batches.next())
        mu, ln_var = enc(x).chunk(2, dim=1)
        z = mu + (0.5 * ln_var).exp() * torch.randn_like(mu)
        rec = TF.binary_cross_entropy_with_logits(dec(z), x, reduction='sum')
        loss = (rec + _torch_kl(mu, ln_var).sum()) / len(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def torch_m1(tiny=False):
    import torch
    return _torch_m1(M1, tiny, lambda p: torch.optim.Adam(p, 1e-3))


def torch_iwae(tiny=False):
    import torch
    return _torch_m1(IWAE, tiny, lambda p: torch.optim.Adam(p, 1e-3, betas=(0.99, 0.999),
                                                            eps=1e-4))


def torch_m2(tiny=False):
    import math
    import torch
    from torch import nn
    import torch.nn.functional as TF
    n, h, zd = data.dataset_size(tiny), M2_HIDDEN, M2_LATENT
    qz_h, qz_out = nn.Linear(784, h), nn.Linear(h, 2 * zd)
    qz_y, px_y = nn.Embedding(K, h), nn.Embedding(K, h)       # W_y onehot(y)
    px_h, px_out = nn.Linear(zd, h), nn.Linear(h, 784)
    qy = nn.Sequential(nn.Linear(784, h), nn.Softplus(), nn.Linear(h, K))
    mods = [qz_h, qz_out, qz_y, px_y, px_h, px_out, qy]
    weights = [p for m in mods for name, p in m.named_parameters() if name.endswith('weight')]
    biases = [p for m in mods for name, p in m.named_parameters() if name.endswith('bias')]
    opt = torch.optim.Adam([{'params': weights, 'weight_decay': 1.0 / n},
                            {'params': biases}], lr=3e-4)
    unlabelled = data.TorchBatches(M2_BATCH, data.images(n))
    labelled = data.TorchBatches(M2_BATCH, data.images(n), data.labels(n).astype(np.int64))
    n_l, n_u, beta = 100, n - 100, 0.1 * n / 100

    def bound(a, x, y):
        """L(x, y) from the first layer's W_x x + b, ``a`` (..., h); y broadcasts."""
        mu, ln_var = qz_out(TF.softplus(a + qz_y(y))).chunk(2, dim=-1)
        z = mu + (0.5 * ln_var).exp() * torch.randn_like(mu)
        logits = px_out(TF.softplus(px_h(z) + px_y(y)))
        log_px = -TF.binary_cross_entropy_with_logits(
            logits, x.expand_as(logits), reduction='none').sum(-1)
        return log_px - math.log(K) - _torch_kl(mu, ln_var)

    ys = torch.arange(K).view(K, 1)

    def step():
        x_u = torch.bernoulli(unlabelled.next())
        x_l, y_l = labelled.next()
        x_l = torch.bernoulli(x_l)
        bound_l = bound(qz_h(x_l), x_l, y_l)
        log_qy_l = -TF.cross_entropy(qy(x_l), y_l, reduction='none')
        log_qy = TF.log_softmax(qy(x_u), dim=1)
        bound_u = bound(qz_h(x_u).expand(K, -1, -1), x_u, ys).t()     # (B, K), batched
        u = (log_qy.exp() * (bound_u - log_qy)).sum(1)
        labelled_sum = (bound_l + beta * log_qy_l).sum() * (n_l / len(x_l))
        loss = -(labelled_sum + u.sum() * (n_u / len(x_u))) / (n_l + n_u)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


# ------------------------------------------------------------------------ specs
def _m1_passes(cfg):
    b, (h1, h2), z = cfg['batch'], cfg['hidden'], cfg['latent']
    enc = flops.mlp(b, [784, h1, h2]) + flops.mlp(b, [h2, z]) * 2      # mu and ln_var
    return [(3, enc + flops.mlp(b, [z, h2, h1, 784]))]


_B, _H, _Z = M2_BATCH, M2_HIDDEN, M2_LATENT
_M2_PASSES = [(3, flops.mlp(_B, [784, _H]) + flops.mlp(_B, [_H, _Z]) * 2     # q(z|x,y) labelled
               + flops.mlp(_B, [_Z, _H, 784])                               # p(x|y,z) labelled
               + flops.mlp(_B, [784, _H, K]) * 2                            # q(y|x), l and u
               + flops.mlp(_B, [784, _H])                                   # W_x x, unlabelled
               + flops.mlp(K * _B, [_H, _Z]) * 2                            # mu, ln_var x K
               + flops.mlp(K * _B, [_Z, _H, 784]))]                         # p(x|y,z) x K

BENCHMARKS = [
    Benchmark('m1', 'M1 784-500-500-20 tanh, batch 100, Adam', __name__, M1['batch'],
              passes=_m1_passes(M1), steps=40,
              impls={'ours': 'ours_m1', 'chainer': 'chainer_m1', 'torch': 'torch_m1',
                     'before:openblas': ('ours_m1', {'OPENBLAS_CORETYPE': 'Prescott'}),
                     'before:fused': 'ours_m1_unfused'}),
    Benchmark('m1_iwae', 'M1, IWAE recipe 784-200-200-50 tanh, batch 20', __name__,
              IWAE['batch'], passes=_m1_passes(IWAE), steps=150,
              impls={'ours': 'ours_iwae', 'chainer': 'chainer_iwae', 'torch': 'torch_iwae',
                     'before:nodes': 'ours_iwae_more_nodes'}),
    Benchmark('m2', 'M2 (500 softplus, z 50), 100 + 100 labelled, sum over 10 classes',
              __name__, 2 * M2_BATCH, passes=_M2_PASSES, steps=6,
              impls={'ours': 'ours_m2', 'chainer': 'chainer_m2', 'torch': 'torch_m2'},
              note='plain Chainer loops over the 10 classes (10 calls, x W_x recomputed each '
                   'time); ours and PyTorch run them as one batch of 1,000 rows'),
]
