"""Training throughput of M1 (images/s): 784-500-500-20 at batch 100, Adam, dynamic binarisation.

Not a test.  Run:  python benchmarks/bench_vae.py [--hidden 500 500] [--activation tanh]
Times ``--iterations`` full updates (forward, backward, Adam step, fresh Bernoulli draw with
``datasets.binarize.DynamicBinarizeConverter``) after ``--warmup`` untimed ones, on random grey
images, and reports the best of ``--repeats``.  Each repeat also times a reference model built
like chainer's ``examples/vae`` (784-500-20, tanh, ``F.bernoulli_nll`` and
``F.gaussian_kl_divergence``, stock ``StandardUpdater``), interleaved with ours, so the ratio
is meaningful even on a loaded machine.  Threads: set OMP_NUM_THREADS (2 on the 2-core box).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import argparse
import os
import time

import numpy as np
import chainer
import chainer.functions as F
import chainer.links as L
from chainer import iterators, optimizers
from chainer.training import StandardUpdater

from datasets.binarize import DynamicBinarizeConverter
from vae.net import VAE
from vae.updater import VAEUpdater


class ReferenceVAE(chainer.Chain):
    """A VAE written the way chainer's examples/vae writes it (784-500-20, tanh)."""

    def __init__(self, n_in=784, n_hidden=500, n_latent=20):
        super().__init__()
        with self.init_scope():
            self.enc_h = L.Linear(n_in, n_hidden)
            self.enc_mu = L.Linear(n_hidden, n_latent)
            self.enc_ln_var = L.Linear(n_hidden, n_latent)
            self.dec_h = L.Linear(n_latent, n_hidden)
            self.dec_out = L.Linear(n_hidden, n_in)

    def forward(self, x):
        h = F.tanh(self.enc_h(x))
        mu, ln_var = self.enc_mu(h), self.enc_ln_var(h)
        logits = self.dec_out(F.tanh(self.dec_h(F.gaussian(mu, ln_var))))
        rec = F.bernoulli_nll(x, logits) / len(x)
        kl = F.gaussian_kl_divergence(mu, ln_var) / len(x)
        loss = rec + kl
        chainer.report({'loss': loss}, self)
        return loss


def make_updater(kind, hidden, latent, activation, batchsize, device):
    data = np.random.RandomState(0).uniform(0, 1, (5000, 784)).astype(np.float32)
    model = (VAE(784, latent, tuple(hidden), activation) if kind == 'ours'
             else ReferenceVAE())
    model.to_device(device)
    optimizer = optimizers.Adam(1e-3)
    optimizer.setup(model)
    it = iterators.SerialIterator(data, batchsize)
    cls = VAEUpdater if kind == 'ours' else StandardUpdater
    return cls(it, optimizer, converter=DynamicBinarizeConverter(), device=device)


def measure(updater, batchsize, iterations, warmup, device):
    for _ in range(warmup):
        updater.update()
    start = time.perf_counter()
    for _ in range(iterations):
        updater.update()
    chainer.get_device(device).synchronize() if device != '@numpy' else None
    return iterations * batchsize / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--hidden', type=int, nargs='+', default=[500, 500])
    parser.add_argument('--latent', type=int, default=20)
    parser.add_argument('--batchsize', type=int, default=100)
    parser.add_argument('--iterations', type=int, default=200)
    parser.add_argument('--warmup', type=int, default=20)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--activation', default='tanh')
    parser.add_argument('--device', default='@numpy')
    args = parser.parse_args()
    ours = make_updater('ours', args.hidden, args.latent, args.activation, args.batchsize,
                        args.device)
    reference = make_updater('reference', None, None, None, args.batchsize, args.device)
    rates = {'ours': [], 'reference': []}
    for _ in range(args.repeats):
        for kind, updater in (('ours', ours), ('reference', reference)):
            rates[kind].append(measure(updater, args.batchsize, args.iterations,
                                       args.warmup, args.device))
    net = '-'.join(str(n) for n in [784] + args.hidden + [args.latent])
    threads = os.environ.get('OMP_NUM_THREADS', 'unset')
    print('OMP_NUM_THREADS=%s, load average %s' % (threads, os.getloadavg()))
    for kind, label in (('ours', 'M1 %s %s' % (net, args.activation)),
                        ('reference', 'chainer examples/vae-style 784-500-20 tanh')):
        print('%-45s batch %d on %s: %.0f images/s (best of %d; all: %s)'
              % (label, args.batchsize, args.device, max(rates[kind]), args.repeats,
                 ', '.join('%.0f' % r for r in rates[kind])))
    print('ratio ours / reference (best): %.2f'
          % (max(rates['ours']) / max(rates['reference'])))


if __name__ == '__main__':
    main()
