"""Unit tests of aae/: networks, losses, optimisers, updaters (tiny nets, fast)."""
import argparse

import numpy as np
import pytest

import chainer
import chainer.functions as F
from chainer import gradient_check, iterators, training
from chainer.serializers import DictionarySerializer, NpzDeserializer

from aae import loss as L
from aae.net import (ClusterHeadDecoder, Decoder, Discriminator, Encoder, dim_reduction_aae,
                     one_hot, one_hot_with_unlabelled)
from aae.optim import (ADAM_PHASE, ADAM_SEED, SGD_RECONSTRUCTION, SGD_REGULARIZATION, LRDrops,
                       activate, make_optimizers)
from aae.updater import (AAEUpdater, CategoricalAAEUpdater, DimReductionUpdater,
                         sample_categorical)

N_IN, H = 12, 8     # tiny stand-ins for 784 pixels and 1000 hidden units


def _f64(build):
    with chainer.using_config('dtype', np.float64):
        return build()


def _params(*links):
    return {'%d%s' % (i, name): p.array.copy()
            for i, link in enumerate(links) for name, p in link.namedparams()}


def _changed(before, links):
    after = _params(*links)
    return {k for k in before if not np.array_equal(before[k], after[k])}


def _gaussian_prior(n_z):
    rng = np.random.RandomState(3)
    return lambda n, labels, xp: rng.normal(size=(n, n_z)).astype('f')


# ---------------------------------------------------------------- networks
def test_encoder_decoder_discriminator_shapes():
    x = np.random.rand(5, N_IN).astype('f')
    enc = Encoder(2, n_in=N_IN, n_hidden=H)
    assert enc(x).shape == (5, 2)
    y_logits, z = Encoder(3, n_in=N_IN, n_hidden=H, n_y=4)(x)
    assert y_logits.shape == (5, 4) and z.shape == (5, 3)
    dec = Decoder(2, n_out=N_IN, n_hidden=H)
    out = dec(enc(x)).array
    assert out.shape == (5, N_IN) and (out > 0).all() and (out < 1).all()   # sigmoid
    cdec = Decoder(2, n_out=N_IN, n_hidden=H, n_cond=3)
    assert cdec(enc(x), one_hot(np.arange(5) % 3, 3)).shape == (5, N_IN)
    with pytest.raises(ValueError):
        cdec(enc(x))
    assert Discriminator(2, n_hidden=H)(enc(x)).shape == (5, 2)
    assert Discriminator(2, n_hidden=H, output='sigmoid')(enc(x)).shape == (5, 1)
    cdis = Discriminator(2, n_hidden=H, n_cond=4)
    assert cdis(enc(x), one_hot_with_unlabelled(np.array([0, 1, 2, 3, 3]), 3)).shape == (5, 2)
    with pytest.raises(ValueError):
        Discriminator(2, output='tanh')


def test_encoder_is_deterministic_and_weights_follow_paper_init():
    enc = Encoder(2, n_in=784, n_hidden=1000)
    x = np.random.rand(4, 784).astype('f')
    np.testing.assert_array_equal(enc(x).array, enc(x).array)
    assert abs(float(enc.body.l2.W.array.std()) - 0.01) < 5e-4    # N(0, 0.01^2)


def test_discriminator_noise_only_in_training():
    dis = Discriminator(2, n_hidden=H, noise_std=0.3)
    z = np.zeros((6, 2), 'f')
    with chainer.using_config('train', False):
        np.testing.assert_array_equal(dis(z).array, dis(z).array)
    with chainer.using_config('train', True):
        assert not np.allclose(dis(z).array, dis(z).array)


def test_one_hot_with_unlabelled_slot():
    oh = one_hot_with_unlabelled(np.array([0, 2, 10], 'i'), 10)
    assert oh.shape == (3, 11) and oh.dtype == np.float32
    np.testing.assert_array_equal(oh.argmax(1), [0, 2, 10])
    np.testing.assert_array_equal(oh.sum(1), 1)
    with pytest.raises(ValueError):
        one_hot_with_unlabelled(np.array([11]), 10)
    with pytest.raises(ValueError):
        one_hot(np.array([3]), 3)


@pytest.mark.parametrize('build, n_cond', [
    (lambda: Encoder(2, n_in=N_IN, n_hidden=H, weight_std=0.5), 0),
    (lambda: Encoder(2, n_in=N_IN, n_hidden=H, n_y=3, weight_std=0.5), 0),
    (lambda: Decoder(2, n_out=N_IN, n_hidden=H, n_cond=3, weight_std=0.5), 3),
    (lambda: Discriminator(2, n_hidden=H, n_cond=3, weight_std=0.5), 3),
    (lambda: Discriminator(2, n_hidden=H, output='sigmoid', weight_std=0.5), 0),
])
def test_network_gradients(build, n_cond):
    np.random.seed(0)          # weights and check_backward's direction: no flaky ReLU kink
    link = _f64(build)
    rng = np.random.RandomState(0)
    n_in = N_IN if isinstance(link, Encoder) else 2
    x = rng.uniform(-1, 1, (3, n_in))
    cond = np.eye(n_cond)[[0, 1, 2]] if n_cond else None

    def f(x):
        out = link(x, cond) if n_cond else link(x)
        return F.concat(out, axis=1) if isinstance(out, tuple) else out
    gy = rng.normal(size=f(x).shape)
    # float64 and a small step so that no ReLU kink lies inside the finite difference
    gradient_check.check_backward(f, x, gy, params=tuple(link.params()), dtype=np.float64,
                                  eps=1e-6, atol=1e-5, rtol=1e-4)


# ---------------------------------------------------------------- losses
def test_two_unit_softmax_equals_logistic_form_in_closed_form():
    rng = np.random.RandomState(1)
    a = rng.normal(0, 3, (7, 2))           # [a_fake, a_real]
    b = rng.normal(0, 3, (7, 2))
    s_real, s_fake = a[:, 1:] - a[:, :1], b[:, 1:] - b[:, :1]     # equivalent logits
    log_sig = lambda t: -np.logaddexp(0, -t)                        # log sigmoid(t)
    # P(real) = softmax(a)[1] = sigmoid(a_real - a_fake)
    np.testing.assert_allclose(L.p_real(a).array, 1 / (1 + np.exp(-s_real[:, 0])), 1e-12)
    np.testing.assert_allclose(L.p_real(s_real).array, L.p_real(a).array, 1e-12)
    # -(log D(real) + log(1 - D(fake))), both forms, against the hand-written formula
    expected = -np.mean(log_sig(s_real)) - np.mean(log_sig(-s_fake))
    np.testing.assert_allclose(float(L.discriminator_loss(a, b).array), expected, 1e-10)
    np.testing.assert_allclose(float(L.discriminator_loss(s_real, s_fake).array), expected,
                               1e-10)
    # generator: -log D(fake)
    np.testing.assert_allclose(float(L.generator_loss(b).array), -np.mean(log_sig(s_fake)),
                               1e-10)
    np.testing.assert_allclose(float(L.generator_loss(s_fake).array),
                               -np.mean(log_sig(s_fake)), 1e-10)
    with pytest.raises(ValueError):
        L.generator_loss(np.zeros((3, 3)))


