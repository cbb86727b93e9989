"""The speed of one training step on a device: the AAE (aae_gaussian's defaults: 784-1000-
1000-2, three phases with momentum SGD, minibatch 100) and the DCGAN (dcgan_mnist's defaults:
ch 64, z 100, one D and one G step with Adam, minibatch 64), on random MNIST-shaped data.

The clock is read only after the device has finished (``synchronize``), after a few warm-up
steps (CuPy compiles each kernel on first use), so the number is the steady step time, not
the launch time. Usage: ``python tools/gpu_speed.py --device @cupy:0 [--seconds S]
[--json FILE]``; ``--device @numpy`` times the CPU.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainer_compat  # noqa: F401,E402  (before chainer: see chainer_compat)
import numpy as np  # noqa: E402

import chainer  # noqa: E402


def synchronize(device):
    if device.xp is not np:
        device.device.synchronize()


def _aae(device, batch):
    from aae.net import Decoder, Discriminator, Encoder
    from aae.optim import make_optimizers
    from aae.priors import Prior
    from aae.updater import AAEUpdater
    nets = {'enc': Encoder(2, 784, 1000), 'dec': Decoder(2, 784, 1000),
            'dis': Discriminator(2, 1000)}
    for link in nets.values():
        link.to_device(device)
    x = np.random.RandomState(0).rand(batch * 10, 784).astype(np.float32)
    it = chainer.iterators.SerialIterator(x, batch)
    return AAEUpdater(it, make_optimizers(nets['enc'], nets['dec'], nets['dis'], 'sgd'), nets,
                      Prior('gaussian', 2), device=device), nets


def _dcgan(device, batch):
    from gan.dcgan import Discriminator, Generator
    from gan.updater import GANUpdater
    nets = {'gen': Generator(n_hidden=100, out_size=28, out_ch=1, ch=64),
            'dis': Discriminator(in_size=28, in_ch=1, ch=64)}
    opts = {}
    for name, link in nets.items():
        link.to_device(device)
        opts[name] = chainer.optimizers.Adam(alpha=2e-4, beta1=0.5)
        opts[name].setup(link)
    x = np.random.RandomState(0).rand(batch * 10, 1, 28, 28).astype(np.float32)
    it = chainer.iterators.SerialIterator(x, batch)
    return GANUpdater(it, opts, dis_loss_scale=1.0, device=device), nets


MODELS = {'aae': (_aae, 100), 'dcgan': (_dcgan, 64)}


def time_steps(device, name, seconds=5.0, warmup=5, max_steps=2000):
    """{'ms_per_step', 'images_per_second', 'steps', 'batch'} of ``name``'s updater."""
    make, batch = MODELS[name]
    updater, nets = make(device, batch)
    reporter = chainer.Reporter()
    reporter.add_observers('', nets.items())
    with reporter.scope({}):
        for _ in range(warmup):
            updater.update()
        synchronize(device)
        steps, t0 = 0, time.perf_counter()
        while steps < max_steps:
            updater.update()
            steps += 1
            if steps % 10 == 0 or steps == max_steps:
                synchronize(device)
                if time.perf_counter() - t0 >= seconds:
                    break
        synchronize(device)
        elapsed = time.perf_counter() - t0
    return {'ms_per_step': round(1000 * elapsed / steps, 3), 'steps': steps, 'batch': batch,
            'images_per_second': round(steps * batch / elapsed, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='@cupy:0')
    parser.add_argument('--seconds', type=float, default=5.0, help='timed seconds per model')
    parser.add_argument('--warmup', type=int, default=5, help='untimed steps first')
    parser.add_argument('--max-steps', type=int, default=2000)
    parser.add_argument('--only', nargs='+', choices=sorted(MODELS))
    parser.add_argument('--json', help='also write the results to this file')
    args = parser.parse_args(argv)
    device = chainer.get_device(args.device)
    device.use()
    np.random.seed(0)
    results = {'device': str(device)}
    for name in args.only or sorted(MODELS):
        results[name] = r = time_steps(device, name, args.seconds, args.warmup, args.max_steps)
        print('%-6s %8.3f ms/step  %9.1f images/s  (%d steps of %d)'
              % (name, r['ms_per_step'], r['images_per_second'], r['steps'], r['batch']))
        if args.json:                                   # flushed after each model
            with open(args.json, 'w') as f:
                json.dump(results, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
