"""Semi-supervised MNIST with M2 or M1+M2 (Kingma, Rezende, Mohamed & Welling 2014, Sec. 3.2
and Table 1): the experiment of ``experiments/m2_semisupervised.py`` and
``experiments/m1m2_semisupervised.py`` (:func:`main`), and the M1+M2 plumbing
(Sec. 3.2.3; nips14-ssl ``learn_yz_x_ss.py``, 'mnist_2layer').

M2 is trained on the latent code of a trained M1.  The official code

1. encodes the data with M1's q(z|x) = N(mean, exp(logvar)),
2. keeps the latent dimensions whose posterior mean varies (std over 1,000 unlabelled
   examples > 0.1; the rest collapsed to the prior and carry no information),
3. feeds M2 a *fresh sample* x' ~ N(mean, exp(logvar)) at every minibatch, while the
   validation/test sets are represented by the posterior mean.
"""
import argparse

import numpy as np
import chainer
from chainer import optimizers
from chainer.dataset import concat_examples
from chainer.datasets import TupleDataset

from datasets.binarize import DynamicBinarizeConverter, binarize_static
from datasets.semisup import split_labelled
from evaluation.inference import predict
from evaluation.metrics import classification_error
from expkit import Experiment, UsageError, make_parser, plots
from expkit.extensions import TestError
from expkit.validate import nonnegative_float, positive_float, positive_int, readable_file
from vae import likelihood
from vae.net import M2, VAE
from vae.optim import NIPS14Adam
from vae.updater import M2Updater, VAEUpdater, add_weight_decay

#: the defaults each --recipe sets (explicit options win).  nips14: dpkingma/nips14-ssl --
#: M1 as ``gpulearn_z_x.py`` 'mnist' (batch 1000, Adam 3e-4 with epsilon 1e-10, a N(0, 1)
#: prior on every parameter), M2 as ``learn_yz_x_ss.py`` (3000 passes, ``adam.py``); the
#: minibatch composition is set from the data (:func:`nips14_composition`).  ours: the
#: settings this repository used before, 100 labelled + 100 unlabelled per step.
RECIPES = {
    'nips14': dict(epoch=3000, m1_epoch=1000, m1_batchsize=1000, m1_lr=3e-4, m1_eps=1e-10,
                   m1_weight_prior=True, optimizer='nips14-adam'),
    'ours': dict(epoch=30, m1_epoch=30, m1_batchsize=100, m1_lr=1e-3, m1_eps=1e-8,
                 m1_weight_prior=False, optimizer='adam'),
}

#: M1's gate before M2 starts (:func:`m1_gate`): the median signal-to-noise ratio of the
#: sampled codes on the kept dimensions must reach this. Ours, set between two measured
#: runs: 1.0 (a 30-epoch M1, whose M2 stayed at 25-28 % error) and 1.67 (the nips14 recipe's
#: M1 after 900 epochs on full MNIST, whose M2 reached 5.6 % after 53k updates; record
#: m1m2_nips14_full); nips14-ssl's released M1 measures 2.9.
M1_GATE_SNR = 1.5


