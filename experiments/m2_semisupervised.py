"""Semi-supervised MNIST with the generative model M2, or M1+M2 (``--model m1m2``): test
error of the classifier q(y|x) with 100/600/1000/3000 labels, and the analogy figure (fix z
from a test digit, vary y; Kingma, Rezende, Mohamed & Welling 2014, Table 1 and Fig. 1).

M2 (Sec. 2.2, Eq. 9, and dpkingma/nips14-ssl ``learn_yz_x_ss.py``): q(z|x,y), p(x|y,z) and
q(y|x), one softplus hidden layer (500 units; 300 for M1+M2 with 100 labels, as
``run_2layer_ssl.py``), 50 latent dims, p(y) uniform.  Labelled examples maximise
L(x,y) + beta log q(y|x) with beta = alpha N / N_l and alpha = 0.1; unlabelled examples
maximise U(x) with y summed out exactly over the 10 classes.  Weights start at
N(0, 1e-3^2) (``init_w(1e-3)``), a N(0, 1) prior on the weights (weight decay 1/N), labels
balanced per class, every other training image unlabelled.  Each step takes one unlabelled
and one labelled minibatch.  As nips14-ssl, the last 10,000 training images are the
validation set (``--validation``); the model with the lowest validation error is kept
(``model_m2_best.npz``) and its test error is reported beside the last model's.

``--recipe`` (``RECIPES`` below; explicit options and --set win):

* ``nips14`` (default of m1m2_semisupervised.py): nips14-ssl's own settings -- M1 as
  ``gpulearn_z_x.py`` (minibatch 1000, Adam 3e-4, a N(0, 1) prior on every parameter;
  1000 epochs, where the released M1 is its 10,000-epoch "longrun"); M2 as
  ``learn_yz_x_ss.py``: both sets cut into 100 minibatches with 100 labels (else 200), i.e.
  499 unlabelled + 1 labelled per step, 3000 passes (300,000 updates), and ``adam.py``'s Adam
  without bias correction or epsilon (``vae.optim.NIPS14Adam``).
* ``ours``: 100 unlabelled + 100 labelled per step, chainer's Adam(3e-4), 30 epochs; for
  M1+M2 an M1 of 30 epochs at batch 100 and Adam 1e-3.  nips14-ssl has no pure-M2 script,
  so these settings are extrapolated from its M1+M2 script.
* ``alpha10`` (default here, our best pure-M2 run): ``ours`` with the cross-entropy weight
  alpha = 10 (the paper's "alpha = 0.1 N" with N a minibatch of 100, as a public pure-M2
  reproduction reads it), Adam 1e-3 and 200 epochs.

M1+M2 (Sec. 3.2.3; ``run_2layer_ssl.py``): M1 (784-500-500-50 softplus, Bernoulli) is
trained first on all training images; M2 is then trained on its latent code with a Gaussian
p(x|y,z), on the dimensions whose posterior mean varies (std > 0.1), the code resampled from
q(z|x) every minibatch; test digits are represented by their posterior mean.
``--set m1-features=mean`` feeds the posterior mean instead (a diagnostic, not the official
setting).  Before M2 starts, M1 is checked (``m1_feature_diagnostics`` in results.json: kept
dims, posterior sd, the signal-to-noise ratio of the sampled codes, test ELBO); with a
median ratio under 1.5 the run stops (``--set m1-gate=warn`` goes on).  ``test_error_updates.png``
plots the test error against updates with the paper's number and the points of a public
replication of the official recipe.
"""
import argparse

import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
from chainer import optimizers

from datasets.binarize import DynamicBinarizeConverter, binarize_static
from datasets.semisup import split_labelled
from evaluation.metrics import classification_error
from expkit import Experiment, UsageError, make_parser, plots, run_main
from expkit.extensions import TestError
from expkit.validate import nonnegative_float, positive_float, positive_int, readable_file
from vae.semisup import (M1_GATE_SNR, analogies, analogies_figure, classify, load_m1,
                         m1_gate, m1_inputs, m2_inputs, minibatch_sizes, new_m1, new_m2)
from vae.updater import M2Updater, VAEUpdater, add_weight_decay

#: the defaults each --recipe sets (explicit options and --set win).  nips14:
#: dpkingma/nips14-ssl -- M1 as ``gpulearn_z_x.py`` 'mnist' (batch 1000, Adam 3e-4 with
#: epsilon 1e-10, a N(0, 1) prior on every parameter), M2 as ``learn_yz_x_ss.py`` (3000
#: passes, ``adam.py``); the minibatch composition is set from the data
#: (:func:`nips14_composition`).  ours: the settings this repository used before, 100
#: labelled + 100 unlabelled per step.
RECIPES = {
    'nips14': dict(epoch=3000, m1_epoch=1000, m1_batchsize=1000, m1_lr=3e-4, m1_eps=1e-10,
                   m1_weight_prior=True, optimizer='nips14-adam'),
    'ours': dict(epoch=30, m1_epoch=30, m1_batchsize=100, m1_lr=1e-3, m1_eps=1e-8,
                 m1_weight_prior=False, optimizer='adam'),
}
#: alpha10 (ours, pure M2's best recorded run): ``ours`` with the paper's alpha = 0.1 N read
#: with N a minibatch of 100 (alpha 10, as the pure-M2 reproduction Response777/
#: Semi-supervised-VAE does), Adam 1e-3, 200 epochs.
RECIPES['alpha10'] = dict(RECIPES['ours'], lr=1e-3, alpha=10.0, epoch=200)

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
    updater = VAEUpdater(exp.iterator(x_train, args.m1_batchsize, what='--set m1-batchsize'), opt,
                         converter=DynamicBinarizeConverter(), device=exp.device)
    exp.train(updater, stage='m1', models={'m1': m1}, report=['main/loss'],
              stop=(args.m1_epoch, 'epoch'), images_per_iteration=args.m1_batchsize)
    return m1


