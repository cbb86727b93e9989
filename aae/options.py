"""Command-line options shared by the AAE experiment scripts (``experiments/aae_*.py``)."""
import argparse

from aae.optim import LR_DROP_UPDATES, OPTIMIZER_KINDS
from expkit.errors import UsageError
from expkit.validate import (KeyedNumbers, epoch_list, nonnegative_float, positive_float,
                             positive_int, probability, update_list)

#: the AAE scripts' part of the --quick protocol (expkit.make_parser)
AAE_QUICK = dict(n_hidden=64)


#: ``--set phase-lr=rec=0.001,reg=1e-4,sup=0.001`` -> {'rec': 0.001, ...} (any subset)
phase_lrs = KeyedNumbers(('rec', 'reg', 'sup'), positive_float, name='phase_lr_list')


#: ``--recipe`` of the categorical AAE scripts (Table 2 and Table 3): the defaults each sets;
#: explicit options and settings win (expkit's preset_defaults).
#:
#: * ``paper``: the paper's SGD settings (aae/optim.py) and its noise placement,
#:   N(0, 0.3^2) on the encoder's input at training time, none on the discriminators
#:   (arXiv:1511.05644 Sec. 5 as its reproducers transcribe the appendix; we could not find
#:   the appendix text itself, see docs/results/aae.md);
#: * ``seed``: the seed article's Chainer code (musyoku/adversarial-autoencoder): its Adam
#:   (one for both encoder phases), noise 0.3 on the discriminators' inputs, batch 64, and
#:   (Table 2) the labelled minibatch reconstructed too; not its [-1, 1] scaling with a tanh
#:   decoder (we keep [0, 1] and the sigmoid decoder);
#: * ``fast``: ours, not the paper's: one Adam per phase (aae/optim.py ADAM_PHASE) with the
#:   paper's encoder-input noise and the seed's discriminator noise;
#: * ``balanced`` (default, ours): ``fast`` with the adversarial phases' alpha raised to
#:   1e-3 (as the reconstruction's: the encoder's phases balanced) and every alpha divided
#:   by 10 after 25,000 updates (the paper's first drop), 100 epochs (50,000 updates on
#:   the 50,000 training images): our best Table 2 runs.
CATEGORICAL_RECIPES = {
    'paper': dict(optimizer='sgd', enc_noise=0.3, dis_noise=0.0),
    'seed': dict(optimizer='adam', enc_noise=0.0, dis_noise=0.3, batchsize=64,
                 labelled_reconstruction=True),
    'fast': dict(optimizer='adam-phase', enc_noise=0.3, dis_noise=0.3),
    'balanced': dict(optimizer='adam-phase', enc_noise=0.3, dis_noise=0.3,
                     phase_lr={'reg': 1e-3}, lr_drop_updates=(25000,), epoch=100),
}


#: ``--recipe`` of ``experiments/aae_gaussian.py`` (Fig. 2, Sec. 2), the defaults each sets:
#:
#: * ``adam-drop`` (default, ours): the seed article's Adam(1e-4, beta1 0.5) with gradient
#:   clipping 5, one optimiser for both encoder phases, the reconstruction cost as a mean
#:   over pixels (all from musyoku/adversarial-autoencoder), plus every alpha divided by 10
#:   after 20,000 updates (ours). On full MNIST its codes match N(0, I) to the end of the
#:   run; the paper's SGD settings fold them onto a few line segments between updates
#:   15,000 and 25,000 (docs/results/aae.md, Fig. 2);
#: * ``paper``: the literal transcription: the appendix's SGD settings (aae/optim.py, lr
#:   0.01 / 0.1, momentum 0.9 / 0.1, the summed Euclidean cost, drops after 25,000 and
#:   500,000 updates). The paper gives no separate settings for Fig. 2; these are its
#:   likelihood experiment's (Sec. 3, Table 1).
GAUSSIAN_RECIPES = {
    'adam-drop': dict(optimizer='adam', lr_drop_updates=(20000,)),
    'paper': dict(optimizer='sgd'),
}


def add_gaussian_recipe_option(parser):
    """``--recipe adam-drop|paper`` of the Fig. 2 script (:data:`GAUSSIAN_RECIPES`); call it
    after the options it sets are declared."""
    parser.add_recipe(GAUSSIAN_RECIPES, 'adam-drop',
                      help="adam-drop (default, ours): the seed article's Adam(1e-4, "
                           "beta1 0.5), clipping 5, per-pixel mean reconstruction cost, "
                           "alpha / 10 after 20,000 updates; paper: the appendix's SGD "
                           "settings and drops, summed Euclidean cost (see aae/options.py; "
                           "explicit options and --set win)")