def nips14_composition(n_labelled, n_unlabelled, n_labels_option):
    """(unlabelled, labelled) examples per minibatch as ``learn_yz_x_ss.py``: both sets are
    cut into ``n_minibatches`` equal parts, 100 with 100 labels and 200 otherwise
    (``run_2layer_ssl.py``), e.g. 499 + 1 with 100 labels on the 50k training split."""
    n_minibatches = 100 if n_labels_option == 100 else 200
    return max(1, n_unlabelled // n_minibatches), max(1, n_labelled // n_minibatches)


PAPER_TABLE1 = {   # Kingma et al. 2014, Table 1: test error (%) on MNIST, 50k training images
    'm2': {100: '11.97 +- 1.71', 600: '4.94 +- 0.13', 1000: '3.60 +- 0.56',
           3000: '3.92 +- 0.63'},
    'm1m2': {100: '3.33 +- 0.14', 600: '2.59 +- 0.05', 1000: '2.40 +- 0.02',
             3000: '2.18 +- 0.04'},
}

#: test error (%) against updates of a public PyTorch replication of the nips14-ssl recipe,
#: read off its published curves (not re-run here): M1+M2 and pure M2, 100 labels
REPLICATION_CURVE = {'m1m2': [(40000, 4.2), (100000, 3.45), (300000, 2.8)],
                     'm2': [(20000, 40.0), (100000, 14.5)]}


def encode_dataset(vae, x, batch_size=1000):
    """Posterior mean and log-variance of M1's q(z|x) for every row of x (NumPy)."""
    return predict(vae.encode, np.asarray(x, np.float32), device=vae.device,
                   batchsize=batch_size)


def active_dimensions(mean, threshold=0.1):
    """Boolean mask of latent dims whose posterior mean has std > threshold (nips14-ssl)."""
    return mean.std(axis=0) > threshold


class GaussianFeatureConverter(object):
    """Converter for datasets of (mean, ln_var[, y]): samples x' = mean + sigma * eps afresh."""

    def __call__(self, batch, device=None):
        arrays = concat_examples(batch, device)
        mean, ln_var = arrays[0], arrays[1]
        xp = chainer.backend.get_array_module(mean)
        x = mean + xp.exp(0.5 * ln_var) * xp.random.standard_normal(
            mean.shape).astype(mean.dtype)                       # x' ~ q(z|x) of M1
        return (x,) + tuple(arrays[2:]) if len(arrays) > 2 else x


def classify(model, x):
    """argmax q(y|x) of M2 for the rows of ``x`` (NumPy), in test mode."""
    return predict(model.classify, np.asarray(x), device=model.device).argmax(axis=1)


def new_m1():
    """M1 of nips14-ssl (``mnist_z_x_50-500-500``): 784-500-500-50 softplus, Bernoulli."""
    return VAE(784, 50, (500, 500), 'softplus')


def train_m1(exp, args, x_train):
    """M1 trained on every training image: the training stage 'm1' (``log_m1``).

    ``--recipe nips14`` is ``gpulearn_z_x.py`` 'mnist': minibatch 1000, Adam(3e-4, 0.9,
    0.999) with 1e-10 added to sqrt(v), bias-corrected, and ``weight_decay = n_batch /
    n_train`` on every parameter of the summed bound, i.e. 1/N on our per-example mean (a
    N(0, 1) prior); images binarised afresh every minibatch."""
    m1 = new_m1()
    m1.to_device(exp.device)
    opt = optimizers.Adam(alpha=args.m1_lr, eps=args.m1_eps)
    opt.setup(m1)
    if args.m1_weight_prior:
        add_weight_decay(m1, 1.0 / len(x_train), biases=True)
    opt = exp.optimizers({'m1': opt})['m1']
    updater = VAEUpdater(exp.iterator(x_train, args.m1_batchsize, what='--m1-batchsize'), opt,
                         converter=DynamicBinarizeConverter(), device=exp.device)
    exp.train(updater, stage='m1', models={'m1': m1}, report=['main/loss'],
              stop=(args.m1_epoch, 'epoch'))
    return m1


def load_m1(path, device):
    """A trained M1 from ``model_m1.npz`` of an earlier run (``--m1-model``)."""
    m1 = new_m1()
    try:
        chainer.serializers.load_npz(path, m1)
    except Exception as exc:
        raise UsageError('--m1-model %s: cannot load it (%s)'
                         % (path, ' '.join(str(exc).split())[:200]))
    m1.to_device(device)
    return m1


def m1_inputs(m1, features, x_train, y_train, labelled, unlabelled, x_test, x_val, y_test,
              x_test_bin):
    """M2's data on M1's code: the active dimensions, the labelled and unlabelled training
    sets with their converter (``features`` 'sample': a fresh x' ~ q(z|x) every minibatch,
    nips14-ssl; 'mean': the posterior mean), the test and validation inputs (posterior
    means of the grey images, as nips14-ssl) and :func:`m1_diagnostics`."""
    mean, ln_var = encode_dataset(m1, x_train)
    active = active_dimensions(mean[unlabelled[:1000]])
    if active.sum() == 0:              # an (under-trained) M1 whose codes all collapsed
        std = mean[unlabelled[:1000]].std(axis=0)
        active = std >= np.sort(std)[-10]
        print('M1: no dimension has posterior-mean std > 0.1; keeping the 10 largest')
    mean, ln_var = mean[:, active], ln_var[:, active]
    n_in = int(active.sum())
    print('M1: %d of %d latent dimensions active' % (n_in, m1.n_latent))
    if features == 'sample':
        train_l = TupleDataset(mean[labelled], ln_var[labelled], y_train[labelled])
        train_u = TupleDataset(mean[unlabelled], ln_var[unlabelled])
        converter = GaussianFeatureConverter()
    else:
        train_l = TupleDataset(mean[labelled], y_train[labelled])
        train_u = mean[unlabelled]
        converter = concat_examples
    x_test_in = encode_dataset(m1, x_test)[0][:, active]
    x_val_in = encode_dataset(m1, x_val)[0][:, active] if len(x_val) else \
        np.zeros((0, n_in), np.float32)
    diagnostics = m1_diagnostics(mean, ln_var, y_train, labelled, x_test_in, y_test,
                                 m1.n_latent)
    diagnostics['test_elbo'] = float(likelihood.elbo(m1, x_test_bin).mean())
    print('M1 diagnostics: %s' % diagnostics)
    return dict(n_in=n_in, active=active, train_l=train_l, train_u=train_u,
                converter=converter, x_test_in=x_test_in, x_val_in=x_val_in,
                diagnostics=diagnostics)


def m1_diagnostics(mean, ln_var, y, labelled, x_test_in, y_test, n_latent):
    """What M2 will be fed, measured on M1's kept dimensions of the training set.

    * ``kept_dims``: dimensions kept by nips14-ssl's rule (posterior-mean std > 0.1);
    * ``posterior_sd_median``: the median over kept dims of the mean posterior sd;
    * ``sampled_code_snr_median``: per kept dim, the std of the posterior mean across
      images over the rms posterior sd -- how far apart the digits' codes are, in units of
      the noise of one sample x' ~ q(z|x), which is what M2 sees; the median over dims.
      It was 2.9 with nips14-ssl's released M1 and 1.0 with a 30-epoch M1 of ours, whose
      M2 did not learn;
    * ``logreg_labelled_codes_test_error_percent``: a logistic regression on the labelled
      codes alone (the supervised baseline M2's classifier has to beat).
    The gate (:func:`m1_gate`) reads the signal-to-noise ratio.
    """
    from sklearn.linear_model import LogisticRegression
    sd = np.exp(0.5 * np.asarray(ln_var, np.float64))
    snr = mean.std(axis=0) / np.sqrt((sd ** 2).mean(axis=0))
    baseline = LogisticRegression(max_iter=2000).fit(mean[labelled], y[labelled])
    return {'kept_dims': int(mean.shape[1]), 'latent_dims': int(n_latent),
            'posterior_sd_median': float(np.median(sd.mean(axis=0))),
            'sampled_code_snr_median': float(np.median(snr)),
            'logreg_labelled_codes_test_error_percent':
                100 * classification_error(baseline.predict(x_test_in), y_test)}


def m1_gate(diagnostics, mode):
    """Check M1 before M2 starts: ``'pass'``, or ``'failed'`` (printed, and with ``mode``
    'stop' a one-line error naming the fix; the trained M1 is already saved)."""
    snr = diagnostics['sampled_code_snr_median']
    if snr >= M1_GATE_SNR:
        return 'pass'
    message = ('M1 gate: the sampled codes\' median signal-to-noise ratio is %.2f < %.1f, '
               'too noisy for M2 to learn classes from; train M1 longer (--m1-epoch, or '
               '--m1-model with a better M1) or pass --m1-gate warn to train M2 anyway'
               % (snr, M1_GATE_SNR))
    if mode == 'stop':
        raise UsageError(message)
    print('WARNING: ' + message)
    return 'failed'


def decode_m2(model, z, y, m1=None, active=None):
    """Mean image of p(x|y,z); for M1+M2 pushed through M1's decoder."""
    xp = model.xp
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        out = model.decoder(xp.asarray(z, np.float32), xp.asarray(y, np.int32))
        if m1 is None:
            image = 1 / (1 + xp.exp(-out.array))
        else:
            code = xp.zeros((len(z), m1.n_latent), np.float32)
            code[:, xp.asarray(active)] = out[0].array                # E[p(z1|y,z2)]
            image = 1 / (1 + xp.exp(-m1.decode(code).array))
    return chainer.backend.CpuDevice().send(image)


def analogies(model, x_test_in, images, m1=None, active=None, n_rows=8):
    """Kingma 2014 Fig. 1(b): z from q(z|x,y) of a test digit (y = argmax q(y|x)), all y."""
    xp = model.xp
    x = xp.asarray(x_test_in[:n_rows])
    y_hat = classify(model, x_test_in[:n_rows])
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        mu, _ = model.encoder(x, xp.asarray(y_hat, np.int32))
    mu = chainer.backend.CpuDevice().send(mu.array)
    rows = []
    for r in range(n_rows):
        fantasies = decode_m2(model, np.repeat(mu[r:r + 1], model.n_classes, 0),
                              np.arange(model.n_classes), m1, active)
        rows.append(np.concatenate([images[r:r + 1], fantasies]))
    return np.concatenate(rows)


def main(argv=None, *, script, description, model=None):
    """The experiment: ``model`` 'm1m2' for m1m2_semisupervised.py; None for
    m2_semisupervised.py, whose ``--model`` chooses (default m2)."""
    name = '%s_semisupervised' % (model or 'm2')
    parser = make_parser(description, script=script, epoch=30, batchsize=100,
                         out='results/' + name, validation=10000,  # nips14-ssl: 50k/10k
                         quick=dict(n_train=300, m1_epoch=1, m1_gate='warn'),
                         distributed=model is None)     # m2_semisupervised.py
    add = parser.add_argument
    if model is None:
        add('--model', choices=['m2', 'm1m2'], default='m2',
            help='M2 on the images (default) or M1+M2 (as m1m2_semisupervised.py)')
    add('--recipe', choices=sorted(RECIPES), default='nips14' if model == 'm1m2' else 'ours',
        help="nips14: dpkingma/nips14-ssl's M1 (batch 1000, Adam 3e-4, weight prior, "
             "1000 epochs) and M2 (unlabelled/100 + labelled/100 per step, e.g. 499 + 1, "
             "its Adam without bias correction, 3000 passes); ours: 100 + 100 per step, "
             "chainer's Adam, 30 epochs of M1 at batch 100 (default: %(default)s; explicit "
             "options win)")
    parser.preset_defaults('recipe', RECIPES)
    add('--labels', type=int, choices=[100, 600, 1000, 3000], default=100,
        help='labelled training images, balanced over the digits (default %(default)s)')
    add('--labelled-batchsize', type=positive_int, default=None,
        help='labelled images per minibatch (default: labels/100 with 100 labels, else '
             'labels/200, under nips14; 100 under ours)')
    add('--alpha', type=nonnegative_float, default=0.1,
        help='beta = alpha * N / N_labelled, i.e. the weight of the mean cross-entropy '
             'beside the per-example bound (nips14-ssl: 0.1, the paper\'s "alpha = 0.1 N" '
             'with N the data set; 10 reads N as a minibatch of 100, as the pure-M2 '
             'reproduction Response777/Semi-supervised-VAE does)')
    add('--z-dim', type=positive_int, default=50, help="M2's latent dimensions (default 50)")
    add('--n-hidden', type=positive_int, default=None,
        help="M2's hidden units (default 500; 300 for M1+M2 with 100 labels)")
    parser.default_from('n_hidden', lambda a: 300 if (model or a.model) == 'm1m2' and
                        a.labels == 100 else 500, '500')
    parser.default_from('batchsize', lambda a: None if a.recipe == 'nips14' else 100,
                        'unlabelled/100 with 100 labels, else /200, under nips14 (499 with '
                        '100 labels on the 50k split); 100 under ours')
    add('--optimizer', choices=['nips14-adam', 'adam'], default=None,
        help="M2's optimiser: nips14-ssl's adam.py (no bias correction, no epsilon; "
             "vae.optim.NIPS14Adam) or chainer's Adam (set by --recipe)")
    add('--lr', type=positive_float, default=3e-4, help='Adam step size (default %(default)s)')
    add('--init-std', type=nonnegative_float, default=1e-3,
        help='weights ~ N(0, std^2) as nips14-ssl init_w(1e-3); 0 = LeCun')
    add('--m1-epoch', type=positive_int, default=None,
        help='M1 epochs (M1+M2 only; nips14 1000, ours 30; nips14-ssl\'s released M1 is '
             'its "longrun" at 10,000 epochs)')
    add('--m1-batchsize', type=positive_int, default=None,
        help="M1's minibatch (M1+M2 only; nips14 1000, ours 100)")
    add('--m1-lr', type=positive_float, default=None,
        help="M1's Adam step size (M1+M2 only; nips14 3e-4, ours 1e-3)")
    add('--m1-eps', type=positive_float, default=None, help=argparse.SUPPRESS)
    add('--m1-weight-prior', action=argparse.BooleanOptionalAction, default=None,
        help="N(0, 1) prior on all of M1's parameters, a weight decay of 1/N (nips14: on)")
    add('--m1-gate', choices=['stop', 'warn'], default='stop',
        help="before M2 starts, M1's sampled codes must reach a median signal-to-noise "
             'ratio of %.1f (m1_diagnostics); stop (default) or only warn' % M1_GATE_SNR)
    add('--m1-features', choices=['sample', 'mean'], default='sample',
        help="M2's input: a fresh sample of M1's q(z|x) every minibatch (nips14-ssl) or its "
             "posterior mean (M1+M2 only)")
    add('--m1-model', type=readable_file, default=None, metavar='NPZ',
        help='reuse a trained M1 (model_m1.npz of an earlier M1+M2 run) instead of training '
             'one (M1+M2 only)')
    args = parser.parse_args(argv)
    model = model or args.model
    for option, given in (('--m1-model', args.m1_model), ('--m1-features',
                                                         args.m1_features != 'sample')):
        if given and model != 'm1m2':
            raise UsageError('%s only applies to --model m1m2' % option)
    name = '%s_semisupervised' % model
    exp = Experiment(name, args, stages=['m1', 'main'] if model == 'm1m2' and
                     not args.m1_model else ['main'], paper={
        'source': 'Kingma et al. 2014, Table 1 (test error %%, %s, N=%d labels, 50,000 '
                  'training images, 3000 passes)' % (model.upper(), args.labels),
        'values': {'test_error_percent': PAPER_TABLE1[model][args.labels]}})
    data = exp.load_data()
    x_train, y_train, x_test, y_test = exp.train_test()
    labelled, unlabelled = split_labelled(y_train, args.labels, seed=args.seed)
    n_l, n_u = len(labelled), len(unlabelled)
    if args.recipe == 'nips14':                 # learn_yz_x_ss.py: equal parts of both sets
        batch_u, batch_l = nips14_composition(n_l, n_u, args.labels)
        args.batchsize = args.batchsize or batch_u
        args.labelled_batchsize = args.labelled_batchsize or batch_l
    args.labelled_batchsize = args.labelled_batchsize or 100
    x_test_bin = binarize_static(x_test, method='bernoulli', seed=123)
    x_val, y_val = exp.validation()

    if model == 'm2':
        m1 = None
        inputs = dict(n_in=784, active=None, diagnostics=None,
                      train_l=TupleDataset(x_train[labelled], y_train[labelled]),
                      train_u=x_train[unlabelled], converter=DynamicBinarizeConverter(),
                      x_test_in=x_test_bin,
                      x_val_in=binarize_static(x_val, method='bernoulli', seed=124))
    else:
        m1 = load_m1(args.m1_model, exp.device) if args.m1_model else \
            train_m1(exp, args, x_train)
        inputs = m1_inputs(m1, args.m1_features, x_train, y_train, labelled, unlabelled,
                           x_test, x_val, y_test, x_test_bin)
        inputs['diagnostics']['gate'] = m1_gate(inputs['diagnostics'], args.m1_gate)
    x_test_in, x_val_in = inputs['x_test_in'], inputs['x_val_in']

    m2 = M2(inputs['n_in'], args.z_dim, (args.n_hidden,), 10, 'softplus',
            'bernoulli' if m1 is None else 'gaussian', init_std=args.init_std or None)
    m2.to_device(exp.device)
    opt = NIPS14Adam(alpha=args.lr) if args.optimizer == 'nips14-adam' else \
        optimizers.Adam(alpha=args.lr, beta1=0.9, beta2=0.999)
    opt.setup(m2)
    add_weight_decay(m2, 1.0 / (n_l + n_u))           # N(0, 1) prior on weights, per datum
    opt = exp.optimizers({'m2': opt})['m2']           # ChainerMN: gradients averaged
    batch_l = min(args.labelled_batchsize, n_l)
    its = {'main': exp.iterator(inputs['train_u']),
           'labelled': exp.iterator(inputs['train_l'], batch_l, what='the labelled minibatch '
                                    '(the smaller of --labelled-batchsize and --labels)')}
    updater = M2Updater(its, opt, n_l, n_u, args.alpha, converter=inputs['converter'],
                        labelled_converter=inputs['converter'], device=exp.device)
    validation = ['validation/error'] if len(x_val) else []
    trainer = exp.train(updater, models={'m2': m2},
              report=['main/loss', 'main/bound_l', 'main/bound_u', 'main/loss_cls',
                      'test/error'] + validation,
              plots={'loss.png': ['main/loss'], 'test_error.png': ['test/error'] + validation},
              extensions=[TestError(lambda x: classify(m2, x), x_test_in[:2000],
                                    y_test[:2000])],
              select=dict(name='error', models={'m2': m2}, evaluate=lambda: classification_error(
                  classify(m2, x_val_in), y_val)) if validation else None,
              images_per_iteration=args.batchsize + batch_l)

    error = classification_error(classify(m2, x_test_in), y_test)
    paper = float(PAPER_TABLE1[model][args.labels].split()[0])
    fig = plots.error_curve(
        trainer, min(2000, len(y_test)),
        '%s, %d labels, recipe %s' % (model.upper(), n_l, args.recipe),
        paper=(paper, 'paper: Kingma 2014 Table 1'), final=(100 * error, len(y_test)),
        marks=('public PyTorch replication of nips14-ssl (not re-run)',
               REPLICATION_CURVE[model]) if args.labels == 100 else None)
    exp.savefig(fig, 'test_error_updates.png')
    print('test error %.2f %% (%d test images, %d labels)' % (100 * error, len(y_test), n_l))
    grid = analogies(m2, x_test_in, x_test_bin, m1, inputs['active'])
    exp.save_npz('samples.npz', x=grid)
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 5.6))
    plots.image_grid(grid, 11, ax=ax, title='test digit | mean of p(x|y,z) for y = 0..9, '
                                            'z from q(z|x,y) (Kingma 2014 Fig. 1)')
    exp.savefig(fig, 'analogies.png')
    measured = {'test_error_percent': 100 * error, 'n_test': len(y_test),
                'n_validation': len(y_val)}
    if inputs['diagnostics']:
        measured['m1_feature_diagnostics'] = inputs['diagnostics']
    if validation and exp.selectors['error'].load_best():     # last model's figures are done
        measured['test_error_percent_best_on_validation'] = \
            100 * classification_error(classify(m2, x_test_in), y_test)
        measured['validation_error_percent_best'] = 100 * exp.selectors['error'].best_value
    active = inputs['active']
    exp.finish(measured, config={
        'model': model, 'n_labelled': n_l, 'n_unlabelled': n_u,
        'beta': args.alpha * (n_l + n_u) / n_l,
        'active_m1_dims': None if active is None else int(active.sum()),
        'protocol': '%d labelled (balanced) + %d unlabelled training images, test error on '
                    '%d test images (%s)' % (n_l, n_u, len(y_test),
                                             'seeded binarisation' if m1 is None else
                                             'M1 posterior mean of the grey image')})
