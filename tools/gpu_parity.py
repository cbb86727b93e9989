"""CPU/GPU parity of the training steps: the same weights, data and noise give the same
gradients and the same parameter updates on both devices, within float32 tolerance.

Losses are not compared: an adversarial loss stays near ln 4 whatever the step did, so a
disabled, sign-flipped or halved step changes it by less than float noise. Each check runs
one step of every phase from one seed, weights copied from a CPU model, with the noise drawn
once on the CPU and sent over, and compares, per phase, every parameter's gradient and its
change (``after - before``):

* ``aae_sgd``, ``aae_adam``: the AAE's three phases (reconstruction, discriminator,
  generator; aae.updater.AAEUpdater, Makhzani et al. 2015 Sec. 2) with the paper's momentum
  SGD and with Adam per phase (``--set optimizer=adam-phase``);
* ``nips14_adam``: one step of nips14-ssl's Adam (vae.optim.NIPS14Adam: no bias correction,
  no epsilon) on an M1 VAE;
* ``vae``: the VAE bound (Kingma & Welling 2013 Eq. 10: log p(x|z) and the KL per example,
  with fixed eps) and its gradients;
* ``dcgan``: one discriminator and one generator step of the DCGAN (convolutions,
  deconvolutions, batch normalisation; Chainer's own kernels on CuPy 14, which has no
  cuDNN) with Adam, including the batch-normalisation running statistics;
* ``goodfellow``: the maxout discriminator's gradients (test mode, no dropout);
* ``glo``: one GLO step with the Lap1 loss (Bojanowski et al. 2018 Eq. 3) and the
  projection of the codes onto the unit ball;
* ``parzen``: the Parzen-window log-likelihood of 500 images under 2,000 samples.

Each array pair is compared relative to its scale, max|a - b| / max(max|a|, 1e-3 s), where s
is the largest value of that kind (gradient, update, ...) in the same phase: a gradient that
is zero up to rounding (a bias just before batch normalisation) is compared with the phase's
gradients, not with its own noise. Adam's first step is about alpha sign(g), so an update is
compared only where the CPU's gradient exceeds 1e-4 s of the phase's gradients (elsewhere
its sign is rounding noise). A check fails when any pair exceeds ``--rtol``; a missing or
non-finite array fails it too. Each check is isolated: an error in one (reported with its
message) does not stop the others.

Usage: ``python tools/gpu_parity.py --device @cupy:0 [--json FILE]`` (``--device @numpy``
compares the CPU with itself, a self-test). Prints one line per check, exits 1 if any fails.
"""
import argparse
import contextlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainer_compat  # noqa: F401,E402  (before chainer: see chainer_compat)
import numpy as np  # noqa: E402

import chainer  # noqa: E402
import chainer.functions as F  # noqa: E402

CPU = chainer.get_device('@numpy')


def _host(a):
    a = a.array if isinstance(a, chainer.Variable) else a
    return np.array(chainer.backend.CpuDevice().send(a), dtype=np.float64)


def _copy(link, device):
    clone = link.copy(mode='copy')
    clone.to_device(device)
    return clone


def _params(links):
    """{'link/path': Parameter} over ``links`` (a dict name -> link)."""
    return {'%s%s' % (name, path): p for name, link in sorted(links.items())
            for path, p in sorted(link.namedparams())}


class _Phases:
    """Records, around each call of ``fn(*args)``, every parameter's change (so a phase that
    moves what it should not is seen too) and the gradients of the links it trains."""

    def __init__(self, links):
        self.links, self.values = links, {}

    def step(self, phase, trained, fn, *args):
        params = _params(self.links)
        before = {k: _host(p.array) for k, p in params.items()}
        out = fn(*args)
        for k, p in params.items():
            if k.split('/')[0] in trained and p.grad is not None:
                self.values['%s %s grad' % (phase, k)] = _host(p.grad)
            self.values['%s %s update' % (phase, k)] = _host(p.array) - before[k]
        return out


