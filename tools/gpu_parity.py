"""CPU/GPU parity: the same weights, inputs and noise give the same losses and gradients on
both devices, within float32 tolerance (part of tools/gpu_check.sh).

Checked, each from one seed, weights copied from the CPU model to the device:

* ``aae``: three updates of the AAE's three phases (aae.updater.AAEUpdater, the paper's
  SGD), prior samples drawn on the CPU and sent over, so both runs see the same numbers;
  the reconstruction, discriminator and generator losses after each update;
* ``dcgan``: a DCGAN generator and discriminator (convolutions, deconvolutions, batch
  normalisation in training mode: Chainer's own kernels on CuPy 14, which has no cuDNN),
  the discriminator loss on real and generated images and both gradient norms;
* ``goodfellow``: Goodfellow's maxout discriminator in test mode (no dropout), its loss and
  gradient norm;
* ``parzen``: the Parzen-window log-likelihood of 500 images under 2,000 samples.

Usage: ``python tools/gpu_parity.py --device @cupy:0`` (``--device @numpy`` compares the
CPU with itself, a self-test). Prints one line per check and exits 1 if any differs by
more than ``--rtol``.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainer_compat  # noqa: F401,E402  (before chainer: see chainer_compat)
import numpy as np  # noqa: E402

import chainer  # noqa: E402
import chainer.functions as F  # noqa: E402


def _to_host(a):
    return chainer.backend.CpuDevice().send(a.array if isinstance(a, chainer.Variable) else a)


def _grad_norm(link):
    return float(np.sqrt(sum(float((_to_host(p.grad) ** 2).sum())
                             for p in link.params() if p.grad is not None)))


def _copy(link, device):
    clone = link.copy(mode='copy')
    clone.to_device(device)
    return clone


def check_aae(device, seed=0, n_updates=3):
    from aae.net import Decoder, Discriminator, Encoder
    from aae.optim import make_optimizers
    from aae.updater import AAEUpdater
    rng = np.random.RandomState(seed)
    x = rng.rand(64, 784).astype(np.float32)
    nets = Encoder(2, 784, 256), Decoder(2, 784, 256), Discriminator(2, 256)

    def run(dev):
        enc, dec, dis = (_copy(n, dev) for n in nets)
        prior_rng = np.random.RandomState(seed + 1)

        def prior(n, labels, xp):                 # the same samples on both devices
            return dev.send(prior_rng.normal(size=(n, 2)).astype(np.float32))
        it = chainer.iterators.SerialIterator(x, 32, shuffle=False)
        up = AAEUpdater(it, make_optimizers(enc, dec, dis, 'sgd'),
                        {'enc': enc, 'dec': dec, 'dis': dis}, prior, device=dev)
        losses = []
        for _ in range(n_updates):
            obs = {}
            with chainer.reporter.Reporter().scope(obs):
                up.update()
            losses += [float(_to_host(obs[k]))
                       for k in ('main/loss_rec', 'main/loss_dis', 'main/loss_gen')]
        return np.array(losses)
    return run(chainer.get_device('@numpy')), run(device)


def check_dcgan(device, seed=0):
    from gan.dcgan import Discriminator, Generator
    from gan.loss import discriminator_loss
    np.random.seed(seed)
    gen, dis = Generator(n_hidden=100, out_size=28, ch=64), Discriminator(in_size=28, ch=64)
    rng = np.random.RandomState(seed)
    z = rng.uniform(-1, 1, (16, 100)).astype(np.float32)
    x = rng.rand(16, 1, 28, 28).astype(np.float32)

    def run(dev):
        g, d = _copy(gen, dev), _copy(dis, dev)
        loss = discriminator_loss(d(dev.send(x)), d(g(dev.send(z))))
        g.cleargrads()
        d.cleargrads()
        loss.backward()
        return np.array([float(_to_host(loss)), _grad_norm(d), _grad_norm(g)])
    return run(chainer.get_device('@numpy')), run(device)


def check_goodfellow(device, seed=0):
    from gan.loss import discriminator_loss
    from gan.net import GoodfellowDiscriminator
    np.random.seed(seed)
    dis = GoodfellowDiscriminator()
    rng = np.random.RandomState(seed)
    real, fake = rng.rand(32, 784).astype(np.float32), rng.rand(32, 784).astype(np.float32)

    def run(dev):
        d = _copy(dis, dev)
        with chainer.using_config('train', False):           # no dropout: deterministic
            loss = discriminator_loss(d(dev.send(real)), d(dev.send(fake)))
        d.cleargrads()
        loss.backward()
        return np.array([float(_to_host(loss)), _grad_norm(d)])
    return run(chainer.get_device('@numpy')), run(device)


def check_parzen(device, seed=0):
    from evaluation.parzen import parzen_log_likelihood
    rng = np.random.RandomState(seed)
    x, samples = rng.rand(500, 784).astype(np.float32), rng.rand(2000, 784).astype(np.float32)

    def run(dev):
        return _to_host(parzen_log_likelihood(dev.send(x), dev.send(samples), 0.2))
    return run(chainer.get_device('@numpy')), run(device)


CHECKS = {'aae': check_aae, 'dcgan': check_dcgan, 'goodfellow': check_goodfellow,
          'parzen': check_parzen}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='@cupy:0',
                        help='device to compare with the CPU (default @cupy:0)')
    parser.add_argument('--rtol', type=float, default=1e-4)
    parser.add_argument('--only', nargs='+', choices=sorted(CHECKS))
    args = parser.parse_args(argv)
    device = chainer.get_device(args.device)
    device.use()
    failed = []
    for name in args.only or CHECKS:
        cpu, dev = CHECKS[name](device)
        err = float(np.max(np.abs(cpu - dev) / np.maximum(np.abs(cpu), 1e-6)))
        ok = err <= args.rtol
        failed += [] if ok else [name]
        print('%-10s %s  max relative difference %.2e (%d values; cpu %s)'
              % (name, 'ok  ' if ok else 'FAIL', err, cpu.size,
                 np.array2string(cpu.ravel()[:3], precision=5)))
    print('parity: %s' % ('all ok' if not failed else 'FAILED: ' + ', '.join(failed)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