def test_loss_values_at_chance_and_reconstruction_closed_form():
    zeros = np.zeros((4, 2))
    np.testing.assert_allclose(float(L.discriminator_loss(zeros, zeros).array), 2 * np.log(2))
    x = np.array([[0., 1., 0.5], [1., 1., 1.]])
    r = np.array([[0., 0., 0.5], [0., 1., 1.]])
    np.testing.assert_allclose(float(L.reconstruction_loss(r, x).array), (1 + 1) / 2)
    # the seed's F.mean_squared_error: also divided by the 3 pixels
    np.testing.assert_allclose(float(L.reconstruction_loss(r, x, 'mean').array), 1 / 3)
    with pytest.raises(ValueError):
        L.reconstruction_loss(r, x, 'max')


@pytest.mark.parametrize('fn, shape', [
    (lambda a, b: L.discriminator_loss(a, b), (4, 2)),
    (lambda a, b: L.discriminator_loss(a, b), (4, 1)),
    (lambda a, b: L.generator_loss(a) + L.reconstruction_loss(F.sigmoid(b), 0.3 + 0 * b),
     (4, 2)),
])
def test_loss_gradients(fn, shape):
    rng = np.random.RandomState(2)
    a, b = rng.normal(size=shape), rng.normal(size=shape)
    gradient_check.check_backward(fn, (a, b), np.array(1.0), dtype=np.float64)


def test_supervised_loss_gradient():
    rng = np.random.RandomState(4)
    t = np.array([0, 2, 1], 'i')
    gradient_check.check_backward(lambda y: L.supervised_loss(y, t), rng.normal(size=(3, 3)),
                                  np.array(1.0), dtype=np.float64)


def test_sample_categorical_is_uniform_one_hot():
    np.random.seed(0)
    y = sample_categorical(5000, 4)
    np.testing.assert_array_equal(y.sum(1), 1)
    np.testing.assert_allclose(y.mean(0), 0.25, atol=0.03)


def test_sample_categorical_with_class_probabilities():
    np.random.seed(0)
    probs = [0.1, 0.2, 0.7]
    y = sample_categorical(20000, 3, probs=probs)
    np.testing.assert_array_equal(y.sum(1), 1)
    np.testing.assert_allclose(y.mean(0), probs, atol=0.015)   # 4+ binomial sd


def test_categorical_updater_refuses_bad_class_probabilities():
    from aae.net import categorical_aae
    nets = dict(zip(['enc', 'dec', 'dis_z', 'dis_y'], categorical_aae(3, 2, N_IN, H)))
    its = {'main': chainer.iterators.SerialIterator(np.zeros((4, N_IN), 'f'), 2)}
    opts = {k: chainer.optimizers.Adam().setup(nets[k]) for k in nets}
    for bad in ([0.5, 0.5], [0.5, 0.6, -0.1], [0.2, 0.2, 0.2]):
        with pytest.raises(ValueError, match='3 probabilities summing to 1'):
            CategoricalAAEUpdater(its, opts, nets, _gaussian_prior(2), y_probs=bad)


# ---------------------------------------------------------------- optimisers
def test_optimizer_settings_and_separate_encoder_rules():
    enc, dec, dis = Encoder(2, N_IN, H), Decoder(2, N_IN, H), Discriminator(2, H)
    opts = make_optimizers(enc, dec, dis, 'sgd', supervised=True)
    assert (opts['enc'].lr, opts['enc'].momentum) == (SGD_RECONSTRUCTION['lr'],
                                                      SGD_RECONSTRUCTION['momentum'])
    assert (opts['gen'].lr, opts['gen'].momentum) == (SGD_REGULARIZATION['lr'],
                                                      SGD_REGULARIZATION['momentum'])
    assert (opts['dis'].lr, opts['sup'].lr) == (0.1, 0.1)
    assert opts['enc'].target is opts['gen'].target is enc
    for name in ('enc', 'gen', 'sup'):
        activate(opts[name])
        assert all(p.update_rule.hyperparam.lr == opts[name].lr for p in enc.params())
    adam = make_optimizers(enc, dec, dis, 'adam')
    assert 'gen' not in adam and adam['enc'].alpha == ADAM_SEED['alpha']
    assert adam['dis'].beta1 == 0.5
    # the seed's --grad-clip 5 on every optimiser: a gradient of norm 100 is scaled to 5
    for opt in adam.values():
        for p in opt.target.params():
            p.grad = np.full_like(p.array, 100.0 / np.sqrt(
                sum(q.size for q in opt.target.params())))
        opt.update()
        norm = np.sqrt(sum(float((q.grad ** 2).sum()) for q in opt.target.params()))
        assert norm == pytest.approx(5.0, rel=1e-4)
    with pytest.raises(ValueError):
        make_optimizers(enc, dec, dis, 'rmsprop')


@pytest.mark.parametrize('kind', ['sgd', 'adam-phase'])
def test_every_phase_optimizer_flushes_subnormal_state_every_100_updates(kind):
    enc, dec, dis = Encoder(2, N_IN, H), Decoder(2, N_IN, H), Discriminator(2, H)
    opts = make_optimizers(enc, dec, dis, kind, supervised=True)
    sub = np.float32(1e-40)                  # below float32's smallest normal
    for name in ('enc', 'gen'):              # two optimisers on one encoder, own state each
        activate(opts[name])
        param = next(enc.params())

        def step(value):
            """one update with a zero gradient, a subnormal put in the state before it"""
            param.grad = np.zeros_like(param.array)
            if param.update_rule.state:
                next(iter(param.update_rule.state.values()))[0, 0] = value
            param.update_rule.update(param)
            return next(iter(param.update_rule.state.values()))[0, 0]

        values = [step(sub) for _ in range(101)]
        # decayed but still subnormal after updates 1..99 and 101; zeroed after update 100
        assert all(0 < v < sub for v in values[1:99] + values[100:]), values[:3]
        assert values[99] == 0 and param.update_rule.t == 101



def test_phase_adam_gives_each_phase_its_own_adam_and_lr_overrides():
    enc, dec, dis = Encoder(2, N_IN, H), Decoder(2, N_IN, H), Discriminator(2, H)
    opts = make_optimizers(enc, dec, dis, 'adam-phase', supervised=True)
    assert all(isinstance(o, chainer.optimizers.Adam) for o in opts.values())
    assert len({id(opts[k]) for k in ('enc', 'gen', 'sup')}) == 3      # three for the encoder
    assert (opts['enc'].alpha, opts['gen'].alpha, opts['sup'].alpha, opts['dis'].alpha) == (
        ADAM_PHASE['rec']['alpha'], ADAM_PHASE['reg']['alpha'], ADAM_PHASE['sup']['alpha'],
        ADAM_PHASE['reg']['alpha'])
    for name in ('enc', 'gen', 'sup'):          # each keeps its own rules (moments) on enc
        activate(opts[name])
        assert all(p.update_rule.hyperparam.alpha == opts[name].alpha for p in enc.params())
    over = make_optimizers(enc, dec, dis, 'adam-phase', supervised=True,
                           lr={'reg': 3e-4, 'sup': 2e-3})
    assert (over['enc'].alpha, over['gen'].alpha, over['dis'].alpha, over['sup'].alpha) == (
        ADAM_PHASE['rec']['alpha'], 3e-4, 3e-4, 2e-3)
    sgd = make_optimizers(enc, dec, dis, 'sgd', lr={'rec': 0.05})
    assert sgd['enc'].lr == 0.05 and sgd['enc'].momentum == SGD_RECONSTRUCTION['momentum']
    assert sgd['gen'].lr == SGD_REGULARIZATION['lr']


