"""Unit tests of gan/: networks, losses, hooks, schedules, updaters (tiny and fast)."""
import numpy as np
import pytest

import chainer
import chainer.functions as F
from chainer import gradient_check

from gan import dcgan, loss, net, optim, updater


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# ------------------------------------------------------------------ networks: shapes
@pytest.mark.parametrize('size,ch,out_ch', [(28, 16, 1), (32, 16, 3), (64, 16, 3)])
def test_dcgan_shapes(size, ch, out_ch):
    gen = dcgan.Generator(n_hidden=10, out_size=size, out_ch=out_ch, ch=ch)
    dis = dcgan.Discriminator(in_size=size, in_ch=out_ch, ch=ch)
    z = gen.make_hidden(3)
    assert z.shape == (3, 10) and z.dtype == np.float32
    assert z.min() >= -1 and z.max() <= 1
    x = gen(z)
    assert x.shape == (3, out_ch, size, size)
    assert 0 <= float(x.array.min()) and float(x.array.max()) <= 1   # sigmoid output
    assert dis(x).shape == (3, 1)
    # flat input is accepted too
    assert dis(x.array.reshape(3, -1)).shape == (3, 1)


def test_dcgan_default_layout_and_options():
    gen = dcgan.Generator()  # MNIST: 7x7x128 -> 14x14x64 -> 28x28x1
    assert gen.l0.W.shape == (7 * 7 * 128, 100)
    assert gen.out.W.shape[:2] == (64, 1)
    assert abs(float(gen.l0.W.array.std()) - 0.02) < 0.002   # N(0, 0.02) init (§4)
    x = dcgan.Generator(n_hidden=5, ch=8, out_activation='tanh')(
        np.random.RandomState(0).randn(4, 5).astype('f'))
    assert float(x.array.min()) < 0   # tanh may be negative, sigmoid never
    with pytest.raises(ValueError):
        dcgan.Generator(out_size=30)
    with pytest.raises(ValueError):
        dcgan.Generator(out_activation='relu')


def test_mlp_gan_shapes_and_noise():
    gen, dis = net.MLPGenerator(), net.MLPDiscriminator()
    assert [l.W.shape[0] for l in gen.hidden] + [gen.out.W.shape[0]] == [256, 512, 1024, 784]
    assert [l.W.shape[0] for l in dis.hidden] + [dis.out.W.shape[0]] == [1024, 512, 256, 1]
    z = gen.make_hidden(500)
    assert z.min() >= 0 and z.max() <= 1 and abs(z.mean() - 0.5) < 0.01   # U(0, 1)
    x = gen(z[:4])
    assert x.shape == (4, 784) and 0 <= float(x.array.min())
    assert dis(x).shape == (4, 1)


def test_goodfellow_nets():
    x = np.random.RandomState(0).uniform(0, 1, (50, 784)).astype('f')
    x[:, :10] = 0.0   # constant-zero pixels -> bias at logit(1e-7)
    bias = net.sigmoid_bias_from_marginals(x)
    assert np.allclose(_sigmoid(bias[10:].astype('f8')), x[:, 10:].mean(0), atol=1e-5)
    assert np.allclose(bias[:10], np.log(1e-7 / (1 - 1e-7)), rtol=1e-4)
    gen = net.GoodfellowGenerator(out_bias=bias)
    assert np.array_equal(gen.y.b.array, bias)
    assert float(abs(gen.h0.W.array).max()) <= 0.05                  # irange .05
    z = gen.make_hidden(2000)
    assert abs(z.max()) <= np.sqrt(3) and abs(z.var() - 1) < 0.05   # U(+-sqrt 3): unit var
    dis = net.GoodfellowDiscriminator()
    assert float(abs(dis.h0.linear.W.array).max()) <= 0.005          # irange .005
    assert dis.h0.linear.W.shape == (240 * 5, 784)                   # 240 units x 5 pieces
    assert gen(z[:3]).shape == (3, 784) and dis(gen(z[:3])).shape == (3, 1)
    # dropout: random in training, deterministic in test mode
    xx = np.ones((4, 784), 'f') * 0.5
    with chainer.using_config('train', False):
        a, b = dis(xx).array, dis(xx).array
    assert np.array_equal(a, b)
    assert not np.array_equal(dis(xx).array, dis(xx).array)