#: ``aae_clustering.py``'s recipes: :data:`CATEGORICAL_RECIPES` with a different ``paper``:
#:
#: * ``paper``: the appendix's clustering model as its public reproductions transcribe it
#:   (:func:`aae.net.categorical_aae`): two layers of 3000 units in the encoder and decoder,
#:   batch normalisation in every autoencoder layer (the pre-softmax logits of q(y|x) and
#:   the linear z included), dropout 0.2 on the input and no other noise, discriminators of
#:   1000 units (1henrypage's config), the appendix's SGD (aae/optim.py) with one drop, at
#:   epoch 50 of 50,000 images (25,000 updates);
#: * ``balanced`` (default, ours): the best of our recorded runs for Table 3: one Adam per
#:   phase with alpha 1e-3 for the adversarial phases too, alpha / 10 after 25,000 updates,
#:   noise 0.3 on the encoder's and the discriminators' inputs, a 10-D style code (the
#:   seed's), 1000 units, no batch norm, 70 epochs (35,000 updates);
#: * ``noise``: our first reading of the paper: its SGD, 1000 units, N(0, 0.3^2) on the
#:   encoder's input (the Sec. 5 placement), no batch norm or dropout.
CLUSTERING_RECIPES = dict(
    {name: {k: v for k, v in preset.items() if k != 'labelled_reconstruction'}
     for name, preset in CATEGORICAL_RECIPES.items()},
    paper=dict(optimizer='sgd', n_hidden=3000, dis_hidden=1000, batch_norm=True,
               input_dropout=0.2, enc_noise=0.0, dis_noise=0.0, lr_drop_updates=(25000,)),
    balanced=dict(CATEGORICAL_RECIPES['balanced'], z_dim=10, epoch=70),
    noise=dict(CATEGORICAL_RECIPES['paper']),
)


def add_clustering_recipe_option(parser):
    """``--recipe paper|balanced|noise|seed|fast`` of ``aae_clustering.py``
    (:data:`CLUSTERING_RECIPES`); call it after the options it sets are declared."""
    parser.add_recipe(CLUSTERING_RECIPES, 'balanced',
                      help="balanced (default, ours, the best recorded): one Adam per phase, "
                           "reg alpha 1e-3, / 10 after 25,000 updates, noise 0.3 on the "
                           "encoder and D inputs, z 10; paper: the appendix's model, 3000 "
                           "units, batch norm, input dropout 0.2, SGD; noise: the paper's "
                           "SGD with input noise 0.3, 1000 units; seed; fast (see "
                           "aae/options.py; explicit options and --set win)")


def add_appendix_options(parser):
    """batch-norm, input-dropout, dis-hidden: the pieces of the appendix's clustering model
    (:func:`aae.net.categorical_aae`), each a setting for the ablation."""
    add = parser.add_setting
    add('--batch-norm', action=argparse.BooleanOptionalAction, default=False,
        help="batch normalisation in every autoencoder layer, the encoder's outputs (y logits, "
             "z) included (the appendix's clustering model; no-batch-norm: none)")
    add('--input-dropout', type=probability, default=0.0, metavar='RATE',
        help="dropout on the encoder's input at training time (appendix, clustering: 0.2; "
             "default %(default)s)")
    add('--dis-hidden', type=positive_int, default=None, metavar='N',
        help='hidden units per discriminator layer (default: n-hidden)')


#: ``aae_semisupervised.py``'s recipes (Table 2): :data:`CATEGORICAL_RECIPES` and
#:
#: * ``balanced-bn`` (default, ours, our best recorded Table 2 runs): ``balanced`` with
#:   batch normalisation in the encoder's hidden layers and on its (y logits, z) output, as
#:   shaharazulay/adversarial-autoencoder-classifier's ``Q_net`` transcribes the appendix's
#:   semi-supervised model (1henrypage's transcription has none: ``--recipe balanced``), and
#:   in the decoder's hidden layers (:func:`aae.net.categorical_aae`).
SEMISUPERVISED_RECIPES = dict(CATEGORICAL_RECIPES, **{
    'balanced-bn': dict(CATEGORICAL_RECIPES['balanced'], batch_norm=True)})


