"""Run by tests/test_distributed.py as ``mpiexec -n 2 python tests/mpi_equivalence.py``.

Two updates of N ranks x (B / N) examples each, gradients averaged by ChainerMN's
multi-node optimiser (``expkit.distributed.Distributed``), against two updates of 1 process x
B, for two families:

* the semi-supervised AAE (CategoricalAAEUpdater: the encoder's three SGD optimisers
  enc/gen/sup with their own momentum, two discriminators, a labelled iterator);
* the alternating GAN (GANUpdater: one D step, one G step, MLP networks without BatchNorm).

The prior / noise samples are made deterministic (rank r draws rows r*B/N.. of a fixed table,
the single process all B rows), so that the only difference is where the gradients are
summed. ``python tests/mpi_equivalence.py OUT --single`` is the one-process reference;
``mpiexec -n 2 python tests/mpi_equivalence.py OUT`` the distributed run (rank 0 writes).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import chainer_compat  # noqa: F401,E402

import numpy as np  # noqa: E402

import chainer  # noqa: E402
from chainer.iterators import SerialIterator  # noqa: E402

import aae.updater as aae_updater  # noqa: E402
from aae.net import categorical_aae  # noqa: E402
from aae.optim import make_optimizers  # noqa: E402
from expkit.distributed import Distributed  # noqa: E402
from gan.net import MLPDiscriminator, MLPGenerator  # noqa: E402
from gan.updater import GANUpdater  # noqa: E402

B, B_LABELLED, N_Z, N_Y = 100, 20, 4, 10
rng = np.random.RandomState(0)
X = rng.uniform(0, 1, (B, 784)).astype(np.float32)
X_L, T_L = X[:B_LABELLED].copy(), rng.randint(0, N_Y, B_LABELLED).astype(np.int32)
Z_TABLE = rng.standard_normal((4, B, 100)).astype(np.float32)          # 4 draws of B rows
Y_TABLE = np.eye(N_Y, dtype=np.float32)[rng.randint(0, N_Y, B)]


class Rows:
    """Deterministic 'random' draws: call k returns rows offset.. of table k."""

    def __init__(self, dist):
        self.offset, self.calls = dist.rank * (B // dist.size), 0

    def take(self, table, n):
        out = table[self.calls % len(table), self.offset:self.offset + n] if table.ndim == 3 \
            else table[self.offset:self.offset + n]
        self.calls += 1
        return out


def aae_params(dist):
    np.random.seed(1)
    enc, dec, dis_z, dis_y = categorical_aae(N_Y, N_Z, 784, 32, 'softmax', 0.0)
    opts = dist.optimizers(make_optimizers(enc, dec, dis_z, 'sgd', extra_dis={'dis_y': dis_y},
                                           supervised=True))
    rows = Rows(dist)
    aae_updater.sample_categorical = lambda n, k, xp=np, dtype='f', probs=None: rows.take(
        Y_TABLE, n)
    prior = lambda n, labels=None, xp=np: rows.take(Z_TABLE, n)[:, :N_Z]   # noqa: E731
    its = {'main': SerialIterator(dist.shard(X), B // dist.size, shuffle=False),
           'labelled': SerialIterator(dist.shard(chainer.datasets.TupleDataset(X_L, T_L)),
                                      B_LABELLED // dist.size, shuffle=False)}
    nets = {'enc': enc, 'dec': dec, 'dis_z': dis_z, 'dis_y': dis_y}
    updater = aae_updater.CategoricalAAEUpdater(its, opts, nets, prior)
    init = _params(nets)
    for _ in range(2):                        # the second update uses the momentum buffers
        updater.update()
    return init, _params(nets)


def _params(nets):
    return {'%s%s' % (k, p): v.array.copy() for k, link in nets.items()
            for p, v in link.namedparams()}


def gan_params(dist):
    np.random.seed(2)
    gen, dis = MLPGenerator(units=(32, 32), batchnorm=False), MLPDiscriminator(units=(32, 16))
    opts = {'gen': chainer.optimizers.Adam(alpha=1e-3, beta1=0.5),
            'dis': chainer.optimizers.Adam(alpha=1e-3, beta1=0.5)}
    opts['gen'].setup(gen)
    opts['dis'].setup(dis)
    opts = dist.optimizers(opts)
    rows = Rows(dist)
    updater = GANUpdater(SerialIterator(dist.shard(X), B // dist.size, shuffle=False), opts)
    updater.make_noise = lambda n: rows.take(Z_TABLE, n)
    init = _params({'gen': gen, 'dis': dis})
    for _ in range(2):
        updater.update()
    return init, _params({'gen': gen, 'dis': dis})


def max_diff(a, b):
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


def main(out, single):
    """Write ``out/<family>.npz`` (rank 0's parameters after two updates), ``..._init.npz``
    (before them) and ``out/ranks.json`` (ranks, and the largest difference between the
    ranks' parameters)."""
    dist = Distributed(None if single else 'naive')
    report = {'ranks': dist.size}
    for family, run in (('aae', aae_params), ('gan', gan_params)):
        init, params = run(dist)
        gathered = [params] if single else dist.comm.gather_obj(params)
        if dist.is_root:
            np.savez(os.path.join(out, family + '.npz'), **params)
            np.savez(os.path.join(out, family + '_init.npz'), **init)
            report[family] = max(max_diff(params, p) for p in gathered)
    if dist.is_root:
        with open(os.path.join(out, 'ranks.json'), 'w') as f:
            json.dump(report, f)


if __name__ == '__main__':
    main(sys.argv[1], '--single' in sys.argv[2:])
