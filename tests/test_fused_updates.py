"""fused_updates: the blocked CPU steps equal chainer's Adam / MomentumSGD steps."""
import numpy as np
import pytest

import chainer
import chainer.links as L

import fused_updates
from vae.optim import IWAEAdam


def _train(make_optimizer, fuse, steps=4, **kwargs):
    np.random.seed(0)
    model = chainer.Sequential(L.Linear(300, 700), L.Linear(700, 3))   # 210k: > 1 block
    opt = make_optimizer()
    opt.setup(model)
    if fuse:
        fused_updates.fuse(opt)
    rng = np.random.RandomState(1)
    for _ in range(steps):
        for p in model.params():
            p.grad = rng.randn(*p.shape).astype(p.dtype)
        opt.update()
    return model, opt


@pytest.mark.parametrize('make', [
    lambda: chainer.optimizers.Adam(1e-3),
    lambda: chainer.optimizers.Adam(1e-2, beta1=0.5, eps=1e-4),
    lambda: IWAEAdam(1e-3),                                   # a subclass of AdamRule
    lambda: chainer.optimizers.MomentumSGD(0.1, 0.9),
])
def test_same_parameters_and_state_as_chainer(make):
    (ref, _), (new, _) = _train(make, False), _train(make, True)
    for (name, a), (_, b) in zip(sorted(ref.namedparams()), sorted(new.namedparams())):
        np.testing.assert_allclose(b.array, a.array, rtol=1e-5, atol=1e-7, err_msg=name)
        assert type(b.update_rule).__name__.startswith('Fused')
        assert sorted(b.update_rule.state) == sorted(a.update_rule.state)   # serialisation
        for key in a.update_rule.state:
            np.testing.assert_allclose(b.update_rule.state[key], a.update_rule.state[key],
                                       rtol=1e-5, atol=1e-7)


def test_unsupported_settings_fall_back_to_chainer():
    make = lambda: chainer.optimizers.Adam(1e-3, amsgrad=True)  # noqa: E731
    (ref, _), (new, _) = _train(make, False), _train(make, True)
    for a, b in zip(ref.params(), new.params()):
        np.testing.assert_array_equal(b.array, a.array)


def test_fused_sgd_is_bitwise_chainers():
    make = lambda: chainer.optimizers.SGD(0.1)  # noqa: E731
    (ref, _), (new, _) = _train(make, False), _train(make, True)
    for a, b in zip(ref.params(), new.params()):
        np.testing.assert_array_equal(b.array, a.array)
        assert type(b.update_rule).__name__ == 'FusedSGDRule'


def test_fuse_is_idempotent_and_leaves_other_rules():
    model, opt = _train(lambda: chainer.optimizers.AdaGrad(), True, steps=1)
    assert all(type(p.update_rule) is chainer.optimizers.ada_grad.AdaGradRule
               for p in model.params())
    model, opt = _train(lambda: chainer.optimizers.Adam(), True, steps=1)
    cls = type(next(model.params()).update_rule)
    fused_updates.fuse(opt)
    assert type(next(model.params()).update_rule) is cls


def test_training_through_expkit_fuses_the_optimizers(tmp_path):
    from aae.net import Decoder, Discriminator, Encoder
    from aae.optim import make_optimizers
    from aae.priors import Prior
    from aae.updater import AAEUpdater
    from expkit import Experiment, make_parser
    enc, dec, dis = Encoder(2, n_hidden=8), Decoder(2, n_hidden=8), Discriminator(2, n_hidden=8)
    opts = make_optimizers(enc, dec, dis)
    it = chainer.iterators.SerialIterator(np.zeros((4, 784), 'f'), 4)
    up = AAEUpdater(it, opts, {'enc': enc, 'dec': dec, 'dis': dis}, Prior('gaussian', 2))
    names = lambda: {type(r).__name__ for opt in opts.values() for r in opt.aae_rules.values()}
    assert names() == {'MomentumSGDRule'}           # the updater leaves chainer's rules
    args = make_parser('x', epoch=1, batchsize=4, out=str(tmp_path / 'o')).parse_args([])
    Experiment('x', args).trainer(up)
    # the encoder's two optimisers keep their own rules, each fused
    assert names() == {'FusedMomentumSGDRule'}


def test_flush_denormals_zeroes_subnormal_weights_and_state_every_n_updates():
    import chainer.links as L
    from chainer import optimizers
    from fused_updates import FlushDenormals
    link = L.Linear(3, 2)
    opt = optimizers.Adam()
    opt.setup(link)
    link.W.update_rule.add_hook(FlushDenormals(every=2))
    sub = np.float32(1e-40)                       # below float32's smallest normal 1.18e-38
    assert 0 < sub < np.finfo(np.float32).tiny
    for step in (1, 2):
        link.W.array[0, 0] = sub
        link.W.array[1, 1] = 0.5
        link.cleargrads()
        link.W.grad = np.zeros_like(link.W.array)
        link.b.grad = np.zeros_like(link.b.array)
        opt.update()
        # after update 1 the hook skips (t % 2); after update 2 it flushes W and its state
        assert (link.W.array[0, 0] == 0) == (step == 2)
        assert link.W.array[1, 1] != 0
    assert not np.any((link.W.update_rule.state['v'] != 0) &
                      (np.abs(link.W.update_rule.state['v']) < np.finfo(np.float32).tiny))