class _FixedNoise:
    """The same random numbers on both devices: drawn on the CPU from ``seed``, in call
    order, and sent to the device."""

    def __init__(self, seed, device):
        self.rng, self.device = np.random.RandomState(seed), device

    def normal(self, shape):
        return self.device.send(self.rng.normal(size=shape).astype(np.float32))

    def uniform(self, low, high, shape):
        return self.device.send(self.rng.uniform(low, high, shape).astype(np.float32))


def _both(run):
    """``run(device)`` on the CPU and on ``device``: {key: (cpu, device)}."""
    def check(device):
        cpu, dev = run(CPU), run(device)        # an array on one side only: a failure
        return {k: (cpu.get(k), dev.get(k)) for k in sorted(set(cpu) | set(dev))}
    return check


def _aae(kind, seed=0):
    from aae.net import Decoder, Discriminator, Encoder
    from aae.optim import make_optimizers
    from aae.updater import AAEUpdater
    rng = np.random.RandomState(seed)
    x = rng.rand(32, 784).astype(np.float32)
    nets = {'enc': Encoder(2, 784, 64), 'dec': Decoder(2, 784, 64),
            'dis': Discriminator(2, 64)}

    def run(dev):
        links = {k: _copy(n, dev) for k, n in nets.items()}
        noise = _FixedNoise(seed + 1, dev)
        it = chainer.iterators.SerialIterator(x, 32, shuffle=False)
        up = AAEUpdater(it, make_optimizers(links['enc'], links['dec'], links['dis'], kind),
                        links, lambda n, labels, xp: noise.normal((n, 2)), device=dev)
        phases, step = _Phases(links), up._step    # phases: 'enc+dec', 'dis', 'gen'
        owner = {id(link): name for name, link in links.items()}
        up._step = lambda opt_names, loss, ls: phases.step(
            '+'.join(opt_names), {owner[id(up.get_optimizer(n).target)] for n in opt_names},
            step, opt_names, loss, ls)
        with chainer.reporter.Reporter().scope({}):
            up.update()
        return phases.values
    return run


def check_aae_sgd(device):
    return _both(_aae('sgd'))(device)


def check_aae_adam(device):
    return _both(_aae('adam-phase'))(device)


@contextlib.contextmanager
def _fixed_gaussian(noise):
    """``F.gaussian(mu, ln_var)`` with eps from ``noise`` (the reparameterisation's draw)."""
    gaussian = F.gaussian
    F.gaussian = lambda mu, ln_var: mu + F.exp(0.5 * ln_var) * noise.normal(mu.shape)
    try:
        yield
    finally:
        F.gaussian = gaussian


def _vae_bound_step(device, seed, optimizer=None):
    from vae.loss import vae_bound
    from vae.net import VAE
    rng = np.random.RandomState(seed)
    x = (rng.rand(16, 784) < 0.3).astype(np.float32)
    np.random.seed(seed)
    net = VAE(784, 8, (64,))

    def run(dev):
        vae = _copy(net, dev)
        values = {}
        with _fixed_gaussian(_FixedNoise(seed + 1, dev)):
            log_px, kl = vae_bound(vae, dev.send(x))
        values['log p(x|z)'], values['kl'] = _host(log_px), _host(kl)
        loss = -F.mean(log_px - kl)
        if optimizer is None:
            vae.cleargrads()
            loss.backward()
            values.update({'%s grad' % k: _host(p.grad)
                           for k, p in _params({'vae': vae}).items()})
            return values
        opt = optimizer()
        opt.setup(vae)
        phases = _Phases({'vae': vae})
        phases.step('adam', {'vae'}, opt.update, lambda: loss)
        return phases.values
    return _both(run)(device)


def check_vae(device, seed=0):
    return _vae_bound_step(device, seed)


def check_nips14_adam(device, seed=0):
    from vae.optim import NIPS14Adam
    return _vae_bound_step(device, seed, lambda: NIPS14Adam(alpha=3e-4))


