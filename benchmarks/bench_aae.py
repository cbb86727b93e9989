"""Adversarial autoencoder training steps (Makhzani et al. 2015), images per second.

``aae``: the unsupervised AAE of Sec. 2 / Fig. 2: encoder 784-1000-1000-2 (ReLU, linear
code), decoder 2-1000-1000-784 (sigmoid), two-unit softmax discriminator 2-1000-1000-2,
Gaussian prior, batch 100, SGD with momentum (0.01/0.9 reconstruction, 0.1/0.1
regularisation, the encoder has one optimiser per phase). One step = three phases:
reconstruction (enc+dec forward/backward), discriminator (enc forward; D on 100 prior
samples and 100 codes, forward/backward), generator (enc+D forward/backward).

``aae_semi``: the semi-supervised AAE of Sec. 5 / Fig. 8: encoder 784-1000-1000-(10+10)
(q(y|x) logits and a 10-D style z), decoder (10+10)-1000-1000-784, D_y and D_z 10-1000-1000-2
with N(0, 0.3^2) input noise, batch 100 unlabelled + 100 labelled; four phases
(reconstruction, both discriminators, generator against both, supervised cross-entropy).

ours: ``aae.updater.AAEUpdater`` / ``CategoricalAAEUpdater`` with ``aae.net`` and
``aae.optim.make_optimizers``; plain Chainer: the same layers written with ``L.Linear`` in a
``StandardUpdater`` subclass, stock ``F.*`` losses; PyTorch: ``nn.Sequential`` and
``torch.optim.SGD`` with the same step.
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

B = 100
H = 1000


# ------------------------------------------------------------------------ ours
def ours_unsupervised(tiny=False):
    from aae.net import Decoder, Discriminator, Encoder
    from aae.optim import make_optimizers
    from aae.priors import Prior
    from aae.updater import AAEUpdater
    enc, dec, dis = Encoder(2), Decoder(2), Discriminator(2)
    it = chainer.iterators.SerialIterator(data.images(data.dataset_size(tiny)), B)
    updater = AAEUpdater(it, make_optimizers(enc, dec, dis), {'enc': enc, 'dec': dec,
                                                              'dis': dis}, Prior('gaussian', 2))
    return fuse_updater(updater).update


def ours_unsupervised_unfused(tiny=False):
    """Ours with chainer's own MomentumSGD rules (before ``fused_updates``)."""
    from benchmarks import legacy
    return legacy.unfuse(ours_unsupervised(tiny).__self__).update


def ours_semisupervised(tiny=False):
    from aae.net import categorical_aae
    from aae.optim import make_optimizers
    from aae.priors import Prior
    from aae.updater import CategoricalAAEUpdater
    n = data.dataset_size(tiny)
    enc, dec, dis_z, dis_y = categorical_aae(10, 10)
    its = {'main': chainer.iterators.SerialIterator(data.images(n), B),
           'labeled': chainer.iterators.SerialIterator(
               chainer.datasets.TupleDataset(data.images(n), data.labels(n)), B)}
    opts = make_optimizers(enc, dec, dis_z, extra_dis={'dis_y': dis_y}, supervised=True)
    updater = CategoricalAAEUpdater(its, opts, {'enc': enc, 'dec': dec, 'dis_z': dis_z,
                                                'dis_y': dis_y}, Prior('gaussian', 10))
    return fuse_updater(updater).update


# ------------------------------------------------------------------------ plain Chainer
class PlainMLP(chainer.Chain):
    def __init__(self, n_in, n_out, noise=0.0):
        super().__init__()
        self.noise = noise
        with self.init_scope():
            self.l1, self.l2, self.l3 = L.Linear(n_in, H), L.Linear(H, H), L.Linear(H, n_out)

    def forward(self, x):
        if self.noise:
            x = x + np.random.normal(0, self.noise, x.shape).astype('f')
        return self.l3(F.relu(self.l2(F.relu(self.l1(x)))))


def _momentum(link, lr, momentum):
    opt = chainer.optimizers.MomentumSGD(lr, momentum)
    opt.setup(link)
    opt.rules = {name: p.update_rule for name, p in link.namedparams()}
    return opt


def _update(opt):
    """Step ``opt``, first giving the parameters back its own momentum rules (the encoder
    has two MomentumSGDs, and chainer keeps one update rule per parameter)."""
    for name, p in opt.target.namedparams():
        p.update_rule = opt.rules[name]
    opt.update()