def parse(argv, model, script, description):
    """The command line: expkit.make_parser's options and this experiment's; ``model``
    'm1m2' (m1m2_semisupervised.py) or None (``--model`` chooses)."""
    name = '%s_semisupervised' % (model or 'm2')
    parser = make_parser(description, script=script, epoch=30, batchsize=100,
                         out='results/' + name, validation=10000,  # nips14-ssl: 50k/10k
                         quick=dict(n_train=300, m1_epoch=1, m1_gate='warn'),
                         distributed=model is None)     # m2_semisupervised.py
    add, more, setting = parser.add_argument, parser.more.add_argument, parser.add_setting
    if model is None:
        add('--model', choices=['m2', 'm1m2'], default='m2',
            help='M2 on the images (default) or M1+M2 (as m1m2_semisupervised.py)')
    parser.add_recipe(
        RECIPES, 'nips14' if model == 'm1m2' else 'alpha10',
        help="nips14: dpkingma/nips14-ssl's M1 (batch 1000, Adam 3e-4, weight prior, "
             "1000 epochs) and M2 (unlabelled/100 + labelled/100 per step, e.g. 499 + 1, "
             "its Adam without bias correction, 3000 passes); ours: 100 + 100 per step, "
             "chainer's Adam, 30 epochs of M1 at batch 100; alpha10: ours with alpha 10, "
             "Adam 1e-3, 200 epochs (default: %(default)s; explicit options and --set "
             "win)")
    add('--labels', type=int, choices=[100, 600, 1000, 3000], default=100,
        help='labelled training images, balanced over the digits (default %(default)s)')
    setting('--labelled-batchsize', type=positive_int, default=None,
            help='labelled images per minibatch (default: labels/100 with 100 labels, else '
                 'labels/200, under nips14; 100 under ours)')
    setting('--alpha', type=nonnegative_float, default=0.1,
            help='beta = alpha * N / N_labelled, i.e. the weight of the mean cross-entropy '
                 'beside the per-example bound (nips14-ssl: 0.1, the paper\'s "alpha = 0.1 N" '
                 'with N the data set; 10 reads N as a minibatch of 100, as the pure-M2 '
                 'reproduction Response777/Semi-supervised-VAE does)')
    add('--z-dim', type=positive_int, default=50, help="M2's latent dimensions (default 50)")
    setting('--n-hidden', type=positive_int, default=None,
            help="M2's hidden units (default 500; 300 for M1+M2 with 100 labels)")
    parser.default_from('n_hidden', lambda a: 300 if (model or a.model) == 'm1m2' and
                        a.labels == 100 else 500, '500')
    parser.default_from('batchsize', lambda a: None if a.recipe == 'nips14' else 100,
                        'unlabelled/100 with 100 labels, else /200, under nips14 (499 with '
                        '100 labels on the 50k split); 100 under ours')
    setting('--optimizer', choices=['nips14-adam', 'adam'], default=None,
            help="M2's optimiser: nips14-ssl's adam.py (no bias correction, no epsilon; "
                 "vae.optim.NIPS14Adam) or chainer's Adam (set by --recipe)")
    setting('--lr', type=positive_float, default=3e-4,
            help='Adam step size (default %(default)s)')
    setting('--init-std', type=nonnegative_float, default=1e-3,
            help='weights ~ N(0, std^2) as nips14-ssl init_w(1e-3); 0 = LeCun')
    add('--m1-epoch', type=positive_int, default=None,
        help='M1 epochs (M1+M2 only; nips14 1000, ours 30; nips14-ssl\'s released M1 is '
             'its "longrun" at 10,000 epochs)')
    setting('--m1-batchsize', type=positive_int, default=None,
            help="M1's minibatch (M1+M2 only; nips14 1000, ours 100)")
    setting('--m1-lr', type=positive_float, default=None,
            help="M1's Adam step size (M1+M2 only; nips14 3e-4, ours 1e-3)")
    setting('--m1-eps', type=positive_float, default=None,
            help="M1's Adam epsilon (M1+M2 only; nips14 1e-10, ours 1e-8)")
    setting('--m1-weight-prior', action=argparse.BooleanOptionalAction, default=None,
            help="N(0, 1) prior on all of M1's parameters, a weight decay of 1/N (nips14: on)")
    setting('--m1-gate', choices=['stop', 'warn'], default='stop',
            help="before M2 starts, M1's sampled codes must reach a median signal-to-noise "
                 'ratio of %.1f (m1_diagnostics); stop (default) or only warn' % M1_GATE_SNR)
    setting('--m1-features', choices=['sample', 'mean'], default='sample',
            help="M2's input: a fresh sample of M1's q(z|x) every minibatch (nips14-ssl) or its "
                 "posterior mean (M1+M2 only)")
    more('--m1-model', type=readable_file, default=None, metavar='NPZ',
         help='reuse a trained M1 (model_m1.npz of an earlier M1+M2 run) instead of training '
              'one (M1+M2 only)')
    args = parser.parse_args(argv)
    for option, given in (('--m1-model', args.m1_model), ('--set m1-features',
                                                         args.m1_features != 'sample')):
        if given and (model or args.model) != 'm1m2':
            raise UsageError('%s only applies to --model m1m2' % option)
    return args