# ------------------------------------------------------------------ losses
def test_losses_match_bce_closed_form():
    rng = np.random.RandomState(1)
    a_r, a_f = rng.randn(7, 1) * 3, rng.randn(5, 1) * 3
    d_r, d_f = _sigmoid(a_r), _sigmoid(a_f)
    v = np.log(d_r).mean() + np.log(1 - d_f).mean()   # V(D, G), Eq. (1)
    assert np.isclose(float(loss.discriminator_loss(a_r, a_f).array), -v)
    assert np.isclose(float(loss.value_function(a_r, a_f).array), v)
    assert np.isclose(float(loss.generator_loss(a_f, 'minimax').array), np.log(1 - d_f).mean())
    assert np.isclose(float(loss.generator_loss(a_f, 'nonsaturating').array),
                      -np.log(d_f).mean())
    # the same numbers as chainer's sigmoid_cross_entropy with labels 1 / 0
    bce = F.sigmoid_cross_entropy(np.concatenate([a_r, a_f]),
                                  np.array([[1]] * 7 + [[0]] * 5, 'i'), reduce='no')
    assert np.isclose(float(F.mean(bce[:7]).array + F.mean(bce[7:]).array), -v)
    with pytest.raises(ValueError):
        loss.generator_loss(a_f, 'wasserstein')


def test_generator_gradients_saturate_as_described():
    """d/da of log(1 - D) is -D -> 0 when D(G(z)) -> 0; that of -log D is -(1 - D) -> -1."""
    a = chainer.Variable(np.array([[-8.0], [0.0], [8.0]]))
    loss.generator_loss(a, 'minimax').backward()
    assert np.allclose(a.grad.ravel(), -_sigmoid(a.array.ravel()) / 3)
    a.cleargrad()
    loss.generator_loss(a, 'nonsaturating').backward()
    assert np.allclose(a.grad.ravel(), -(1 - _sigmoid(a.array.ravel())) / 3)
    assert abs(a.grad[0, 0]) > 1000 * abs(_sigmoid(-8.0) / 3)   # no vanishing at D ~ 0


@pytest.mark.parametrize('kind', loss.GEN_LOSSES)
def test_loss_gradient_check(kind):
    rng = np.random.RandomState(2)
    a_r, a_f = rng.randn(6, 1), rng.randn(4, 1)
    gradient_check.check_backward(loss.discriminator_loss, (a_r, a_f), np.array(1.0),
                                  dtype=np.float64)
    gradient_check.check_backward(lambda y: loss.generator_loss(y, kind), (a_f,),
                                  np.array(1.0), dtype=np.float64)


def test_network_gradient_check_float64():
    # weights and check directions come from the global RNG: seeded, so the result does not
    # depend on the tests run before (some draws put a leaky-ReLU kink inside the finite
    # difference step, and the check fails there)
    np.random.seed(0)
    with chainer.using_config('dtype', np.float64):
        gen = net.GoodfellowGenerator(n_hidden=3, n_units=5, n_out=4)
        dis = net.GoodfellowDiscriminator(n_in=4, n_units=3, n_pieces=2)
        mlp_d = net.MLPDiscriminator(n_in=4, units=(5, 3))
    z = np.random.RandomState(3).randn(2, 3)
    with chainer.using_config('train', False):   # dropout off: deterministic
        def f(z):
            return loss.generator_loss(dis(gen(z)), 'nonsaturating')
        gradient_check.check_backward(f, (z,), np.array(1.0), dtype=np.float64,
                                      params=(gen.h0.W, gen.y.b, dis.h0.linear.W),
                                      atol=1e-5, rtol=1e-4)
        gradient_check.check_backward(mlp_d, (np.random.RandomState(4).rand(3, 4),),
                                      np.ones((3, 1)), dtype=np.float64,
                                      params=(mlp_d.hidden[0].W,), atol=1e-5, rtol=1e-4)