def test_phase_lr_option_parsing_and_refusal_with_the_seeds_single_adam():
    from aae.options import phase_lr, phase_lrs
    from expkit import UsageError
    assert phase_lrs('rec=1e-3,sup=0.002') == {'rec': 1e-3, 'sup': 0.002}
    for bad in ('gen=0.1', 'rec=-1', 'rec=x', 'rec=1,rec=2', 'rec'):
        with pytest.raises(argparse.ArgumentTypeError, match='rec/reg/sup'):
            phase_lrs(bad)
    args = argparse.Namespace(optimizer='adam', phase_lr={'rec': 1e-3})
    with pytest.raises(UsageError, match='--set optimizer=sgd or adam-phase'):
        phase_lr(args)
    args.optimizer = 'adam-phase'
    assert phase_lr(args) == {'rec': 1e-3}


def test_encoder_input_noise_only_in_training_with_its_std():
    """The paper's placement (Sec. 5): N(0, 0.3^2) on the encoder's input, training only."""
    enc = Encoder(2, N_IN, H, input_noise=0.3)
    seen = []
    l1 = enc.body.l1
    enc.body.l1 = lambda x: (seen.append(np.array(x.array if hasattr(x, 'array') else x)),
                             l1(x))[1]
    x = np.full((400, N_IN), 0.5, dtype='f')
    with chainer.using_config('train', True):
        enc(x)
    noise = seen[-1] - x
    assert noise.std() == pytest.approx(0.3, rel=0.03) and abs(noise.mean()) < 0.01
    with chainer.using_config('train', False):
        enc(x)
    np.testing.assert_array_equal(seen[-1], x)                       # clean at test time
    assert Encoder(2, N_IN, H).input_noise == 0.0                    # off unless asked

# ---------------------------------------------------------------- updaters
def _aae(kind='sgd', label_prior=False, decoder_labels=False, n_classes=0, output='softmax'):
    rng = np.random.RandomState(0)
    x = rng.rand(20, N_IN).astype('f')
    labels = (np.arange(20) % (n_classes + 1)).astype('i') if n_classes else None
    if decoder_labels:
        labels = labels % n_classes
    data = x if labels is None else chainer.datasets.TupleDataset(x, labels)
    enc = Encoder(2, N_IN, H)
    dec = Decoder(2, N_IN, H, n_cond=n_classes if decoder_labels else 0)
    dis = Discriminator(2, H, output=output, n_cond=n_classes + 1 if label_prior else 0)
    opts = make_optimizers(enc, dec, dis, kind)
    seen = []

    def prior(n, labels, xp):
        seen.append(labels)
        return xp.random.normal(size=(n, 2)).astype('f')
    up = AAEUpdater(iterators.SerialIterator(data, 5), opts,
                    {'enc': enc, 'dec': dec, 'dis': dis}, prior, n_classes=n_classes,
                    label_prior=label_prior, decoder_labels=decoder_labels)
    return up, enc, dec, dis, x, labels, seen


@pytest.mark.parametrize('kind', ['sgd', 'adam'])
def test_each_phase_moves_only_its_own_parameters(kind):
    up, enc, dec, dis, x, _, _ = _aae(kind)
    for _ in range(2):                  # also with momentum buffers already filled
        before = _params(enc, dec, dis)
        up.update_reconstruction(x[:5])
        changed = _changed(before, [enc, dec, dis])
        assert changed and all(k[0] in '01' for k in changed)          # enc, dec only
        assert any(k[0] == '0' for k in changed) and any(k[0] == '1' for k in changed)

        before = _params(enc, dec, dis)
        up.update_discriminator(x[:5])
        changed = _changed(before, [enc, dec, dis])
        assert changed and all(k[0] == '2' for k in changed)           # dis only

        before = _params(enc, dec, dis)
        up.update_generator(x[:5])
        changed = _changed(before, [enc, dec, dis])
        assert changed and all(k[0] == '0' for k in changed)           # enc only


def test_updater_reconstruction_reduction_and_option_defaults():
    up, enc, dec, _, x, _, _ = _aae('sgd')
    with chainer.no_backprop_mode():
        sse = float(L.reconstruction_loss(dec(enc(x[:5])), x[:5]).array)
    assert float(up.update_reconstruction(x[:5]).array) == pytest.approx(sse, rel=1e-5)
    up, enc, dec, _, x, _, _ = _aae('sgd')
    up.rec_loss = 'mean'
    assert float(up.update_reconstruction(x[:5]).array) == pytest.approx(sse / N_IN, rel=1e-5)
    from aae.options import add_aae_options
    from expkit import make_parser
    parser = make_parser('t', epoch=1, batchsize=1, out='o')
    add_aae_options(parser)
    for argv, want in (([], 'sum'), (['--set', 'optimizer=adam'], 'mean'),
                       (['--set', 'optimizer=adam', '--set', 'rec-loss=sum'], 'sum')):
        assert parser.parse_args(argv).rec_loss == want      # resolved by the parser


def test_generator_phase_keeps_reconstruction_momentum():
    up, enc, _, _, x, _, _ = _aae('sgd')
    up.update_reconstruction(x[:5])
    rec = up.get_optimizer('enc')
    v_before = {k: r.state['v'].copy() for k, r in rec.aae_rules.items()}
    up.update_generator(x[:5])
    up.update_discriminator(x[:5])
    for k, r in rec.aae_rules.items():
        np.testing.assert_array_equal(r.state['v'], v_before[k])
    gen = up.get_optimizer('gen')
    assert any(np.abs(r.state['v']).sum() > 0 for r in gen.aae_rules.values())


def test_discriminator_phase_learns_prior_from_codes():
    np.random.seed(0)
    up, enc, dec, dis, x, _, _ = _aae('adam', output='sigmoid')
    up.get_optimizer('dis').alpha = 1e-2      # tiny net, few steps: a larger step
    up.prior = lambda n, labels, xp: np.random.normal(5.0, 0.1, (n, 2)).astype('f')
    first = float(up.update_discriminator(x[:10])[0].array)
    for _ in range(150):
        loss, d_real, d_fake = up.update_discriminator(x[:10])
    assert float(loss.array) < 0.5 * first
    assert float(L.p_real(d_real).array.mean()) > 0.8 > 0.2 > float(L.p_real(d_fake).array.mean())


