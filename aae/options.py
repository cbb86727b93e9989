"""Command-line options shared by the AAE experiment scripts (``experiments/aae_*.py``)."""
from aae.optim import LR_DROP_UPDATES
from expkit.validate import epoch_list, nonnegative_float, positive_int, update_list

#: the AAE scripts' part of the --quick protocol (expkit.make_parser)
AAE_QUICK = dict(n_hidden=64)


def add_aae_options(parser, dis_noise=0.0):
    """--optimizer, --rec-loss, --dis-output, --dis-noise, --n-hidden, --lr-drop-updates /
    --lr-drop (aae.optim/net)."""
    add = parser.add_argument
    add('--optimizer', choices=['sgd', 'adam'], default='sgd',
        help="sgd: the paper's SGD+momentum settings (default); adam: the seed author's "
             'Adam(1e-4, beta1=0.5) with gradient clipping 5')
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
    add('--n-hidden', type=positive_int, default=1000,
        help='hidden units per layer (default %(default)s, the paper)')
    drops = parser.add_mutually_exclusive_group()
    drops.add_argument(
        '--lr-drop-updates', type=update_list, default=None, metavar='U1,U2',
        help='SGD: divide every learning rate by 10 after these numbers of updates (default '
             '%s: the paper\'s epochs 50 and 1000 of 50,000 images at batch 100)'
             % ','.join(map(str, LR_DROP_UPDATES)))
    drops.add_argument(
        '--lr-drop', type=epoch_list, default=None, metavar='E1,E2',
        help='the same in epochs of this run\'s training set, converted to updates with its '
             'iterations per epoch')


def lr_drops(args):
    """The lr drops as ``(values, 'update' or 'epoch')`` (:func:`aae.optim.drop_updates`)."""
    if args.lr_drop is not None:
        return tuple(args.lr_drop), 'epoch'
    if args.lr_drop_updates is not None:
        return tuple(args.lr_drop_updates), 'update'
    return LR_DROP_UPDATES, 'update'
