"""The standard command line of every experiment, and the error boundary around ``main``.

Usage contract, the same for every script::

    python experiments/NAME.py [--data-dir DIR] [--out DIR] [--epoch E] [--time-limit MINUTES]
        [--resume SNAPSHOT] [--device SPEC | --gpu N] [--threads N] [--quick]
        [--batchsize B] [--seed S] [--dataset NAME] [--n-train N] [--n-test N]
        [--validation N] [--snapshot-interval E] [--set KEY=VALUE ...]

A script that reads no data set (``make_parser(..., data=False)``) has no --dataset,
--data-dir, --n-train, --n-test or --validation; one that trains without
:meth:`expkit.Experiment.train` (``trainer=False``) has no --resume, --snapshot-interval or
--time-limit.

--help lists the script's own options first (what a user chooses: ``--recipe``, the
paper's variants), then the run options (data, output, length, device), then ``more
options`` (:attr:`OneLineParser.more`: sizes, seeds, evaluation protocol), then the
*settings*: what the recipes set and what an ablation changes (optimiser, noise, widths).
A setting (:meth:`OneLineParser.add_setting`) is not an option of its own but a key of
``--set KEY=VALUE`` (``--set dis-noise=0.3``; a switch: ``--set batch-norm``), declared and
checked like an option and parsed into ``args`` as one (:mod:`expkit.settings`).

``--quick`` is one declared protocol: ``make_parser(..., quick={...})`` names the values it
gives (every script: ``epoch=1``, and with data ``n_train=1000, n_test=500``, plus the
script's own, e.g. ``n_hidden=64``). They become the defaults of those options when
``--quick`` is given, so an option given explicitly still wins; ``args.quick_protocol``
records them. The parser resolves every default; nothing rewrites ``args`` after parsing.
"""
import argparse
import os
import shutil
import sys

from expkit import validate as v
from expkit.errors import UsageError
from expkit.settings import SETTINGS_TITLE, Settings, SettingsMixin  # noqa: F401

_created_dirs = []  # output folders this process created; removed again if a run fails empty