# ------------------------------------------------------------------ hooks and schedules
def test_l1l2_hook_adds_exact_gradient():
    link = chainer.links.Linear(3, 2)
    w0 = link.W.array.copy()
    w0[0, 0] = 0.0   # sign(0) = 0
    link.W.array[...] = w0
    b0 = link.b.array.copy()
    opt = chainer.optimizers.MomentumSGD(lr=0.5, momentum=0.0)
    opt.setup(link)
    l1, l2 = 0.3, 0.2
    opt.add_hook(optim.L1L2Regularizer(l1, l2))
    g = np.random.RandomState(5).randn(2, 3).astype('f')
    link.W.grad = g.copy()
    link.b.grad = np.ones(2, 'f')
    opt.update()
    expected_grad = g + l1 * np.sign(w0) + 2 * l2 * w0   # d/dW (l1|W| + l2 W^2)
    assert np.allclose(link.W.array, w0 - 0.5 * expected_grad, atol=1e-6)
    assert np.allclose(link.b.array, b0 - 0.5 * 1.0)     # biases: kernel_regularizer only


def test_keras_decay_and_pylearn2_schedules():
    link = chainer.links.Linear(1, 1)
    opt = chainer.optimizers.MomentumSGD(lr=0.1, momentum=0.1)
    opt.setup(link)
    opt.add_hook(optim.KerasInverseTimeDecay(0.1, decay=0.5))
    seen = []
    for _ in range(3):
        link.cleargrads()
        F.sum(link(np.ones((1, 1), 'f'))).backward()
        opt.update()
        seen.append(opt.lr)
    assert np.allclose(seen, [0.1 / (1 + 0.5 * t) for t in range(3)])

    opt2 = chainer.optimizers.MomentumSGD(lr=0.1, momentum=0.5)
    opt2.setup(chainer.links.Linear(1, 1))
    hook = optim.ExponentialDecay(0.1, decay_factor=2.0, min_lr=0.02)
    for t, want in enumerate([0.1, 0.05, 0.025, 0.02, 0.02]):
        opt2.t = t
        hook(opt2)
        assert np.isclose(opt2.lr, want)
    assert optim.momentum_adjustor(0) == 0.5 and optim.momentum_adjustor(1) == 0.5
    assert np.isclose(optim.momentum_adjustor(125.5), 0.6)
    assert optim.momentum_adjustor(250) == 0.7 and optim.momentum_adjustor(900) == 0.7


# ------------------------------------------------------------------ updaters
def _tiny_setup(n=40, batchsize=4, dim=6, k=1, gen_loss='nonsaturating', cls=None,
                **kwargs):
    rng = np.random.RandomState(6)
    data = rng.rand(n, dim).astype('f')
    gen = net.MLPGenerator(n_hidden=3, n_out=dim, units=(5,))
    dis = net.MLPDiscriminator(n_in=dim, units=(5,))
    opts = {}
    for name, link in (('gen', gen), ('dis', dis)):
        opts[name] = chainer.optimizers.MomentumSGD(lr=0.1, momentum=0.0)
        opts[name].setup(link)
    it = chainer.iterators.SerialIterator(data, batchsize, shuffle=False)
    if cls is None:
        upd = updater.GANUpdater(it, opts, n_dis=k, gen_loss=gen_loss, **kwargs)
    else:
        upd = cls(it, opts, gen_loss=gen_loss, **kwargs)
    return upd, gen, dis, opts, it


@pytest.mark.parametrize('k', [1, 3])
def test_k_discriminator_steps_per_generator_step(k):
    upd, gen, dis, opts, it = _tiny_setup(k=k)
    for _ in range(2):
        upd.update()
    assert opts['dis'].t == 2 * k and opts['gen'].t == 2
    assert it.current_position == (2 * k * 4) % 40   # k fresh data minibatches per step