def add_recipe_option(parser):
    """``--recipe balanced-bn|balanced|paper|seed|fast`` of ``aae_semisupervised.py``
    (:data:`SEMISUPERVISED_RECIPES`); call it after the options it sets are declared."""
    parser.add_recipe(SEMISUPERVISED_RECIPES, 'balanced-bn',
                      help="balanced-bn (default, ours, our best recorded): balanced with "
                           "batch norm in the encoder and decoder (one public transcription "
                           "of the appendix); balanced (ours): one Adam per phase, "
                           "reg alpha 1e-3, / 10 after 25,000 updates, noise 0.3 on the "
                           "encoder and D inputs; paper: the paper's SGD, noise 0.3 on the "
                           "encoder input; seed: the seed code's Adam, noise 0.3 on the "
                           "discriminators, batch 64, labelled reconstruction; fast: ours, "
                           "one Adam per phase (see aae/options.py; explicit options and "
                           "--set win)")


def add_aae_options(parser, dis_noise=0.0, enc_noise=None, optimizer='sgd'):
    """The settings optimizer, phase-lr, rec-loss, dis-output, dis-noise (and enc-noise when
    ``enc_noise`` is given), n-hidden, lr-drop-updates / lr-drop (aae.optim/net)."""
    add = parser.add_setting
    add('--optimizer', choices=OPTIMIZER_KINDS, default=optimizer,
        help="sgd: the paper's SGD+momentum settings; adam: the seed author's "
             'Adam(1e-4, beta1=0.5) with gradient clipping 5, one for both encoder phases; '
             'adam-phase: ours, one Adam per phase (aae/optim.py); default %(default)s')
    add('--phase-lr', type=phase_lrs, default=None, metavar='rec=LR,reg=LR,sup=LR',
        help='override the learning rate (SGD) or alpha (adam-phase) of the reconstruction, '
             'regularization and supervised phases')
    if enc_noise is not None:
        add('--enc-noise', type=nonnegative_float, default=enc_noise, metavar='STD',
            help="std of Gaussian noise on the encoder's input at training time (the "
                 "paper's placement; default %(default)s)")
    add('--rec-loss', choices=['sum', 'mean'], default=None,
        help='reconstruction cost per image: sum of squared errors over pixels (paper\'s '
             '"Euclidean cost"; default with sgd) or their mean (seed code; default with adam)')
    parser.default_from('rec_loss', lambda args: 'mean' if args.optimizer == 'adam' else 'sum',
                        'sum with sgd, mean with adam')
    add('--dis-output', choices=['softmax', 'sigmoid'], default='softmax',
        help='discriminator output: two-unit softmax (default, seed) or one sigmoid unit')
    add('--dis-noise', type=nonnegative_float, default=dis_noise, metavar='STD',
        help='std of Gaussian noise on the discriminator input (seed code: 0.3; default '
             '%(default)s)')
    add('--n-hidden', type=positive_int, default=1000, metavar='N',
        help='hidden units per layer (default %(default)s, the paper)')
    drops = parser.settings.add_mutually_exclusive_group()
    drops.add_argument(
        '--lr-drop-updates', type=update_list, default=None, metavar='U1,U2',
        help='divide every learning rate (Adam: alpha) by 10 after these numbers of updates '
             '(default with sgd %s: the paper\'s epochs 50 and 1000 of 50,000 images at batch '
             '100; with adam and adam-phase none, as in the seed code)'
             % ','.join(map(str, LR_DROP_UPDATES)))
    drops.add_argument(
        '--lr-drop', type=epoch_list, default=None, metavar='E1,E2',
        help='the same in epochs of this run\'s training set, converted to updates with its '
             'iterations per epoch')


def lr_drops(args):
    """The lr drops as ``(values, 'update' or 'epoch')`` (:func:`aae.optim.drop_updates`): by
    default the paper's for SGD, none for Adam (the seed code has no schedule)."""
    if args.lr_drop is not None:
        return tuple(args.lr_drop), 'epoch'
    if args.lr_drop_updates is not None:
        return tuple(args.lr_drop_updates), 'update'
    return (LR_DROP_UPDATES if args.optimizer == 'sgd' else ()), 'update'


def phase_lr(args):
    """The ``phase-lr`` overrides for :func:`aae.optim.make_optimizers` (a usage error with
    the seed's single Adam, which has no phases)."""
    if args.phase_lr and args.optimizer == 'adam':
        raise UsageError('--set phase-lr needs one optimiser per phase: use --set '
                         'optimizer=sgd or adam-phase, or drop phase-lr')
    return args.phase_lr
