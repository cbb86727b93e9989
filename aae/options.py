"""Command-line options shared by the AAE experiment scripts (``experiments/aae_*.py``)."""
from aae.optim import LR_DROP_EPOCHS
from expkit.validate import epoch_list, nonnegative_float, positive_int


def add_aae_options(parser, n_hidden_quick=64, dis_noise=0.0):
    """--optimizer, --rec-loss, --dis-output, --dis-noise, --n-hidden, --lr-drop (aae.optim/net)."""
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
    add('--lr-drop', type=epoch_list, default=','.join(map(str, LR_DROP_EPOCHS)),
        metavar='E1,E2',
        help='SGD: divide every learning rate by 10 at these epochs (paper: %(default)s)')
    parser.set_defaults(n_hidden_quick=n_hidden_quick)


def resolve_aae_options(args):
    """Fill ``args.n_hidden`` and return the lr-drop epochs as a tuple of ints."""
    if args.rec_loss is None:
        args.rec_loss = 'mean' if args.optimizer == 'adam' else 'sum'
    if args.n_hidden is None:
        args.n_hidden = args.n_hidden_quick if args.quick else 1000
    return tuple(args.lr_drop)