def check_dcgan(device, seed=0):
    from gan.dcgan import Discriminator, Generator
    from gan.updater import GANUpdater
    np.random.seed(seed)
    nets = {'gen': Generator(n_hidden=16, out_size=28, ch=32),
            'dis': Discriminator(in_size=28, ch=32)}
    x = np.random.RandomState(seed).rand(8, 1, 28, 28).astype(np.float32)

    def run(dev):
        links = {k: _copy(n, dev) for k, n in nets.items()}
        opts = {}
        for k, link in links.items():
            opts[k] = chainer.optimizers.Adam(alpha=2e-4, beta1=0.5)   # DCGAN Sec. 4
            opts[k].setup(link)
        it = chainer.iterators.SerialIterator(x, 8, shuffle=False)
        up = GANUpdater(it, opts, dis_loss_scale=1.0, device=dev)
        noise = _FixedNoise(seed + 1, dev)
        up.make_noise = lambda n: noise.uniform(-1, 1, (n, 16))
        phases = _Phases(links)
        for name in ('dis', 'gen'):
            opt = opts[name]
            opt.update = (lambda update, name: lambda *a: phases.step(
                name, {name}, update, *a))(opt.update, name)
        reporter = chainer.Reporter()
        reporter.add_observers('', links.items())
        with reporter.scope({}):
            up.update()
        for k, link in links.items():                  # batch normalisation's running stats
            for path, sub in sorted(link.namedlinks()):
                for attr in sorted(sub._persistent):
                    value = getattr(sub, attr)
                    if isinstance(value, chainer.get_array_types()):
                        phases.values['%s%s/%s running' % (k, path, attr)] = _host(value)
        return phases.values
    return _both(run)(device)


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
        return {'%s grad' % k: _host(p.grad) for k, p in _params({'dis': d}).items()}
    return _both(run)(device)


def check_glo(device, seed=0):
    from gan.dcgan import Generator
    from glo.loss import make_loss
    from glo.net import LatentCodes, ProjectCodes
    from glo.updater import GLOUpdater
    rng = np.random.RandomState(seed)
    n, dim = 8, 4
    x = rng.rand(n, 784).astype(np.float32)
    z0 = (2 * rng.rand(n, dim) - 1).astype(np.float32)           # some outside the ball
    np.random.seed(seed)
    net = Generator(n_hidden=dim, out_size=28, out_ch=1, ch=8, out_activation='sigmoid')

    def run(dev):
        gen = _copy(net, dev)
        codes = LatentCodes(n, dim, z0.copy())
        codes.to_device(dev)
        opt_gen, opt_codes = chainer.optimizers.SGD(lr=1.0), chainer.optimizers.SGD(lr=10.0)
        opt_gen.setup(gen)
        opt_codes.setup(codes)
        opt_codes.add_hook(ProjectCodes())
        data = chainer.datasets.TupleDataset(x, np.arange(n, dtype=np.int32))
        it = chainer.iterators.SerialIterator(data, n, shuffle=False)
        up = GLOUpdater(it, {'m': (gen, codes)}, {'m': make_loss('lap1')},
                        {'m/gen': opt_gen, 'm/codes': opt_codes}, device=dev)
        phases = _Phases({'gen': gen, 'codes': codes})
        with chainer.reporter.Reporter().scope({}):
            phases.step('lap1', {'gen', 'codes'}, up.update)
        phases.values['projected codes'] = _host(codes.W.array)
        return phases.values
    return _both(run)(device)


def check_parzen(device, seed=0):
    from evaluation.parzen import parzen_log_likelihood
    rng = np.random.RandomState(seed)
    x, samples = rng.rand(500, 784).astype(np.float32), rng.rand(2000, 784).astype(np.float32)
    return _both(lambda dev: {'log-likelihood': _host(parzen_log_likelihood(
        dev.send(x), dev.send(samples), 0.2))})(device)


CHECKS = {'aae_sgd': check_aae_sgd, 'aae_adam': check_aae_adam,
          'nips14_adam': check_nips14_adam, 'vae': check_vae, 'dcgan': check_dcgan,
          'goodfellow': check_goodfellow, 'glo': check_glo, 'parzen': check_parzen}


