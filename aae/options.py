"""Command-line options shared by the AAE experiment scripts (``experiments/aae_*.py``)."""
from aae.optim import LR_DROP_UPDATES


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
    add('--dis-noise', type=float, default=dis_noise, metavar='STD',
        help='std of Gaussian noise on the discriminator input (seed code: 0.3; default '
             '%(default)s)')
    add('--n-hidden', type=int, default=None,
        help='hidden units per layer (paper: 1000, the default; --quick: %d)' % n_hidden_quick)
    drops = parser.add_mutually_exclusive_group()
    drops.add_argument(
        '--lr-drop-updates', default=None, metavar='U1,U2',
        help='SGD: divide every learning rate by 10 after these numbers of updates (default '
             '%s: the paper\'s epochs 50 and 1000 of 50,000 images at batch 100)'
             % ','.join(map(str, LR_DROP_UPDATES)))
    drops.add_argument(
        '--lr-drop', default=None, metavar='E1,E2',
        help='the same in epochs of this run\'s training set, converted to updates with its '
             'iterations per epoch')
    parser.set_defaults(n_hidden_quick=n_hidden_quick)


def resolve_aae_options(args):
    """Fill ``args.n_hidden``; return the lr drops as ``(values, 'update' or 'epoch')``
    (:func:`aae.optim.drop_updates`)."""
    from expkit import UsageError
    if args.rec_loss is None:
        args.rec_loss = 'mean' if args.optimizer == 'adam' else 'sum'
    if args.n_hidden is None:
        args.n_hidden = args.n_hidden_quick if args.quick else 1000
    if args.n_hidden < 1:
        raise UsageError('--n-hidden must be positive, got %d' % args.n_hidden)
    if args.dis_noise < 0:
        raise UsageError('--dis-noise must be >= 0, got %g' % args.dis_noise)
    if args.lr_drop is not None:
        option, text, unit, example = '--lr-drop', args.lr_drop, 'epoch', '50,1000'
    elif args.lr_drop_updates is not None:
        option, text, unit, example = '--lr-drop-updates', args.lr_drop_updates, 'update', \
            '25000,500000'
    else:
        return LR_DROP_UPDATES, 'update'
    try:
        values = tuple(int(v) for v in text.split(',') if v.strip())
    except ValueError:
        values = (-1,)
    if any(v < 0 for v in values):
        raise UsageError('%s wants comma-separated %ss >= 0 like %s, got %r'
                         % (option, unit, example, text))
    return values, unit