class PlainAAEUpdater(StandardUpdater):
    """The AAE step the way chainer's examples write an updater."""

    def __init__(self, iterators, nets, z_dim, n_y=0):
        self.nets, self.z_dim, self.n_y = nets, z_dim, n_y
        opts = {'enc': _momentum(nets['enc'], 0.01, 0.9), 'dec': _momentum(nets['dec'], 0.01, 0.9)}
        for name in nets:
            if name.startswith('dis'):
                opts[name] = _momentum(nets[name], 0.1, 0.1)
        opts['gen'] = _momentum(nets['enc'], 0.1, 0.1)
        if n_y:
            opts['sup'] = _momentum(nets['enc'], 0.1, 0.1)
        super().__init__(iterators, opts)

    def step(self, names, loss):
        for name in names:
            self.get_optimizer(name).target.cleargrads()
        loss.backward()
        for name in names:
            _update(self.get_optimizer(name))

    def update_core(self):
        enc, dec = self.nets['enc'], self.nets['dec']
        x = self.converter(self.get_iterator('main').next())
        b = len(x)
        real, fake = np.ones(b, np.int32), np.zeros(b, np.int32)
        h = enc(x)
        if self.n_y:
            y, z = F.softmax(h[:, :self.n_y]), h[:, self.n_y:]
            x_rec = F.sigmoid(dec(F.concat((y, z))))
        else:
            x_rec = F.sigmoid(dec(h))
        self.step(['enc', 'dec'], F.mean_squared_error(x_rec, x) * x.shape[1])
        z_prior = np.random.standard_normal((b, self.z_dim)).astype('f')
        with chainer.no_backprop_mode():
            h = enc(x)
        if self.n_y:
            y_prior = np.eye(self.n_y, dtype='f')[np.random.randint(0, self.n_y, b)]
            dis_y, dis_z = self.nets['dis_y'], self.nets['dis_z']
            loss = (F.softmax_cross_entropy(dis_y(y_prior), real)
                    + F.softmax_cross_entropy(dis_y(F.softmax(h[:, :self.n_y]).array), fake)
                    + F.softmax_cross_entropy(dis_z(z_prior), real)
                    + F.softmax_cross_entropy(dis_z(h.array[:, self.n_y:]), fake))
            self.step(['dis_y', 'dis_z'], loss)
            h = enc(x)
            loss = (F.softmax_cross_entropy(dis_y(F.softmax(h[:, :self.n_y])), real)
                    + F.softmax_cross_entropy(dis_z(h[:, self.n_y:]), real))
            self.step(['gen'], loss)
            x_l, t_l = self.converter(self.get_iterator('labeled').next())
            self.step(['sup'], F.softmax_cross_entropy(enc(x_l)[:, :self.n_y], t_l))
        else:
            dis = self.nets['dis']
            loss = (F.softmax_cross_entropy(dis(z_prior), real)
                    + F.softmax_cross_entropy(dis(h.array), fake))
            self.step(['dis'], loss)
            self.step(['gen'], F.softmax_cross_entropy(dis(enc(x)), real))


def chainer_unsupervised(tiny=False):
    nets = {'enc': PlainMLP(784, 2), 'dec': PlainMLP(2, 784), 'dis': PlainMLP(2, 2)}
    it = chainer.iterators.SerialIterator(data.images(data.dataset_size(tiny)), B)
    return PlainAAEUpdater({'main': it}, nets, 2).update


def chainer_semisupervised(tiny=False):
    n = data.dataset_size(tiny)
    nets = {'enc': PlainMLP(784, 20), 'dec': PlainMLP(20, 784),
            'dis_y': PlainMLP(10, 2, noise=0.3), 'dis_z': PlainMLP(10, 2, noise=0.3)}
    its = {'main': chainer.iterators.SerialIterator(data.images(n), B),
           'labeled': chainer.iterators.SerialIterator(
               chainer.datasets.TupleDataset(data.images(n), data.labels(n)), B)}
    return PlainAAEUpdater(its, nets, 10, n_y=10).update