def relative_difference(cpu, dev, floor=0.0):
    """max|cpu - dev| / max(max|cpu|, floor) (0 when equal; inf where one is missing)."""
    if cpu is None or dev is None:
        return np.inf
    cpu, dev = np.asarray(cpu, np.float64), np.asarray(dev, np.float64)
    if cpu.shape != dev.shape:
        return np.inf
    diff = np.max(np.abs(cpu - dev)) if cpu.size else 0.0
    scale = max(np.max(np.abs(cpu)) if cpu.size else 0.0, floor)
    if not np.isfinite(diff):
        return np.inf
    return 0.0 if diff == 0 else diff / scale if scale > 0 else np.inf


def _group(key):
    """(phase, kind) of an array's name: 'gen dec/l1/W grad' -> ('gen', 'grad')."""
    words = key.split(' ')
    return (words[0] if len(words) > 2 else '', words[-1])


def compare(pairs):
    """{key: relative difference} of {key: (cpu, device)} (see the module docstring)."""
    peak = {}
    for key, (cpu, _) in pairs.items():
        if cpu is not None and np.size(cpu) and np.all(np.isfinite(cpu)):
            peak[_group(key)] = max(peak.get(_group(key), 0.0), float(np.max(np.abs(cpu))))
    diffs = {}
    for key, (cpu, dev) in pairs.items():
        phase, kind = _group(key)
        if kind == 'update' and cpu is not None and dev is not None:
            grad = pairs.get(key[:-len('update')] + 'grad', (None,))[0]
            if grad is not None and np.shape(grad) == np.shape(cpu) == np.shape(dev):
                keep = np.abs(grad) > 1e-4 * peak.get((phase, 'grad'), 0.0)
                cpu, dev = np.where(keep, cpu, 0.0), np.where(keep, dev, 0.0)
        diffs[key] = relative_difference(cpu, dev, 1e-3 * peak.get((phase, kind), 0.0))
    return diffs


def run_checks(device, names=None, rtol=1e-3):
    """{name: result} with result = {'ok', 'worst', 'difference', 'arrays', 'seconds'} or
    {'ok': False, 'error': message}; every check runs, whatever the others do."""
    results = {}
    for name in names or CHECKS:
        t0 = time.time()
        try:
            diffs = compare(CHECKS[name](device))
            worst = max(diffs, key=diffs.get)
            results[name] = {'ok': bool(diffs[worst] <= rtol), 'worst': worst,
                             'difference': float(diffs[worst]), 'arrays': len(diffs),
                             'failing': sorted(k for k, d in diffs.items() if d > rtol)}
        except Exception as exc:          # isolate: report, go on with the next check
            results[name] = {'ok': False, 'error': '%s: %s' % (type(exc).__name__,
                                                               ' '.join(str(exc).split()))}
        results[name]['seconds'] = round(time.time() - t0, 2)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='@cupy:0',
                        help='device to compare with the CPU (default @cupy:0)')
    parser.add_argument('--rtol', type=float, default=1e-3,
                        help='largest max|cpu - device| / max|cpu| per array (default 1e-3)')
    parser.add_argument('--only', nargs='+', choices=sorted(CHECKS))
    parser.add_argument('--json', help='also write the results to this file')
    args = parser.parse_args(argv)
    device = chainer.get_device(args.device)
    device.use()
    results = run_checks(device, args.only, args.rtol)
    for name, r in results.items():
        if 'error' in r:
            print('%-12s FAIL  %s' % (name, r['error']))
        else:
            print('%-12s %s  max relative difference %.2e (%s; %d arrays%s)'
                  % (name, 'ok  ' if r['ok'] else 'FAIL', r['difference'], r['worst'],
                     r['arrays'], '; over rtol: %s' % ', '.join(r['failing'][:4])
                     if r['failing'] else ''))
    failed = [name for name, r in results.items() if not r['ok']]
    print('parity: %s' % ('all ok' if not failed else 'FAILED: ' + ', '.join(failed)))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'device': str(device), 'rtol': args.rtol, 'checks': results}, f,
                      indent=1)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
