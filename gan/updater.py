"""Training steps (``StandardUpdater`` subclasses), in the style of chainer's
``examples/dcgan/updater.py``: the Chains come in through the optimizers
``{'gen': ..., 'dis': ...}`` and each loss is reported with ``chainer.report`` under the
``gen`` / ``dis`` observers (``gen/loss``, ``dis/loss``, ...).

* ``GANUpdater``: alternating updates -- k discriminator steps, each on a fresh data
  minibatch and fresh noise, then one generator step (Goodfellow et al. 2014, Algorithm 1;
  the seed's Keras loop with k = 1; DCGAN). ``gen_loss`` picks the minimax or the
  non-saturating generator loss; optionally measures the generator's gradient norm under
  *both* losses at the same parameters (the vanishing-gradient figure).
* ``SimultaneousGANUpdater``: ``goodfeli/adversarial``'s ``AdversaryCost2``: one minibatch,
  one noise draw, one (dropout) forward pass; D's and G's gradients are both taken at the
  current parameters and applied together by one SGD step.
"""
import numpy

import chainer
import chainer.functions as F
from chainer.training import StandardUpdater

from gan.loss import GEN_LOSSES, discriminator_loss, generator_loss


def _grad_norm(link):
    """sqrt(sum of squared gradients) over a link's parameters: a Python float on the CPU,
    a 0-d array on a GPU (it stays there: the reporter averages it on the device and the log
    reads it once per log interval, so no update waits for the GPU).

    One BLAS dot product per parameter (float32 accumulation inside a parameter, float64
    across them): no float64 copy of every gradient, which cost ~3 ms a step on
    Goodfellow's generator (relative difference ~1e-6).
    """
    total, xp = 0.0, link.xp
    for p in link.params():
        if p.grad is not None:
            g = p.grad.ravel()
            total = total + g.dot(g).astype(numpy.float64)
    if xp is numpy:
        return float(total) ** 0.5
    return xp.sqrt(xp.asarray(total) if isinstance(total, float) else total)


class _GANUpdaterBase(StandardUpdater):
    """The generator's and the discriminator's optimizers, and the loss scale of D."""

    def __init__(self, iterator, optimizers, dis_loss_scale=0.5, **kwargs):
        if set(optimizers) != {'gen', 'dis'}:
            raise ValueError("optimizers must be {'gen': ..., 'dis': ...}")
        super().__init__(iterator, optimizers, **kwargs)
        self.gen = optimizers['gen'].target
        self.dis = optimizers['dis'].target
        self.dis_loss_scale = dis_loss_scale

    def next_real(self):
        """A data minibatch on the device (the first array if the dataset has tuples)."""
        batch = self.converter(self.get_iterator('main').next(), self.device)
        if isinstance(batch, (tuple, list)):
            batch = batch[0]
        elif isinstance(batch, dict):
            batch = batch[sorted(batch)[0]]
        return batch

    def make_noise(self, n):
        """z drawn where G lives (with CuPy's generator on a GPU: no host copy)."""
        return self.gen.make_hidden(n, self.gen.xp)

    def loss_dis(self, y_real, y_fake):
        # -V(D, G) = -E log D(x) - E log(1 - D(G(z))), times dis_loss_scale (0.5 = the mean
        # BCE over the concatenated real+fake batch: Keras' train_on_batch, pylearn2's d_obj)
        loss = self.dis_loss_scale * discriminator_loss(y_real, y_fake)
        chainer.report({'loss': loss,
                        'd_real': F.mean(F.sigmoid(y_real)),   # mean D(x)
                        'd_fake': F.mean(F.sigmoid(y_fake))},  # mean D(G(z))
                       self.dis)
        return loss