# ------------------------------------------------------------------------ PyTorch
def _torch_mlp(n_in, n_out):
    from torch import nn
    return nn.Sequential(nn.Linear(n_in, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU(),
                         nn.Linear(H, n_out))


def _torch_step(loss, *opts):
    for opt in opts:
        opt.zero_grad()
    loss.backward()
    for opt in opts:
        opt.step()


def torch_unsupervised(tiny=False):
    import torch
    import torch.nn.functional as TF
    enc, dec, dis = _torch_mlp(784, 2), _torch_mlp(2, 784), _torch_mlp(2, 2)
    sgd = torch.optim.SGD
    o_enc, o_dec = sgd(enc.parameters(), 0.01, 0.9), sgd(dec.parameters(), 0.01, 0.9)
    o_dis, o_gen = sgd(dis.parameters(), 0.1, 0.1), sgd(enc.parameters(), 0.1, 0.1)
    batches = data.TorchBatches(B, data.images(data.dataset_size(tiny)))
    real, fake = torch.ones(B, dtype=torch.long), torch.zeros(B, dtype=torch.long)

    def step():
        x = batches.next()
        _torch_step(((torch.sigmoid(dec(enc(x))) - x) ** 2).sum() / B, o_enc, o_dec)
        with torch.no_grad():
            z = enc(x)
        loss = TF.cross_entropy(dis(torch.randn(B, 2)), real) + TF.cross_entropy(dis(z), fake)
        _torch_step(loss, o_dis)
        _torch_step(TF.cross_entropy(dis(enc(x)), real), o_gen)
    return step


def torch_semisupervised(tiny=False):
    import torch
    import torch.nn.functional as TF
    n = data.dataset_size(tiny)
    enc, dec = _torch_mlp(784, 20), _torch_mlp(20, 784)
    dis_y, dis_z = _torch_mlp(10, 2), _torch_mlp(10, 2)
    sgd = torch.optim.SGD
    o_enc, o_dec = sgd(enc.parameters(), 0.01, 0.9), sgd(dec.parameters(), 0.01, 0.9)
    o_dis = sgd(list(dis_y.parameters()) + list(dis_z.parameters()), 0.1, 0.1)
    o_gen, o_sup = sgd(enc.parameters(), 0.1, 0.1), sgd(enc.parameters(), 0.1, 0.1)
    unlabelled = data.TorchBatches(B, data.images(n))
    labelled = data.TorchBatches(B, data.images(n), data.labels(n).astype(np.int64))
    real, fake = torch.ones(B, dtype=torch.long), torch.zeros(B, dtype=torch.long)
    noisy = lambda v: v + 0.3 * torch.randn_like(v)  # noqa: E731

    def step():
        x = unlabelled.next()
        h = enc(x)
        x_rec = torch.sigmoid(dec(torch.cat((torch.softmax(h[:, :10], 1), h[:, 10:]), 1)))
        _torch_step(((x_rec - x) ** 2).sum() / B, o_enc, o_dec)
        with torch.no_grad():
            h = enc(x)
            y_code, z_code = torch.softmax(h[:, :10], 1), h[:, 10:]
        y_prior = torch.eye(10)[torch.randint(0, 10, (B,))]
        loss = (TF.cross_entropy(dis_y(noisy(y_prior)), real)
                + TF.cross_entropy(dis_y(noisy(y_code)), fake)
                + TF.cross_entropy(dis_z(noisy(torch.randn(B, 10))), real)
                + TF.cross_entropy(dis_z(noisy(z_code)), fake))
        _torch_step(loss, o_dis)
        h = enc(x)
        loss = (TF.cross_entropy(dis_y(noisy(torch.softmax(h[:, :10], 1))), real)
                + TF.cross_entropy(dis_z(noisy(h[:, 10:])), real))
        _torch_step(loss, o_gen)
        x_l, t_l = labelled.next()
        _torch_step(TF.cross_entropy(enc(x_l)[:, :10], t_l), o_sup)
    return step


# ------------------------------------------------------------------------ specs
_ENC, _DEC, _DIS = (flops.mlp(B, [784, H, H, 2]), flops.mlp(B, [2, H, H, 784]),
                    flops.mlp(B, [2, H, H, 2]))
_ENC_S, _DEC_S, _DIS_S = (flops.mlp(B, [784, H, H, 20]), flops.mlp(B, [20, H, H, 784]),
                          flops.mlp(B, [10, H, H, 2]))

BENCHMARKS = [
    Benchmark('aae', 'AAE, unsupervised (Fig. 2), batch 100, 3 phases', __name__, B,
              passes=[(3, _ENC + _DEC),              # reconstruction
                      (1, _ENC), (3, _DIS + _DIS),   # D: codes (no graph), prior + codes
                      (3, _ENC), (2, _DIS)],         # generator: through D, no D weight grads
              steps=15,
              impls={'ours': 'ours_unsupervised', 'chainer': 'chainer_unsupervised',
                     'torch': 'torch_unsupervised',
                     'before:openblas': ('ours_unsupervised', {'OPENBLAS_CORETYPE': 'Prescott'}),
                     'before:fused': 'ours_unsupervised_unfused'}),
    Benchmark('aae_semi', 'AAE, semi-supervised (Fig. 8), 100 + 100 labelled, 4 phases',
              __name__, 2 * B,
              passes=[(3, _ENC_S + _DEC_S),                  # reconstruction
                      (1, _ENC_S), (3, _DIS_S * 4),          # D_y, D_z: prior + codes
                      (3, _ENC_S), (2, _DIS_S * 2),          # generator vs both (dX only)
                      (3, _ENC_S)],                          # supervised
              steps=8,
              impls={'ours': 'ours_semisupervised', 'chainer': 'chainer_semisupervised',
                     'torch': 'torch_semisupervised'}),
]