def test_reports_both_gradient_norms():
    upd, gen, dis, opts, it = _tiny_setup(grad_norm_interval=1, gen_loss='minimax')
    obs = {}
    with chainer.reporter.Reporter().scope(obs):
        reporter = chainer.reporter.get_current_reporter()
        reporter.add_observer('gen', gen)
        reporter.add_observer('dis', dis)
        upd.update()
    for key in ('gen/loss', 'gen/grad_norm', 'gen/grad_norm_minimax',
                'gen/grad_norm_nonsaturating', 'dis/loss', 'dis/d_real', 'dis/d_fake'):
        assert key in obs, key
    assert np.isclose(obs['gen/grad_norm'], obs['gen/grad_norm_minimax'])
    assert obs['gen/grad_norm_minimax'] != obs['gen/grad_norm_nonsaturating']


def test_bad_updater_arguments():
    with pytest.raises(ValueError):
        _tiny_setup(gen_loss='hinge')
    with pytest.raises(ValueError):
        _tiny_setup(k=0)


def test_simultaneous_updater_uses_pre_update_parameters():
    """Goodfellow's AdversaryCost2: D's and G's gradients at the same (old) parameters."""
    rng = np.random.RandomState(7)
    data = rng.rand(8, 6).astype('f')
    gen = net.GoodfellowGenerator(n_hidden=3, n_units=5, n_out=6)
    dis = net.GoodfellowDiscriminator(n_in=6, n_units=4, n_pieces=2,
                                      input_keep=1.0, hidden_keep=1.0)  # deterministic
    opts = {}
    for name, link in (('gen', gen), ('dis', dis)):
        opts[name] = chainer.optimizers.MomentumSGD(lr=0.5, momentum=0.0)
        opts[name].setup(link)
    it = chainer.iterators.SerialIterator(data, 8, shuffle=False)
    upd = updater.SimultaneousGANUpdater(it, opts)
    np.random.seed(11)
    z = gen.make_hidden(8)
    # expected gradients at the current parameters
    gen.cleargrads()
    dis.cleargrads()
    y_r, y_f = dis(data), dis(gen(z))
    d_obj = 0.5 * loss.discriminator_loss(y_r, y_f)
    g_obj = loss.generator_loss(y_f, 'nonsaturating')
    gd = chainer.grad([d_obj], [dis.y.W])[0].array
    gg = chainer.grad([g_obj], [gen.h0.W])[0].array
    wd, wg = dis.y.W.array.copy(), gen.h0.W.array.copy()
    np.random.seed(11)   # the updater draws the same z
    upd.update()
    assert np.allclose(dis.y.W.array, wd - 0.5 * gd, atol=1e-6)
    assert np.allclose(gen.h0.W.array, wg - 0.5 * gg, atol=1e-6)


def test_momentum_adjustor_counts_updates_of_the_yaml_epoch(tmp_path):
    """mnist.yaml's MomentumAdjustor in updates (500 per epoch), whatever the data size;
    a trainer started at a later iteration (resumed) gets the momentum at once."""
    from chainer import training
    for n in (40, 4000):                        # 10 or 1000 updates per epoch of this data
        opt = chainer.optimizers.MomentumSGD(lr=0.1, momentum=0.5)
        opt.setup(chainer.links.Linear(2, 1))
        it = chainer.iterators.SerialIterator(np.zeros((n, 2), 'f'), 4)
        up = training.StandardUpdater(it, opt, loss_func=lambda x: chainer.functions.sum(
            opt.target(x)))
        adj = optim.MomentumAdjustor([opt], init=0.5, final=0.7, start=1, saturate=250)
        trainer = training.Trainer(up, (1, 'iteration'), out=str(tmp_path))
        trainer.extend(adj)
        for iteration, want in ((0, 0.5), (499, 0.5), (500, 0.5 + 0.2 / 249),
                                (124499, 0.7 - 0.2 / 249), (124500, 0.7), (10 ** 6, 0.7)):
            up.iteration = iteration
            adj.initialize(trainer)
            assert opt.momentum == pytest.approx(want)
    assert adj.describe()['rises_from_update'] == 500
    assert adj.describe()['reaches_final_at_update'] == 124500