def test_label_prior_passes_labels_and_conditions_discriminator():
    up, enc, dec, dis, x, labels, seen = _aae(n_classes=3, label_prior=True)
    before = _params(dis)
    up.update_discriminator(x[:8], labels[:8])
    np.testing.assert_array_equal(seen[-1], labels[:8])
    assert 3 in seen[-1]                                    # the "unlabelled" slot is used
    assert _changed(before, [dis])
    with pytest.raises(ValueError):
        AAEUpdater(iterators.SerialIterator(x, 5), up.get_all_optimizers(),
                   {'enc': enc, 'dec': dec, 'dis': dis}, up.prior, label_prior=True)


def test_supervised_decoder_and_trainer_reports(tmp_path):
    up, enc, dec, dis, x, labels, _ = _aae(n_classes=4, decoder_labels=True)
    trainer = training.Trainer(up, (2, 'iteration'), out=str(tmp_path))
    seen = {}
    trainer.extend(lambda t: seen.update(t.observation), trigger=(1, 'iteration'))
    trainer.run()
    for key in ('main/loss_rec', 'main/loss_dis', 'main/loss_gen', 'main/d_real',
                'main/d_fake'):
        assert np.isfinite(float(seen[key].array))


def test_snapshot_restores_each_optimizers_own_state(tmp_path):
    up, enc, _, _, x, _, _ = _aae('sgd')
    up.update_core()
    ser = DictionarySerializer()
    up.serialize(ser)
    fresh, enc2, _, _, _, _, _ = _aae('sgd')
    fresh.serialize(NpzDeserializer(ser.target))
    for name in ('enc', 'gen', 'dis'):
        a, b = up.get_optimizer(name).aae_rules, fresh.get_optimizer(name).aae_rules
        for k in a:
            np.testing.assert_array_equal(a[k].state['v'], b[k].state['v'])
    assert not np.array_equal(fresh.get_optimizer('enc').aae_rules['/body/l1/W'].state['v'],
                              fresh.get_optimizer('gen').aae_rules['/body/l1/W'].state['v'])
    np.testing.assert_array_equal(enc.body.l1.W.array, enc2.body.l1.W.array)


def test_lr_drops_at_given_updates(tmp_path):
    up, *_ = _aae('sgd')           # 20 examples, batch 5: 4 iterations per epoch
    trainer = training.Trainer(up, (12, 'iteration'), out=str(tmp_path))
    trainer.extend(LRDrops(up.get_all_optimizers().values(), (3, 9)))
    seen = []
    trainer.extend(lambda t: seen.append((t.updater.iteration, up.get_optimizer('enc').lr)),
                   trigger=(1, 'iteration'), priority=training.PRIORITY_WRITER)  # after drops
    trainer.run()
    # the lr in force for the next update: base until 3 updates, /10 until 9, then /100
    assert [lr for _, lr in seen] == pytest.approx([0.01] * 2 + [1e-3] * 6 + [1e-4] * 4)
    np.testing.assert_allclose(up.get_optimizer('gen').lr, 0.1 * 0.01)


@pytest.mark.parametrize('kind', ['adam', 'adam-phase'])
def test_lr_drops_scale_adams_alpha(kind, tmp_path):
    """--lr-drop-updates also divides Adam's alpha (each optimiser once, even when the seed's
    single Adam serves several phases)."""
    up, *_ = _aae(kind)
    base = {name: opt.alpha for name, opt in up.get_all_optimizers().items()}
    trainer = training.Trainer(up, (5, 'iteration'), out=str(tmp_path))
    trainer.extend(LRDrops(up.get_all_optimizers().values(), (2, 4)))
    trainer.run()
    for name, opt in up.get_all_optimizers().items():
        np.testing.assert_allclose(opt.alpha, base[name] * 0.01, rtol=1e-6, err_msg=name)


@pytest.mark.parametrize('n, batch, epochs, want', [
    (20, 5, (1, 2), [4, 8]), (50000, 100, (50, 1000), [25000, 500000]),
    (5000, 100, (50, 1000), [2500, 50000]), (30, 7, (1,), [5])])
def test_lr_drop_epochs_convert_with_this_runs_epoch(n, batch, epochs, want):
    from aae.optim import drop_updates
    it = iterators.SerialIterator(np.zeros((n, 1), 'f'), batch)
    up = chainer.training.StandardUpdater(it, chainer.optimizers.SGD())
    assert drop_updates(up, (epochs, 'epoch')) == want
    assert drop_updates(up, ((25000, 500000), 'update')) == [25000, 500000]


def test_lr_drop_options_default_and_exclusive():
    import argparse
    from aae.optim import LR_DROP_UPDATES
    from aae.options import add_aae_options, lr_drops
    from expkit import make_parser
    from expkit.validate import update_list
    parser = make_parser('t', epoch=1, batchsize=1, out='o')
    add_aae_options(parser)
    assert LR_DROP_UPDATES == (25000, 500000)
    assert lr_drops(parser.parse_args([])) == ((25000, 500000), 'update')
    assert lr_drops(parser.parse_args(['--set', 'lr-drop=3,7'])) == ((3, 7), 'epoch')
    assert lr_drops(parser.parse_args(['--set', 'lr-drop-updates=10'])) == ((10,), 'update')
    assert lr_drops(parser.parse_args(['--set', 'lr-drop-updates='])) == ((), 'update')
    assert lr_drops(parser.parse_args(['--set', 'optimizer=adam-phase'])) == ((), 'update')
    assert lr_drops(parser.parse_args(['--set', 'optimizer=adam',
                                       '--set', 'lr-drop-updates=9'])) == ((9,), 'update')
    with pytest.raises(argparse.ArgumentTypeError, match='like 25000,500000'):
        update_list('x')
    for bad in (['--set', 'lr-drop-updates=x'], ['--set', 'lr-drop-updates=-1'],
                ['--set', 'lr-drop=1.5']):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)
    with pytest.raises(SystemExit):
        parser.parse_args(['--set', 'lr-drop=1', '--set', 'lr-drop-updates=2'])


def test_lr_drop_resumed_mid_schedule(tmp_path):
    """A trainer resumed from a snapshot after the first drop starts with the dropped lr."""
    from chainer.serializers import load_npz, save_npz
    up, *_ = _aae('sgd')
    trainer = training.Trainer(up, (6, 'iteration'), out=str(tmp_path))
    trainer.extend(LRDrops(up.get_all_optimizers().values(), (4, 100)))
    trainer.run()
    save_npz(str(tmp_path / 's.npz'), trainer)
    fresh, *_ = _aae('sgd')
    trainer2 = training.Trainer(fresh, (7, 'iteration'), out=str(tmp_path))
    trainer2.extend(LRDrops(fresh.get_all_optimizers().values(), (4, 100)))
    load_npz(str(tmp_path / 's.npz'), trainer2)
    assert fresh.get_optimizer('gen').lr == 0.1                  # not restored by the snapshot
    seen, update = [], fresh.update_core

    def recording_update():
        seen.append(fresh.get_optimizer('gen').lr)                # the lr this update uses
        update()
    fresh.update_core = recording_update
    trainer2.run()
    assert fresh.iteration == 7 and seen == pytest.approx([0.1 * 0.1])


