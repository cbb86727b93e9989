"""GLO's training step: one SGD step on theta and on the minibatch's codes.

Bojanowski et al., arXiv:1707.05776, §3 and §4: for a minibatch {(x_i, i)},

    loss = (1/B) sum_i l(g_theta(z_i), x_i)               (GLO objective on the minibatch)
    theta <- theta - lr_theta * d loss / d theta           (plain SGD, lr_theta = 1)
    z_i   <- P(z_i - lr_z * d loss / d z_i)                (plain SGD, lr_z = 10, P = projection)

There is no encoder and no discriminator, so the loss itself says how training goes.

The updater can train several GLO models side by side on the same minibatches (the
experiment compares d = 100 / 512 and Lap1 / MSE in one run, with one snapshot and one
``--resume``). Each model ``name`` has a generator, a :class:`glo.net.LatentCodes`, a
loss, and two optimizers ``name + '/gen'`` and ``name + '/codes'`` (the latter with the
:class:`glo.net.ProjectCodes` hook). Reported per model: ``name/loss`` (the objective) and
``name/mse`` (per-pixel squared error, comparable across losses).
"""
import chainer
import chainer.functions as F
from chainer.training import StandardUpdater

from glo.initialization import initial_codes
from glo.loss import make_loss
from glo.net import LatentCodes, ProjectCodes


def make_models(variants, x_train, *, init, projection, seed, lr_gen, lr_codes, generator,
                device, **lap1_options):
    """The GLO models of ``variants`` [(loss name, d)], named ``<loss>_d<d>``: each a
    generator ``generator(d)``, N codes initialised by ``init`` (PCA or random, §4), plain
    SGD with rate ``lr_gen`` (paper: 1) and ``lr_codes`` (paper: 10, the codes projected
    after each step) and its loss. Returns the ``models``, ``loss_funcs`` and ``optimizers``
    of :class:`GLOUpdater`, and the initial codes by name. A bad ``init`` for the data
    raises ValueError."""
    models, loss_funcs, optimizers, start_codes = {}, {}, {}, {}
    for loss_name, d in variants:
        name = '%s_d%d' % (loss_name, d)
        z0, _ = initial_codes(init, x_train, d, projection, seed)
        gen, codes = generator(d), LatentCodes(len(x_train), d, z0, projection=projection)
        start_codes[name] = z0
        gen.to_device(device)
        codes.to_device(device)
        optimizers[name + '/gen'] = chainer.optimizers.SGD(lr=lr_gen)        # lr 1
        optimizers[name + '/gen'].setup(gen)
        optimizers[name + '/codes'] = chainer.optimizers.SGD(lr=lr_codes)    # lr 10
        optimizers[name + '/codes'].setup(codes)
        optimizers[name + '/codes'].add_hook(ProjectCodes())    # z <- z / max(|z|, 1)
        models[name] = (gen, codes)
        loss_funcs[name] = make_loss(loss_name, **lap1_options)
    return models, loss_funcs, optimizers, start_codes


class GLOUpdater(StandardUpdater):
    """Args:
        iterator: yields (image (D,) float32, index int32) pairs; the index selects z_i.
        models: {name: (generator, codes)}.
        loss_funcs: {name: loss(x_rec, x)} (see :func:`glo.loss.make_loss`).
        optimizers: {name + '/gen': optimizer of the generator,
                     name + '/codes': optimizer of the codes}.
        device: where the minibatch goes (``exp.device``).
    """

    def __init__(self, iterator, models, loss_funcs, optimizers, device=None,
                 converter=chainer.dataset.concat_examples):
        missing = [n + suffix for n in models for suffix in ('/gen', '/codes')
                   if n + suffix not in optimizers]
        if missing or set(models) != set(loss_funcs):
            raise ValueError('every model needs a loss and two optimizers; missing: %s'
                             % (missing or sorted(set(models) ^ set(loss_funcs))))
        super().__init__(iterator, optimizers, converter=converter, device=device)
        self.models = models
        self.loss_funcs = loss_funcs

    def update_core(self):
        iterator = self.get_iterator('main')
        x, idx = self.converter(iterator.next(), self.input_device)
        for name, (generator, codes) in self.models.items():
            x_rec = generator(codes(idx))                      # g_theta(z_i)
            loss = self.loss_funcs[name](x_rec, x)             # (1/B) sum_i l(g(z_i), x_i)
            generator.cleargrads()
            codes.cleargrads()
            loss.backward()
            self.get_optimizer(name + '/gen').update()         # theta <- theta - lr_theta * g
            self.get_optimizer(name + '/codes').update()       # z_i <- P(z_i - lr_z * g_i)
            mse = F.mean_squared_error(x_rec.array.reshape(x.shape), x)
            chainer.report({name + '/loss': loss, name + '/mse': mse})
        if self.auto_new_epoch and iterator.is_new_epoch:
            for optimizer in self.get_all_optimizers().values():
                optimizer.new_epoch(auto=True)


__all__ = ['GLOUpdater']