def test_fast_leaky_relu_matches_chainer_forward_backward_and_double_backward():
    from gan.functions import leaky_relu
    rng = np.random.RandomState(0)
    x = rng.randn(4, 3, 5).astype(np.float32)
    x[0, 0, :2] = 0                                     # at x = 0 the gradient is slope
    for slope in (0.2, 0.0, 1.0):
        a, b = chainer.Variable(x.copy()), chainer.Variable(x.copy())
        ya, yb = leaky_relu(a, slope), F.leaky_relu(b, slope)
        np.testing.assert_array_equal(ya.array, yb.array)
        gy = rng.randn(*x.shape).astype(np.float32)
        ga, = chainer.grad([ya], [a], grad_outputs=[gy], enable_double_backprop=True)
        gb, = chainer.grad([yb], [b], grad_outputs=[gy])
        np.testing.assert_array_equal(ga.array, gb.array)
    chainer.gradient_check.check_backward(lambda v: leaky_relu(v, 0.3),
                                          np.where(x >= 0, x + 0.1, x - 0.1).astype(np.float64),
                                          rng.randn(*x.shape), atol=1e-4, rtol=1e-4)


# ------------------------------------------------------------------ the seed's notebook
def test_notebook_generator_has_output_batchnorm_before_the_sigmoid():
    gen = net.MLPGenerator(out_batchnorm=True)
    assert gen.out_bn.gamma.shape == (784,) and not hasattr(net.MLPGenerator(), 'out_bn')
    z = gen.make_hidden(256)
    with chainer.using_config('train', True):
        logits = gen.out_bn(gen.out(_hidden_of(gen, z)))
        x = gen(z)
    # in training mode each output unit's pre-activation is batch-normalised (gamma 1,
    # beta 0), so the sigmoid of it is what G returns
    np.testing.assert_allclose(logits.array.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(x.array, _sigmoid(logits.array), rtol=1e-5, atol=1e-6)


def _hidden_of(gen, z):
    h = z
    for i, layer in enumerate(gen.hidden):
        h = F.leaky_relu(gen.bns[i](layer(h)), slope=gen.slope)
    return h


def test_fakes_in_test_mode_use_batchnorm_running_statistics(monkeypatch):
    seen = []
    for test_mode in (False, True):
        upd, gen, dis, opts, it = _tiny_setup(fakes_in_test_mode=test_mode)
        modes = []
        original = type(gen).forward

        def spy(self, z, _modes=modes, _orig=original):
            _modes.append(chainer.config.train)
            return _orig(self, z)
        monkeypatch.setattr(type(gen), 'forward', spy)
        upd.update()
        monkeypatch.setattr(type(gen), 'forward', original)
        seen.append(modes)
    # D's fakes first, then G's own step (always in training mode)
    assert seen == [[True, True], [False, True]]


def test_replacement_iterator_draws_with_replacement_and_counts_epochs():
    from datasets.iterators import ReplacementIterator
    np.random.seed(0)
    data = np.arange(10)
    it = ReplacementIterator(data, 4)
    batches = [it.next() for _ in range(5)]          # 20 draws = 2 epochs of 10
    assert it.epoch == 2 and it.is_new_epoch and it.epoch_detail == 2.0
    assert [len(b) for b in batches] == [4] * 5
    draws = np.concatenate(batches)
    assert len(set(draws.tolist())) < len(draws)     # repeats: drawn with replacement
    many = np.concatenate([it.next() for _ in range(2500)])
    np.testing.assert_allclose(np.bincount(many, minlength=10) / len(many), 0.1, atol=0.01)
    state = {}
    it.serialize(chainer.serializers.DictionarySerializer(state))
    fresh = ReplacementIterator(data, 4)
    fresh.serialize(chainer.serializers.NpzDeserializer(state))
    assert (fresh.epoch, fresh.current_position) == (it.epoch, it.current_position)
    with pytest.raises(ValueError):
        ReplacementIterator(data, 0)


def test_sample_recorder_grid_of_a_run_cut_short_shows_no_frame_twice():
    """--time-limit stops a run far before its planned length: the grid spans what was
    trained (fractions of the last update, which is recorded) with distinct frames."""
    from gan.extensions import SampleRecorder, snapshot_iterations
    gen = net.MLPGenerator()
    planned = 10000
    rec = SampleRecorder(gen, gen.make_hidden(4), iterations=snapshot_iterations(planned),
                         every=planned // 30)
    for it in [0] + list(range(1, 1201)):                 # stopped at update 1,200
        if it == 0 or it in rec.iterations or it % rec.every == 0:
            rec.record(it)
    assert sorted(rec.frames)[-1] == 999                  # the last 'every' frame
    rec.finish(1200)
    keys = rec.grid_keys()
    assert keys == [0, 333, 1200]      # 0, 80 -> 0, 400 -> 333, 1200: no repeated frame
    assert all(k in rec.frames for k in keys)
    rec.finish(1200)                                     # already there: unchanged
    assert len(rec.frames) == len(set(rec.frames))


# ------------------------------------------------------------------ Parzen by digit
def _two_digit_data(rng, n, dim=20):
    """Two 'digits': points around two far-apart centres; the label is the centre."""
    centres = np.stack([np.zeros(dim), np.full(dim, 1.0)]).astype(np.float32)
    y = rng.randint(0, 2, n).astype(np.int32)
    return centres[y] + 0.05 * rng.randn(n, dim).astype(np.float32), y


def test_parzen_splits_keep_labels_aligned():
    from datasets import Dataset
    from gan.evaluate import parzen_splits
    y = np.arange(300, dtype=np.int32) % 10
    x = np.repeat(y[:, None], 4, axis=1).astype(np.float32)   # each row encodes its label
    data = Dataset(x, y, x[:20], y[:20], (2, 2), {})
    x_train, x_valid, y_train = parzen_splits(data, seed=0)   # no --validation: a hold-out
    assert len(x_train) == 270 and len(x_valid) == 30
    np.testing.assert_array_equal(x_train[:, 0].astype(np.int32), y_train)
    data.hold_out(50)                                         # with a validation split
    x_train, x_valid, y_train = parzen_splits(data, seed=0, n_valid=7)
    assert len(x_train) == 250 and len(x_valid) == 7
    np.testing.assert_array_equal(x_train[:, 0].astype(np.int32), y_train)


def test_parzen_by_digit_finds_the_missing_digit():
    from gan.evaluate import nearest_labels, parzen_by_digit, parzen_with_reference
    rng = np.random.RandomState(0)
    x_train, y_train = _two_digit_data(rng, 400)
    x_valid, _ = _two_digit_data(rng, 100)
    x_test, y_test = _two_digit_data(rng, 200)
    samples = x_train[y_train == 0][:150] + 0.01 * rng.randn(150, 20).astype(np.float32)
    np.testing.assert_array_equal(nearest_labels(x_test, x_train, y_train), y_test)
    parzen, ref, ll_s, ll_r = parzen_with_reference(samples, x_train, x_valid, x_test,
                                                    sigmas=[0.03, 0.1, 0.3], return_ll=True)
    per = parzen_by_digit(ll_s, ll_r, samples, x_train, y_train, y_test)
    assert per['digit'] == [0, 1] and sum(per['n_test']) == 200
    assert per['sample_share'] == [1.0, 0.0]                  # a GAN that draws only 0s
    np.testing.assert_allclose(sum(per['training_share']), 1.0)
    # the 1s are where the samples lose (the 0s lose a little: the samples' sigma, chosen
    # on a validation set with 1s in it, is wider)
    gap = np.subtract(per['ll_training_images'], per['ll_samples'])
    assert gap[1] > 100 and abs(gap[0]) < gap[1] / 5
    # the per-digit means average back to the overall test mean
    overall = np.dot(per['n_test'], per['ll_samples']) / 200
    np.testing.assert_allclose(overall, parzen['mean'], rtol=1e-10)