def _categorical(labelled=True):
    rng = np.random.RandomState(0)
    x = rng.rand(20, N_IN).astype('f')
    t = (np.arange(20) % 3).astype('i')
    enc = Encoder(2, N_IN, H, n_y=3)
    dec, dis = Decoder(2, N_IN, H, n_cond=3), Discriminator(2, H)
    dis_y = Discriminator(3, H)
    opts = make_optimizers(enc, dec, dis, 'sgd', extra_dis={'dis_y': dis_y},
                           supervised=labelled)
    its = {'main': iterators.SerialIterator(x, 5)}
    if labelled:
        its['labelled'] = iterators.SerialIterator(chainer.datasets.TupleDataset(x, t), 5)
    up = CategoricalAAEUpdater(its, opts, {'enc': enc, 'dec': dec, 'dis_z': dis,
                                           'dis_y': dis_y}, _gaussian_prior(2))
    return up, (enc, dec, dis, dis_y), x, t


def test_categorical_phases_move_only_their_parameters():
    up, links, x, t = _categorical()
    owner = lambda changed: {int(k[0]) for k in changed}
    before = _params(*links)
    up.update_reconstruction(x[:5])
    assert owner(_changed(before, links)) == {0, 1}
    before = _params(*links)
    up.update_discriminators(x[:5])
    assert owner(_changed(before, links)) == {2, 3}
    before = _params(*links)
    up.update_generator(x[:5])
    assert owner(_changed(before, links)) == {0}
    before = _params(*links)
    up.update_supervised(x[:5], t[:5])
    assert owner(_changed(before, links)) == {0}


def test_supervised_only_baseline_trains_the_encoder_alone():
    """Ablation baseline: one update = the supervised phase only; decoder and Ds stay put."""
    up, links, x, t = _categorical()
    up.supervised_only = True
    before = _params(*links)
    with chainer.using_config('train', False):
        expected = L.supervised_loss(links[0](x[:5])[0], t[:5])
    seen = {}
    with chainer.Reporter().scope(seen):
        up.update()
    assert {int(k[0]) for k in _changed(before, links)} == {0}
    assert set(seen) == {'main/loss_sup', 'main/acc_sup'}
    np.testing.assert_allclose(float(seen['main/loss_sup'].array), float(expected.array),
                               rtol=1e-5)
    with pytest.raises(ValueError):
        nets = _categorical_nets()
        opts = make_optimizers(nets['enc'], nets['dec'], nets['dis_z'], 'sgd',
                               extra_dis={'dis_y': nets['dis_y']})
        its = {'main': iterators.SerialIterator(x, 5)}
        CategoricalAAEUpdater(its, opts, nets, _gaussian_prior(2), supervised_only=True)


def test_categorical_updater_reports_supervised_loss_only_with_labels(tmp_path):
    for labelled in (True, False):
        up, _, _, _ = _categorical(labelled)
        trainer = training.Trainer(up, (1, 'iteration'), out=str(tmp_path))
        seen = {}
        trainer.extend(lambda t: seen.update(t.observation), trigger=(1, 'iteration'))
        trainer.run()
        assert ('main/loss_sup' in seen) == labelled
        assert np.isfinite(float(seen['main/loss_gen'].array))


# ---------------------------------------------------------------- priors / evaluation
@pytest.mark.parametrize('name', ['mixture', 'swissroll'])
def test_component_of_inverts_the_label_prior(name):
    from aae.priors import component_of, sample_prior
    labels = np.repeat(np.arange(10), 200)
    z, k = sample_prior(name, len(labels), labels=labels)
    np.testing.assert_array_equal(k, labels)
    assert (component_of(name, z) == labels).mean() > 0.9      # thin, well separated parts
    z_any, k_any = sample_prior(name, 2000, labels=np.full(2000, 10))   # 10 = unlabelled
    assert len(np.unique(k_any)) == 10


@pytest.mark.parametrize('name', ['mixture', 'swissroll'])
def test_prior_mmd_tells_a_match_from_codes_on_the_wrong_component(name):
    from aae.evaluate import prior_mmd
    from aae.priors import sample_prior
    labels = np.repeat(np.arange(10), 150)
    z_own = sample_prior(name, len(labels), labels=labels, rng=1)[0]
    z_swapped = sample_prior(name, len(labels), labels=(labels + 1) % 10, rng=2)[0]
    own = prior_mmd(z_own, name, n=600, repeats=5, labels=labels)
    swapped = prior_mmd(z_swapped, name, n=600, repeats=5, labels=labels)
    for m in (own, swapped):
        # the floor is unbiased noise around 0; a sample of the prior lies within it
        assert abs(m['mmd2_prior_vs_prior']) < 5 * m['mmd2_prior_vs_prior_sd'] + 1e-12
        assert m['mmd_n_points'] == 600 and m['mmd_floor_repeats'] == 5
    # codes from the prior itself: both statistics at the floor
    assert own['mmd2_codes_vs_prior'] < 5 * own['mmd2_prior_vs_prior_sd']
    assert own['mmd2_codes_vs_prior_by_class'] < 5 * own['mmd2_prior_vs_prior_by_class_sd']
    # every digit on its neighbour's component: the marginal still matches, per class not
    assert swapped['mmd2_codes_vs_prior'] < 5 * swapped['mmd2_prior_vs_prior_sd']
    assert swapped['mmd2_codes_vs_prior_by_class'] > 50 * own['mmd2_prior_vs_prior_by_class_sd']
    shifted = prior_mmd(z_own + 1.0, name, n=600, repeats=5)
    assert shifted['mmd2_codes_vs_prior'] > 50 * shifted['mmd2_prior_vs_prior_sd']
    assert 'mmd2_codes_vs_prior_by_class' not in shifted
    # repeats=0 (the per-epoch detector): the same codes' statistic, and no floor
    alone = prior_mmd(z_own + 1.0, name, n=600, repeats=0)
    assert alone['mmd2_codes_vs_prior'] == shifted['mmd2_codes_vs_prior']
    assert 'mmd2_prior_vs_prior' not in alone and alone['mmd_floor_repeats'] == 0


@pytest.mark.parametrize('name', ['mixture', 'swissroll'])
def test_prior_distance_separates_codes_on_the_support_from_codes_off_it(name):
    from aae.evaluate import prior_distance
    from aae.priors import sample_prior
    z = sample_prior(name, 2000, rng=3)[0]
    on = prior_distance(z, name, n_ref=20000, far=0.1)
    # codes drawn from the prior score as its own fresh samples do
    assert on['code_distance_to_prior_median'] < 2 * on['prior_distance_to_prior_median']
    assert abs(on['codes_far_from_prior_fraction'] - on['prior_far_from_prior_fraction']) < 0.03
    assert on['distance_n_ref'] == 20000 and on['far_threshold'] == 0.1
    # the same codes with a fifth of them pushed 1.0 off the support
    off = z.copy()
    off[::5] += np.float32([0.0, 1.0]) if name == 'swissroll' else np.float32([5.0, 5.0])
    moved = prior_distance(off, name, n_ref=20000, far=0.1)
    assert moved['codes_far_from_prior_fraction'] > on['codes_far_from_prior_fraction'] + 0.1
    assert moved['code_distance_to_prior_p90'] > 2 * on['code_distance_to_prior_p90']


