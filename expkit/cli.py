"""The standard command line of every experiment, and the error boundary around ``main``.

Usage contract, the same for every script::

    python experiments/NAME.py [--device SPEC | --gpu N] [--epoch E] [--batchsize B]
        [--seed S] [--out DIR] [--dataset NAME] [--data-dir DIR] [--resume SNAPSHOT] [--quick]
        [--validation N] [--threads N] [--time-limit MINUTES]
"""
import argparse
import inspect
import os
import shutil
import sys

from expkit import validate as v
from expkit.errors import UsageError

_created_dirs = []  # output folders this process created; removed again if a run fails empty


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option prints one line (no usage block) and exits with status 2."""

    def error(self, message):
        self.exit(2, '%s: error: %s (see --help)\n' % (self.prog, message))

    def parse_args(self, args=None, namespace=None):
        v.intercept(self)   # expkit.validate.script_parser: hand the parser over, parse nothing
        argv = list(sys.argv[1:] if args is None else args)
        ns = super().parse_args(argv, namespace)
        ns.argv = argv
        ns.script = self.script
        ns.validation_default = self.validation_default
        return ns


def make_parser(description, *, epoch, batchsize, out, dataset='mnist',
                snapshot_interval=None, datasets=('mnist', 'fashion-mnist', 'digits'),
                validation=0):
    """The parser with the standard options; scripts add their own with ``add_argument``.

    ``epoch``/``batchsize``/``out`` are the script's defaults for the full run;
    ``validation``: the default of ``--validation`` on the official 60,000 training images
    (the paper's protocol, e.g. 10000 for a 50k/10k split; 0 for none).
    """
    caller = inspect.stack()[1].filename
    prog = os.path.basename(caller) if caller.endswith('.py') else None
    main_file = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ''
    if prog and os.path.dirname(main_file) == os.path.dirname(os.path.abspath(caller)):
        prog = os.path.basename(main_file)  # a wrapper script (m1m2 -> m2) names itself
    parser = OneLineParser(prog=prog, description=(description or '').strip(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.script = os.path.relpath(caller) if prog else caller
    parser.validation_default = validation
    add = parser.add_argument
    dev = parser.add_mutually_exclusive_group()
    dev.add_argument('--device', type=v.device_spec, default='@numpy',
                     help="chainer device spec: '@numpy' (default), '@cupy:0', ...")
    dev.add_argument('--gpu', type=v.gpu_id, default=None, metavar='N',
                     help='alias for --device @cupy:N (N < 0 means CPU)')
    add('--epoch', type=v.positive_int, default=epoch,
        help='training epochs (default %(default)s)')
    add('--batchsize', type=v.positive_int, default=batchsize,
        help='minibatch size (default %(default)s)')
    add('--seed', type=v.seed, default=0, help='random seed (default %(default)s)')
    add('--out', type=v.writable_dir, default=out, help='output folder (default %(default)s)')
    add('--dataset', default=dataset, choices=list(datasets),
        help='training data (default %(default)s)')
    add('--data-dir', type=v.readable_dir, default=None, metavar='DIR',
        help='folder with the IDX files (default: $MNIST_DIR, the cache, a download, '
             'then the offline mnist-5k fallback)')
    add('--resume', type=v.readable_file, default=None, metavar='SNAPSHOT',
        help='continue from a trainer snapshot')
    add('--snapshot-interval', type=v.positive_int,
        default=snapshot_interval or max(1, epoch // 4),
        metavar='EPOCHS', help='snapshot every this many epochs (default %(default)s)')
    add('--quick', action='store_true', help='tiny run (seconds) for smoke tests')
    add('--validation', type=v.nonnegative_int, default=None, metavar='N',
        help='hold out the last N training images as the validation set (default: %s)' % (
            '0' if not validation else "%d on the official 60,000 training images%s, else 0"
            % (validation, " -- the paper's 50k/10k split" if validation == 10000 else '')))
    add('--threads', type=v.positive_int, default=None, metavar='N',
        help='CPU threads for BLAS/OpenMP (default: every core this process may use)')
    add('--time-limit', type=v.positive_float, default=None, metavar='MINUTES',
        help='stop training cleanly before this many minutes from the start (a snapshot is '
             'written, evaluation and figures follow, results.json gets "partial": true and '
             'the resume_command); the evaluation after training is extra')
    return parser


def _one_line(exc):
    return ' '.join(str(exc).split()) or type(exc).__name__


def run_main(main, argv=None):
    """Call ``main(argv)``; turn expected errors into one line on stderr and exit status 2,
    and a diverged run (:mod:`expkit.guards`) into one line and exit status 3."""
    from datasets.errors import DataError
    from expkit.guards import EXIT_DIVERGED, Diverged
    prog = os.path.basename(sys.argv[0])
    try:
        return main(argv)
    except (UsageError, DataError) as exc:
        _remove_empty_outputs()
        sys.stderr.write('%s: error: %s\n' % (prog, _one_line(exc)))
        sys.exit(2)
    except Diverged as exc:          # results.json (marked diverged) and snapshots are kept
        sys.stderr.write('%s: %s\n' % (prog, _one_line(exc)))
        sys.exit(EXIT_DIVERGED)
    except KeyboardInterrupt:
        sys.stderr.write('%s: interrupted; resume with --resume OUT/snapshot_*.npz\n' % prog)
        sys.exit(130)


def _remove_empty_outputs():
    """Nothing half-written: drop output folders this process created, if still empty."""
    while _created_dirs:
        path = _created_dirs.pop()
        if os.path.isdir(path) and not os.listdir(path):
            shutil.rmtree(path, ignore_errors=True)
