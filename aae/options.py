"""Command-line options shared by the AAE experiment scripts (``experiments/aae_*.py``)."""
from aae.optim import LR_DROP_UPDATES
from expkit.validate import epoch_list, nonnegative_float, positive_int, update_list


def add_aae_options(parser, n_hidden_quick=64, dis_noise=0.0):
    """--optimizer, --rec-loss, --dis-output, --dis-noise, --n-hidden, --lr-drop-updates /
    --lr-drop (aae.optim/net)."""
    add = parser.add_argument
    add('--optimizer', choices=['sgd', 'adam'], default='sgd',
        help="sgd: the paper's SGD+momentum settings (default); adam: the seed author's "
             'Adam(1e-4, beta1=0.5) with gradient clipping 5')
    add('--rec-loss', choices=['sum', 'mean'], default=None,
        help='reconstruction cost per image: sum of squared errors over pixels (paper\'s '
             '"Euclidean cost"; default with sgd) or their mean (seed code; default with adam)')
    add('--dis-output', choices=['softmax', 'sigmoid'], default='softmax',
        help='discriminator output: two-unit softmax (default, seed) or one sigmoid unit')
    add('--dis-noise', type=nonnegative_float, default=dis_noise, metavar='STD',
        help='std of Gaussian noise on the discriminator input (seed code: 0.3; default '
             '%(default)s)')
    add('--n-hidden', type=positive_int, default=None,
        help='hidden units per layer (paper: 1000, the default; --quick: %d)' % n_hidden_quick)
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
    parser.set_defaults(n_hidden_quick=n_hidden_quick)


def resolve_aae_options(args):
    """Fill ``args.n_hidden``; return the lr drops as ``(values, 'update' or 'epoch')``
    (:func:`aae.optim.drop_updates`)."""
    if args.rec_loss is None:
        args.rec_loss = 'mean' if args.optimizer == 'adam' else 'sum'
    if args.n_hidden is None:
        args.n_hidden = args.n_hidden_quick if args.quick else 1000
    if args.lr_drop is not None:
        return tuple(args.lr_drop), 'epoch'
    if args.lr_drop_updates is not None:
        return tuple(args.lr_drop_updates), 'update'
    return LR_DROP_UPDATES, 'update'