def test_percentile_grid_and_encode_decode_helpers():
    from aae.evaluate import decode, encode, gaussian_percentile_grid, reconstruction_errors
    g = gaussian_percentile_grid(5)
    assert g.shape == (25, 2)
    np.testing.assert_allclose(g[0], [-1.6448536, 1.6448536], rtol=1e-5)  # 5 % / 95 %
    np.testing.assert_allclose(g[12], [0, 0], atol=1e-7)                    # median
    enc, dec = Encoder(2, N_IN, H), Decoder(2, N_IN, H)
    x = np.random.rand(7, N_IN).astype('f')
    z = encode(enc, x, batchsize=3)
    np.testing.assert_allclose(z, enc(x).array, rtol=1e-5, atol=1e-7)
    mse, sse = reconstruction_errors(enc, dec, x)
    np.testing.assert_allclose(mse * N_IN, sse, rtol=1e-5)
    np.testing.assert_allclose(mse, ((decode(dec, z) - x) ** 2).mean(), rtol=1e-5)


def test_cluster_labels_follow_the_papers_rule_not_the_majority():
    """Sec. 6: cluster i takes the label of the one image most sure of it; a majority vote
    (ours, a diagnostic) may disagree, and the classifier and the scores follow each."""
    from aae.evaluate import cluster_classifier, clustering_scores, label_clusters
    enc = lambda x: (x[:, :2], x[:, 2:])        # logits of 2 clusters, a 1-D style code
    x_label = np.float32([[9, 0, 0], [1, 0, 0], [1, 0, 0], [0, 9, 0]])
    y_label = np.int32([7, 1, 1, 2])            # cluster 0: one sure 7, two unsure 1s
    q, rule = label_clusters(enc, x_label, y_label)
    assert q.shape == (4, 2) and rule == {0: 7, 1: 2}
    assert label_clusters(enc, x_label, y_label, majority=True)[1] == {0: 1, 1: 2}
    x_test = np.float32([[5, 0, 0], [0, 5, 0]])
    np.testing.assert_array_equal(cluster_classifier(enc, x_label, y_label, 2)(x_test), [7, 2])
    np.testing.assert_array_equal(
        cluster_classifier(enc, x_label, y_label, 2, majority=True)(x_test), [1, 2])
    # three test images of cluster 0 (two 1s, one 7) and one of cluster 1; a third, empty
    scores = clustering_scores(np.int64([0, 0, 0, 1]), np.int32([1, 1, 7, 2]), {0: 7, 1: 2, 2: 0},
                               {0: 1, 1: 2, 2: 0}, n_clusters=3)
    assert scores['test_error_percent'] == 50 and scores['test_error_percent_majority_rule'] == 25
    assert scores['cluster_labels'] == [7, 2, 0] and scores['test_cluster_sizes'] == [3, 1, 0]
    assert scores['n_empty_test_clusters'] == 1 and scores['test_hungarian_accuracy'] == 0.75


@pytest.mark.parametrize('name', ['mixture', 'swissroll'])
def test_codes_on_their_own_component_score_high_and_swapped_ones_low(name):
    from aae.evaluate import own_component_scores, training_code_scores
    from aae.priors import sample_prior
    labels = np.repeat(np.arange(10), 100)
    z = sample_prior(name, len(labels), labels=labels, rng=4)[0]
    own = own_component_scores(z, labels, name)
    assert own['test_codes_on_own_component'] > 0.9
    assert min(own['test_codes_on_own_component_per_digit']) > 0.7
    # the labelled half on its own component, the other half on its neighbour's
    seen = np.arange(len(labels)) % 2 == 0
    z_mixed = np.where(seen[:, None], z, sample_prior(name, len(labels), labels=(labels + 1) % 10,
                                                      rng=5)[0])
    train = training_code_scores(z_mixed, labels, seen, name, n_classes=10)
    assert train['n_codes'] == 1000 and train['n_labelled'] == 500
    assert train['on_own_component_labelled'] > 0.9 > 0.2 > train['on_own_component_unlabelled']
    assert train['codes_far_from_prior_fraction_labelled'] < 0.1     # all on the support


def test_codes_beside_prior_share_square_axes_that_hold_both():
    from aae import figures
    z = np.random.RandomState(0).randn(500, 3).astype('f') * 3
    z_prior = np.random.RandomState(1).randn(500, 2).astype('f')
    fig = figures.codes_beside_prior(z, np.arange(500) % 10, z_prior, None, 'codes', 'prior',
                                     axis_names=True)
    left, right = fig.axes[:2]
    assert left.get_xlim() == right.get_xlim() == left.get_ylim() == right.get_ylim()
    assert left.get_xlim()[1] >= np.percentile(np.abs(z[:, :2]), 99)
    assert right.get_xlabel() == 'z1' and right.get_title() == 'prior'


# ------------------------------------------------------- categorical AAE (Sec. 5/6) fidelity
def test_categorical_aae_puts_seed_noise_before_both_discriminators():
    """Seed code: GaussianNoise(0.3) first in discriminator_z AND discriminator_y.

    Regression: D_y had no input noise, separated softmax outputs from exact one-hots and
    won for good, and the 16-cluster code collapsed to 2 clusters.
    """
    from aae.net import categorical_aae
    enc, dec, dis_z, dis_y = categorical_aae(4, 2, N_IN, H, dis_noise=0.3)   # --recipe seed
    assert dis_z.noise_std == 0.3 and dis_y.noise_std == 0.3 and enc.input_noise == 0
    y = np.eye(4, dtype='f')
    with chainer.using_config('train', True):
        assert not np.allclose(dis_y(y).array, dis_y(y).array)       # noisy in training
    with chainer.using_config('train', False):
        np.testing.assert_array_equal(dis_y(y).array, dis_y(y).array)  # clean at test time
    x = np.random.RandomState(0).rand(3, N_IN).astype('f')
    y_logits, z = enc(x)
    assert y_logits.shape == (3, 4) and z.shape == (3, 2)
    assert dec(z, F.softmax(y_logits)).shape == (3, N_IN)


def test_categorical_head_starts_near_uniform():
    """N(0, 0.01^2) weights: softmax q(y|x) starts close to uniform over the clusters."""
    from aae.net import categorical_aae
    enc = categorical_aae(16, 5, 784, 100)[0]
    x = np.random.RandomState(0).rand(10, 784).astype('f')
    q = F.softmax(enc(x)[0]).array
    np.testing.assert_allclose(q, 1 / 16, atol=0.01)


def test_categorical_reconstruction_backprops_through_y():
    """Phase 1 feeds softmax(y_logits), not a detached copy, to the decoder (Fig. 8)."""
    up, (enc, dec, dis, dis_y), x, _ = _categorical(labelled=False)
    y_logits, z = enc(x[:5])
    loss = L.reconstruction_loss(dec(z, F.softmax(y_logits)), x[:5])
    enc.cleargrads()
    loss.backward()
    # gradient reaches the rows of the last layer that produce the y logits
    assert np.abs(enc.body.l3.W.grad[:3]).sum() > 0