class GANUpdater(_GANUpdaterBase):
    """k D steps per G step (Algorithm 1 of Goodfellow et al. 2014).

    Args:
        iterator: data iterator (arrays (N, ...) or tuples whose first item is x).
        optimizers: ``{'gen': opt_g, 'dis': opt_d}``, set up on the generator and the
            discriminator (which returns logits).
        n_dis: k, discriminator steps per generator step.
        gen_loss: ``'nonsaturating'`` (-log D(G(z))) or ``'minimax'`` (log(1 - D(G(z)))).
        dis_loss_scale: factor on -V(D, G) for D's loss (0.5: mean BCE over real+fake).
        grad_norm_interval: every this many iterations (0: never) report the generator's
            gradient norm under both losses, ``gen/grad_norm_minimax`` and
            ``gen/grad_norm_nonsaturating``, at the same parameters and noise.
        fakes_in_test_mode: make D's fakes with G in test mode (BatchNorm running
            statistics), as a Keras notebook's ``generator.predict_on_batch`` does; G's own
            step always runs in training mode.
        device, converter: as for ``StandardUpdater``.
    """

    def __init__(self, iterator, optimizers, n_dis=1, gen_loss='nonsaturating',
                 dis_loss_scale=0.5, grad_norm_interval=0, fakes_in_test_mode=False,
                 **kwargs):
        if gen_loss not in GEN_LOSSES:
            raise ValueError('gen_loss must be one of {}, got {!r}'.format(GEN_LOSSES,
                                                                            gen_loss))
        if int(n_dis) < 1:
            raise ValueError('n_dis must be >= 1, got {!r}'.format(n_dis))
        super().__init__(iterator, optimizers, dis_loss_scale=dis_loss_scale, **kwargs)
        self.n_dis = int(n_dis)
        self.gen_loss = gen_loss
        self.grad_norm_interval = grad_norm_interval
        self.fakes_in_test_mode = fakes_in_test_mode

    def update_core(self):
        gen_opt = self.get_optimizer('gen')
        dis_opt = self.get_optimizer('dis')
        gen, dis = self.gen, self.dis

        # k steps of D: ascend V(D, G) on a fresh data minibatch and fresh noise
        for _ in range(self.n_dis):
            x_real = self.next_real()
            with chainer.no_backprop_mode(), \
                    chainer.using_config('train', not self.fakes_in_test_mode):
                x_fake = gen(self.make_noise(len(x_real)))  # G held fixed
            dis_opt.update(lambda: self.loss_dis(dis(x_real), dis(x_fake.array)))

        # one step of G on fresh noise, D held fixed
        z = self.make_noise(len(x_real))
        y_fake = dis(gen(z))
        loss = generator_loss(y_fake, self.gen_loss)
        report = {'loss': loss}
        if self.grad_norm_interval and self.iteration % self.grad_norm_interval == 0:
            for kind in GEN_LOSSES:
                gen.cleargrads()
                generator_loss(y_fake, kind).backward()
                report['grad_norm_' + kind] = _grad_norm(gen)
        gen.cleargrads()
        dis.cleargrads()
        # G's gradients only: the error flows through D, D's weight gradients are not needed
        g_params = list(gen.params())
        for param, grad in zip(g_params, chainer.grad([loss], g_params)):
            param.grad = None if grad is None else grad.array
        report['grad_norm'] = _grad_norm(gen)  # norm of the gradient actually applied
        gen_opt.update()
        dis.cleargrads()  # D's gradients from the G step are not used
        chainer.report(report, gen)


class SimultaneousGANUpdater(_GANUpdaterBase):
    """``goodfeli/adversarial`` ``AdversaryCost2.get_gradients`` (used by mnist.yaml).

    One data minibatch x, one noise draw z, S = G(z); one dropout forward pass of D on x
    and on S gives y_hat1, y_hat0;
        d_obj = 0.5 * (BCE(1, y_hat1) + BCE(0, y_hat0))     (gradient w.r.t. D only)
        g_obj = BCE(1, y_hat0) = -log D(G(z))             (gradient w.r.t. G only)
    Both gradients are taken at the current parameters, then both nets step
    (pylearn2 SGD applies all of them in one update).
    """

    def __init__(self, iterator, optimizers, gen_loss='nonsaturating', dis_loss_scale=0.5,
                 **kwargs):
        if gen_loss not in GEN_LOSSES:
            raise ValueError('gen_loss must be one of {}, got {!r}'.format(GEN_LOSSES,
                                                                            gen_loss))
        super().__init__(iterator, optimizers, dis_loss_scale=dis_loss_scale, **kwargs)
        self.gen_loss = gen_loss

    def update_core(self):
        gen, dis = self.gen, self.dis
        x_real = self.next_real()
        x_fake = gen(self.make_noise(len(x_real)))
        y_real, y_fake = dis(x_real), dis(x_fake)   # same dropout masks for both objectives
        loss_d = self.loss_dis(y_real, y_fake)
        loss_g = generator_loss(y_fake, self.gen_loss)
        d_params = [p for _, p in sorted(dis.namedparams())]
        g_params = [p for _, p in sorted(gen.namedparams())]
        d_grads = chainer.grad([loss_d], d_params)  # d d_obj / d theta_D
        g_grads = chainer.grad([loss_g], g_params)  # d g_obj / d theta_G
        for p, g in zip(d_params + g_params, d_grads + g_grads):
            p.grad = None if g is None else g.array
        chainer.report({'loss': loss_g, 'grad_norm': _grad_norm(gen)}, gen)
        self.get_optimizer('dis').update()
        self.get_optimizer('gen').update()