def main(argv=None, *, script=__file__, description=__doc__, model=None):
    """The experiment: ``model`` 'm1m2' for m1m2_semisupervised.py; None here, where
    ``--model`` chooses (default m2)."""
    args = parse(argv, model, script, description)
    model = model or args.model
    name = '%s_semisupervised' % model
    exp = Experiment(name, args, stages=['m1', 'main'] if model == 'm1m2' and
                     not args.m1_model else ['main'], paper={
        'source': 'Kingma et al. 2014, Table 1 (test error %%, %s, N=%d labels, 50,000 '
                  'training images, 3000 passes)' % (model.upper(), args.labels),
        'values': {'test_error_percent': PAPER_TABLE1[model][args.labels]}})
    exp.load_data()
    x_train, y_train, x_test, y_test = exp.train_test()
    labelled, unlabelled = split_labelled(y_train, args.labels, seed=args.seed)
    n_l, n_u = len(labelled), len(unlabelled)
    batch_u, batch_l = minibatch_sizes(args.recipe, args.batchsize, args.labelled_batchsize,
                                       n_l, n_u, args.labels)     # None given: the recipe's
    x_test_bin = binarize_static(x_test, method='bernoulli', seed=123)
    x_val, y_val = exp.validation()

    if model == 'm2':
        m1, inputs = None, m2_inputs(x_train, y_train, labelled, unlabelled, x_test_bin, x_val)
    else:
        m1 = load_m1(args.m1_model, exp.device) if args.m1_model else \
            train_m1(exp, args, x_train)
        inputs = m1_inputs(m1, args.m1_features, x_train, y_train, labelled, unlabelled,
                           x_test, x_val, y_test, x_test_bin)
        inputs['diagnostics']['gate'] = m1_gate(inputs['diagnostics'], args.m1_gate)
    x_test_in, x_val_in = inputs['x_test_in'], inputs['x_val_in']

    m2, opt = new_m2(inputs['n_in'], args.z_dim, args.n_hidden,
                     'bernoulli' if m1 is None else 'gaussian', args.init_std, args.optimizer,
                     args.lr, n_l + n_u, exp.device)
    opt = exp.optimizers({'m2': opt})['m2']           # ChainerMN: gradients averaged
    its = {'main': exp.iterator(inputs['train_u'], batch_u),
           'labelled': exp.iterator(inputs['train_l'], min(batch_l, n_l),
                                    what='the labelled minibatch (the smaller of '
                                    'labelled-batchsize and --labels)')}
    updater = M2Updater(its, opt, n_l, n_u, args.alpha, converter=inputs['converter'],
                        labelled_converter=inputs['converter'], device=exp.device)
    validation = ['validation/error'] if len(x_val) else []
    trainer = exp.train(
        updater, models={'m2': m2}, report=['main/loss', 'main/bound_l', 'main/bound_u',
                                            'main/loss_cls', 'test/error'] + validation,
        plots={'loss.png': ['main/loss'], 'test_error.png': ['test/error'] + validation},
        extensions=[TestError(lambda x: classify(m2, x), x_test_in[:2000], y_test[:2000])],
        select=dict(name='error', models={'m2': m2}, evaluate=lambda: classification_error(
            classify(m2, x_val_in), y_val)) if validation else None,
        images_per_iteration=batch_u + min(batch_l, n_l))

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
    exp.savefig(analogies_figure(grid), 'analogies.png')
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
        'model': model, 'n_labelled': n_l, 'n_unlabelled': n_u, 'batchsize': batch_u,
        'labelled_batchsize': batch_l,
        'beta': args.alpha * (n_l + n_u) / n_l,
        'active_m1_dims': None if active is None else int(active.sum()),
        'protocol': '%d labelled (balanced) + %d unlabelled training images, test error on '
                    '%d test images (%s)' % (n_l, n_u, len(y_test),
                                             'seeded binarisation' if m1 is None else
                                             'M1 posterior mean of the grey image')})


if __name__ == '__main__':
    run_main(main)