def test_categorical_prior_and_generator_targets():
    """D_y's real inputs are uniform one-hot draws; the generator targets REAL for y and z."""
    y = sample_categorical(6000, 3)
    assert set(np.unique(y)) == {0.0, 1.0} and (y.sum(1) == 1).all()
    np.testing.assert_allclose(y.mean(0), 1 / 3, atol=0.03)
    up, (enc, dec, dis, dis_y), x, _ = _categorical(labelled=False)
    with chainer.using_config('train', False):        # no D input noise: deterministic
        y_logits, z = enc(x[:5])
        expected = (L.generator_loss(dis_y(F.softmax(y_logits))) + L.generator_loss(dis(z)))
        got = up.update_generator(x[:5])
    np.testing.assert_allclose(got.array, expected.array, rtol=1e-5)


def test_labelled_reconstruction_option_uses_true_one_hot():
    """Seed option: phase 1 adds ||x_l - dec(z_l, one_hot(t_l))||^2 to the unlabelled cost."""
    up, (enc, dec, dis, dis_y), x, t = _categorical()
    with chainer.using_config('train', False):
        y_logits, z = enc(x[:5])
        base = L.reconstruction_loss(dec(z, F.softmax(y_logits)), x[:5])
        z_l = enc(x[5:10])[1]
        extra = L.reconstruction_loss(dec(z_l, one_hot(t[5:10], 3)), x[5:10])
        got = up.update_reconstruction(x[:5], x[5:10], t[5:10])
    np.testing.assert_allclose(got.array, base.array + extra.array, rtol=1e-5)
    with pytest.raises(ValueError):
        _categorical_no_labels_with_rec()


def _categorical_nets():
    return {'enc': Encoder(2, N_IN, H, n_y=3), 'dec': Decoder(2, N_IN, H, n_cond=3),
            'dis_z': Discriminator(2, H), 'dis_y': Discriminator(3, H)}


def _categorical_no_labels_with_rec():
    nets = _categorical_nets()
    opts = make_optimizers(nets['enc'], nets['dec'], nets['dis_z'], 'sgd',
                           extra_dis={'dis_y': nets['dis_y']})
    its = {'main': iterators.SerialIterator(np.zeros((4, N_IN), 'f'), 2)}
    return CategoricalAAEUpdater(its, opts, nets, _gaussian_prior(2),
                                 labelled_reconstruction=True)


# ---------------------------------------------------------------- Sec. 7: cluster heads
def test_cluster_head_decoder_adds_the_head_of_y_to_z():
    dec = ClusterHeadDecoder(2, 4, N_IN, H)
    w = dec.head_positions()
    assert w.shape == (4, 2) and 0.3 < w.std() < 3          # heads start at N(0, 1)
    z = np.random.RandomState(0).normal(size=(4, 2)).astype('f')
    r = dec.representation(z, np.eye(4, dtype='f')).array
    np.testing.assert_allclose(r, w + z, rtol=1e-6)          # one-hot y picks head i
    with chainer.using_config('train', False):
        np.testing.assert_allclose(dec(z, np.eye(4, dtype='f')).array, dec.body(r).array)
    with pytest.raises(ValueError):
        dec(z)
    enc, dec, dis_z, dis_y = dim_reduction_aae(5, 2, N_IN, H)
    y_logits, z = enc(np.zeros((3, N_IN), 'f'))
    assert y_logits.shape == (3, 5) and z.shape == (3, 2)
    assert dec(z, F.softmax(y_logits)).shape == (3, N_IN) and dis_y.noise_std == 0.3


def test_cluster_head_loss_closed_form_and_gradient():
    # heads at 0, 1 and 5 on a line, eta = 2: only the pair (0, 1) is penalised, 2 - 1 = 1
    heads = np.array([[0., 0.], [1., 0.], [5., 0.]])
    assert float(L.cluster_head_loss(heads, 2.0).array) == pytest.approx(1.0)
    assert float(L.cluster_head_loss(heads, 0.5).array) == 0.0
    rng = np.random.RandomState(5)
    gradient_check.check_backward(lambda w: L.cluster_head_loss(w, 3.0),
                                  rng.normal(size=(4, 2)), np.array(1.0), dtype=np.float64)


def _dim_reduction(kind='sgd'):
    rng = np.random.RandomState(0)
    x = rng.rand(20, N_IN).astype('f')
    enc, dec, dis, dis_y = dim_reduction_aae(4, 2, N_IN, H)
    for link in (enc, dec.body):           # N(0, 0.01^2) weights give the heads a float32-
        for p in link.params():            # invisible first step in so tiny a net
            p.array[...] *= 100
    opts = make_optimizers(enc, dec.body, dis, kind, extra_dis={'dis_y': dis_y},
                           heads=dec.heads)
    up = DimReductionUpdater({'main': iterators.SerialIterator(x, 5)}, opts,
                             {'enc': enc, 'dec': dec, 'dis_z': dis, 'dis_y': dis_y},
                             _gaussian_prior(2), threshold=100.0)
    return up, (enc, dec.body, dec.heads, dis, dis_y), x


@pytest.mark.parametrize('kind', ['sgd', 'adam'])
def test_dim_reduction_phases_move_only_their_parameters(kind):
    up, links, x = _dim_reduction(kind)
    owner = lambda changed: {int(k[0]) for k in changed}
    before = _params(*links)
    up.update_reconstruction(x[:5])
    assert owner(_changed(before, links)) == {0, 1, 2}     # enc, decoder body, heads
    before = _params(*links)
    up.update_discriminators(x[:5])
    assert owner(_changed(before, links)) == {3, 4}
    before = _params(*links)
    up.update_generator(x[:5])
    assert owner(_changed(before, links)) == {0}
    before = _params(*links)
    d_before = L.cluster_head_loss(links[2].W.array.T, 100.0).array
    up.update_heads()
    assert owner(_changed(before, links)) == {2}           # heads only, pushed apart
    assert float(L.cluster_head_loss(links[2].W.array.T, 100.0).array) < float(d_before)
    up.update_core()
    with pytest.raises(ValueError):
        DimReductionUpdater({'main': iterators.SerialIterator(x, 5)}, up.get_all_optimizers(),
                            {'enc': links[0], 'dec': links[1], 'dis_z': links[3],
                             'dis_y': links[4]}, up.prior, 1.0)


# ---------------------------------------------------------------- the prior object
def test_prior_object_samples_by_label_on_the_callers_array_module():
    from aae.priors import Prior, component_of
    labels = np.arange(2000) % 10
    z = Prior('mixture', 2, n_classes=10)(2000, labels, np)
    assert z.dtype == np.float32 and z.shape == (2000, 2)
    assert (component_of('mixture', z) == labels).mean() > 0.9
    g = Prior('gaussian', 4, std=5.0)(5000)
    assert g.shape == (5000, 4) and 4.7 < g.std() < 5.3
    with pytest.raises(ValueError, match='unknown prior'):
        Prior('uniform')


@pytest.mark.gpu
def test_prior_object_samples_on_the_gpu():
    cupy = pytest.importorskip('cupy')
    from aae.priors import Prior
    for name in ('gaussian', 'mixture', 'swissroll'):
        z = Prior(name, 2)(100, cupy.arange(100) % 11 if name != 'gaussian' else None, cupy)
        assert isinstance(z, cupy.ndarray) and z.dtype == np.float32 and z.shape == (100, 2)