class OneLineParser(SettingsMixin, argparse.ArgumentParser):
    """argparse, but a bad option prints one line (no usage block) and exits with status 2;
    with settings (:meth:`add_setting`, given as ``--set KEY=VALUE``), the quick protocol,
    named recipes (:meth:`add_recipe`) and defaults computed from other options
    (:meth:`default_from`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.quick, self.derived, self.presets = {}, [], None
        self.settings = Settings()
        self.more = self        # where secondary options go (make_parser: 'more options')
        self.quick_action = None

    def error(self, message):
        self.exit(2, '%s: error: %s (see --help)\n' % (self.prog, self.setting_hint(message)))

    def _all_actions(self):
        return self._actions + self.settings._actions

    def action(self, dest):
        return next(a for a in self._all_actions()
                    if a.dest == dest and a.help != argparse.SUPPRESS)

    def get_default(self, dest):
        if any(a.dest == dest for a in self._actions):
            return super().get_default(dest)
        return self.settings.get_default(dest)

    def default_from(self, dest, fn, shown):
        """When option ``dest`` is not given, its value is ``fn(args)`` of the other parsed
        options (e.g. an output folder that depends on ``--prior``); ``shown`` is the default
        that --help states."""
        action = self.action(dest)
        action.default = None
        action.help = (action.help or '').replace('%(default)s', shown)
        self.derived.append((action, fn))

    def preset_defaults(self, dest, table):
        """The value of option ``dest`` names a set of defaults for other options, ``table``
        = {value: {dest: parsed value}} (e.g. a paper's recipe); options given explicitly
        and the --quick protocol win over them."""
        self.presets = (dest, table)

    def add_recipe(self, table, default, help):
        """``--recipe NAME``: each name of ``table`` = {name: {dest: parsed value}} sets the
        defaults of those options and settings (:meth:`preset_defaults`); results.json
        records the name and what it set (``recipe_settings``)."""
        action = self.add_argument('--recipe', choices=sorted(table), default=default,
                                   help=help)
        shown = self._optionals._group_actions      # --help: first after -h
        shown.insert(int(self.add_help), shown.pop(shown.index(action)))
        self.preset_defaults('recipe', table)

    def format_help(self):
        self._add_set_option()
        if self.quick_action is not None:
            self.quick_action.help = (
                'tiny run (seconds) for smoke tests: the defaults become %s (options given '
                'explicitly win)' % ' '.join(self.spell(k, val) for k, val in self.quick.items()))
        return super().format_help() + self.settings_help()

    def parse_args(self, args=None, namespace=None):
        self._add_set_option()
        v.intercept(self)   # expkit.validate.script_parser: hand the parser over, parse nothing
        argv = list(sys.argv[1:] if args is None else args)
        ns = self._parse(argv, namespace)
        defaults = dict(self.presets[1][getattr(ns, self.presets[0])]) if self.presets else {}
        if getattr(ns, 'quick', False):
            defaults.update(self.quick)
        unknown = set(defaults) - {a.dest for a in self._all_actions()}
        if unknown:
            raise ValueError('the quick protocol or preset names no option %s'
                             % sorted(unknown))
        if defaults:      # parsed again with these defaults: explicit options still win
            ns = self._parse(argv, argparse.Namespace(**defaults))
        for action, fn in self.derived:
            if getattr(ns, action.dest) is None:
                value = fn(ns)
                if isinstance(value, str) and action.type is not None:
                    try:
                        value = self._get_value(action, value)
                    except argparse.ArgumentError as exc:
                        self.error(str(exc))
                setattr(ns, action.dest, value)
        ns.quick_protocol = dict(self.quick) if getattr(ns, 'quick', False) else None
        if self.presets:        # results.json: the recipe's name and what it set
            ns.recipe_settings = dict(self.presets[1][getattr(ns, self.presets[0])])
        ns.argv = argv
        ns.script = self.script
        ns.validation_default = self.validation_default
        return ns


def make_parser(description, *, epoch, batchsize, out, script=None, dataset='mnist',
                datasets=('mnist', 'fashion-mnist', 'digits'), validation=0, quick=None,
                data=True, trainer=True, distributed=False):
    """The parser with the standard options; scripts add their own with ``add_argument``
    (what a user chooses), ``parser.more.add_argument`` (secondary: sizes of the evaluation)
    and ``add_setting`` (what the recipes set, ablations).

    ``script``: the script's ``__file__`` (its name in messages and in results.json);
    ``epoch``/``batchsize``/``out`` are the script's defaults for the full run;
    ``validation``: the default of ``--validation`` on the official 60,000 training images
    (the paper's protocol, e.g. 10000 for a 50k/10k split; 0 for none); ``quick``: the
    script's values for ``--quick`` besides the standard ones (parsed values, e.g.
    ``dict(n_hidden=64)``); ``data=False``: the script reads no data set; ``trainer=False``:
    it does not train through :meth:`expkit.Experiment.train`; ``distributed=True``: it takes
    ``--communicator`` (data-parallel training over ``mpiexec`` ranks, :mod:`expkit
    .distributed`).
    """
    prog = os.path.basename(script) if script else None
    parser = OneLineParser(prog=prog, description=(description or '').strip(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.script = os.path.relpath(script) if script else (sys.argv[0] if sys.argv else '')
    parser.validation_default = validation if data else 0
    parser.quick = dict(dict(epoch=1, **(dict(n_train=1000, n_test=500) if data else {})),
                        **(quick or {}))
    run_group = parser.add_argument_group('run options')
    run = run_group.add_argument
    parser.more = parser.add_argument_group('more options')
    more = parser.more.add_argument
    if data:
        run('--data-dir', type=v.readable_dir, default=None, metavar='DIR',
            help='folder with the IDX files (default: $MNIST_DIR, the cache, a download, '
                 'then the offline mnist-5k fallback)')
    run('--out', type=v.writable_dir, default=out, help='output folder (default %(default)s)')
    run('--epoch', type=v.positive_int, default=epoch,
        help='training epochs (default %(default)s)')
    if trainer:
        run('--time-limit', type=v.positive_float, default=None, metavar='MINUTES',
            help='stop training cleanly before this many minutes from the start (a snapshot '
                 'is written, later training stages are skipped, evaluation and figures '
                 'follow, results.json gets "partial": true and the resume_command); the '
                 'evaluation after training is extra')
        run('--resume', type=v.readable_file, default=None, metavar='SNAPSHOT',
            help='continue from a snapshot (snapshot_iter_N.npz, or snapshot_STAGE_iter_N.npz '
                 'of a training stage: the stages before it are loaded, not trained again)')
    dev = run_group.add_mutually_exclusive_group()
    dev.add_argument('--device', type=v.device_spec, default='@numpy',
                     help="chainer device spec: '@numpy' (default), '@cupy:0', ...")
    dev.add_argument('--gpu', type=v.gpu_id, default=None, metavar='N',
                     help='alias for --device @cupy:N (N < 0 means CPU)')
    run('--threads', type=v.positive_int, default=None, metavar='N',
        help='CPU threads for BLAS/OpenMP (default: every core this process may use)')
    parser.quick_action = run('--quick', action='store_true')
    more('--batchsize', type=v.positive_int, default=batchsize,
         help='minibatch size (default %(default)s)')
    more('--seed', type=v.seed, default=0, help='random seed (default %(default)s)')
    if data:
        more('--dataset', default=dataset, choices=list(datasets),
             help='training data (default %(default)s)')
        more('--n-train', type=v.positive_int, default=None, metavar='N',
             help='train on the first N training images (default: all)')
        more('--n-test', type=v.positive_int, default=None, metavar='N',
             help='evaluate on the first N test images, and on at most N validation images '
                  '(default: all)')
        more('--validation', type=v.nonnegative_int, default=None, metavar='N',
             help='hold out the last N training images as the validation set (default: %s)' % (
                 '0' if not validation else "%d on the official 60,000 training images%s, "
                 "else 0" % (validation, " -- the paper's 50k/10k split"
                             if validation == 10000 else '')))
    if trainer:
        more('--snapshot-interval', type=v.positive_int, default=None, metavar='EPOCHS',
             help='snapshot every this many epochs (default: a quarter of the epochs of each '
                  'training stage, at least 1), and at the end')
    if distributed:
        more('--communicator', choices=['naive', 'flat', 'pure_nccl'], default=None,
             help='train data-parallel on the ranks of mpiexec -n N with this ChainerMN '
                  'communicator (naive: CPUs; flat, pure_nccl: one GPU per rank); '
                  '--batchsize stays the global minibatch, split over the ranks; the '
                  'default --threads is the node\'s cores shared by its ranks; rank 0 '
                  'writes every output (default: one process, no MPI; docs/distributed.md)')
    return parser


def _one_line(exc):
    return ' '.join(str(exc).split()) or type(exc).__name__


def run_main(main, argv=None):
    """Call ``main(argv)``; turn expected errors into one line on stderr and exit status 2,
    and a diverged run (:mod:`expkit.guards`) into one line and exit status 3. In a
    distributed run, any other failure of one rank aborts the MPI job (the other ranks would
    wait for it forever); a divergence is decided by all ranks together and ends each."""
    from expkit.distributed import abort_job
    try:
        return _run_main(main, argv)
    except SystemExit as exc:
        from expkit.guards import EXIT_DIVERGED
        if exc.code not in (None, 0, EXIT_DIVERGED):
            abort_job(exc.code if isinstance(exc.code, int) else 1)
        raise
    except BaseException:
        abort_job(1, traceback=True)
        raise


def _run_main(main, argv):
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