def test_wrong_label_reconstruction_is_one_when_the_decoder_ignores_y():
    from aae.evaluate import wrong_label_reconstruction
    from aae.net import categorical_aae
    enc, dec, _, _ = categorical_aae(4, 2, N_IN, H)
    x = np.random.RandomState(1).rand(30, N_IN).astype('f')
    rng = np.random.RandomState(2)
    for p in dec.params():                               # weights large enough that y matters
        p.array[:] = rng.normal(0, 0.3, p.shape)
    used = wrong_label_reconstruction(enc, dec, x)
    assert abs(used['ratio'] - 1) > 0.01 and used['mse_own_one_hot'] > 0
    dec.body.l1.W.array[:, :4] = 0                        # the decoder's y columns (input [y, z])
    ignored = wrong_label_reconstruction(enc, dec, x)
    assert ignored['ratio'] == pytest.approx(1.0, abs=1e-6)


# --- the appendix's clustering model: batch normalisation and input dropout ---------------
from aae.net import categorical_aae  # noqa: E402

def test_batch_norm_encoder_normalises_in_training_and_uses_running_stats_in_test():
    enc, dec, _, _ = categorical_aae(4, 2, N_IN, H, batch_norm=True)
    x = np.random.RandomState(0).uniform(size=(64, N_IN)).astype(np.float32)
    logits, z = enc(x)            # training mode: every output unit normalised over the batch
    out = np.concatenate([logits.array, z.array], 1)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    # unit variance up to BN's eps, which counts at these tiny layers' N(0, 0.01^2) init
    assert np.all((out.std(0) > 0.85) & (out.std(0) < 1.0 + 1e-5))
    assert [n for n, _ in enc.namedlinks() if n.endswith('bn3')] == ['/body/bn3']
    assert not hasattr(dec.body, 'bn3')            # the decoder's sigmoid output: no BN
    with chainer.using_config('train', False):     # test mode: one image alone = in a batch
        alone = enc(x[:1])[1].array
        batch = enc(x)[1].array[:1]
    np.testing.assert_allclose(alone, batch, rtol=1e-5, atol=1e-6)
    running = enc.body.bn1.avg_mean.copy()
    enc(x + 1)                                     # training updates the running mean
    assert not np.allclose(running, enc.body.bn1.avg_mean)
    # the running statistics travel with the model (snapshots, model_*.npz)
    target = DictionarySerializer()
    target.save(enc)
    fresh = categorical_aae(4, 2, N_IN, H, batch_norm=True)[0]
    NpzDeserializer(target.target).load(fresh)
    np.testing.assert_array_equal(fresh.body.bn1.avg_mean, enc.body.bn1.avg_mean)
    with chainer.using_config('train', False):
        np.testing.assert_allclose(fresh(x)[1].array, enc(x)[1].array, rtol=1e-6)


def test_batch_norm_mlp_gradient():
    from aae.net import MLP
    np.random.seed(0)              # unit-scale weights: BN's eps negligible, the check stable
    mlp = MLP(3, 2, 4, weight_std=1.0, batch_norm=True, output_batch_norm=True)
    for p in mlp.params():
        p.array = p.array.astype(np.float64)
    for link in (mlp.bn1, mlp.bn2, mlp.bn3):
        link.avg_mean, link.avg_var = link.avg_mean.astype('d'), link.avg_var.astype('d')
    x = np.random.RandomState(1).normal(size=(6, 3))
    gy = np.random.RandomState(2).normal(size=(6, 2))
    gradient_check.check_backward(mlp, x, gy, params=list(mlp.params()), eps=1e-4,
                                  atol=1e-3, rtol=1e-3)


def test_input_dropout_only_in_training():
    enc = Encoder(2, N_IN, H, input_dropout=0.5)
    plain = Encoder(2, N_IN, H)
    plain.copyparams(enc)
    x = np.random.RandomState(0).uniform(0.5, 1, size=(8, N_IN)).astype(np.float32)
    assert not np.allclose(enc(x).array, enc(x).array)      # a new mask every call
    assert not np.allclose(enc(x).array, plain(x).array)
    with chainer.using_config('train', False):
        np.testing.assert_array_equal(enc(x).array, plain(x).array)
    # inverted dropout: the input keeps its mean
    kept = F.dropout(np.ones((20000, 1), np.float32), 0.2).array
    assert (kept == 0).mean() == pytest.approx(0.2, abs=0.01)
    assert kept.mean() == pytest.approx(1, abs=0.02)


def test_categorical_aae_defaults_put_no_noise_on_the_discriminators():
    _, _, dis_z, dis_y = categorical_aae(4, 2, N_IN, H)
    assert dis_z.noise_std == 0 and dis_y.noise_std == 0
    assert categorical_aae(4, 2, N_IN, H, dis_hidden=5)[2].body.l1.W.shape == (5, 2)


def test_clustering_recipes_expand_to_the_appendix_model():
    from expkit import validate
    from expkit.testing import load_script
    parse = lambda argv: validate.script_parser(
        load_script('experiments/aae_clustering.py').main).parse_args(argv)
    paper = parse(['--recipe', 'paper'])
    assert (paper.n_hidden, paper.dis_hidden, paper.batch_norm, paper.input_dropout,
            paper.enc_noise, paper.dis_noise, paper.optimizer, paper.z_dim,
            paper.lr_drop_updates) == (3000, 1000, True, 0.2, 0.0, 0.0, 'sgd', 5, (25000,))
    default = parse([])
    assert default.recipe == 'balanced' and (default.optimizer, default.z_dim, default.phase_lr,
                                             default.batch_norm) == ('adam-phase', 10,
                                                                     {'reg': 1e-3}, False)
    assert parse(['--recipe', 'noise']).enc_noise == 0.3
    assert parse(['--recipe', 'paper', '--set', 'n-hidden=1000']).n_hidden == 1000  # it wins
    quick = parse(['--recipe', 'paper', '--quick'])
    assert (quick.n_hidden, quick.dis_hidden, quick.batch_norm) == (64, 64, True)


def test_discriminator_diagnostics_tell_a_flat_d_from_a_working_one():
    from aae.evaluate import discriminator_diagnostics
    rng = np.random.RandomState(0)
    z_prior = rng.normal(size=(200, 2)).astype(np.float32)
    z_codes = (rng.normal(size=(200, 2)) * 0.3 + 2).astype(np.float32)   # off the prior
    flat = Discriminator(2, H)
    for p in flat.params():
        p.array[...] = 0
    d = discriminator_diagnostics(flat, z_prior, z_codes)
    assert d['prior']['p_real_mean'] == pytest.approx(0.5) and d['prior']['p_real_std'] == 0
    assert d['codes']['grad_log_p_real_norm_mean'] == 0
    assert d['prior']['first_layer_active_fraction'] == 0
    working = Discriminator(2, H, weight_std=1.0)
    d = discriminator_diagnostics(working, z_prior, z_codes)
    assert d['prior']['p_real_std'] > 1e-3 and d['codes']['grad_log_p_real_norm_mean'] > 1e-3
    assert 0 < d['prior']['first_layer_active_fraction'] <= 1
