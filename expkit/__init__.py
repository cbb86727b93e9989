"""expkit: the experiment contract shared by every script in ``experiments/``.

Each script is short wiring for one figure or table::

    parser = make_parser(__doc__, epoch=20, batchsize=100, out='results/aae_gaussian')
    args = parser.parse_args(argv)
    exp = Experiment('aae_gaussian', args, paper={...})
    data = exp.load_data()              # --validation: data.x_val, the last N training images
    trainer = exp.trainer(updater, models={...}, report=[...], plots={...})
    exp.select_best(trainer, 'error', evaluate, {'enc': enc})   # optional model selection
    exp.run(trainer, images_per_iteration=args.batchsize)      # --resume, --time-limit
    exp.finish(measured={...}, config={...})

``--threads`` (BLAS/OpenMP threads, default every core) is applied when the Experiment is
made; ``--time-limit`` stops training early with a snapshot and records ``partial`` and the
``resume_command`` in results.json.

``run_main(main)`` turns a :class:`UsageError` or :class:`datasets.DataError` into one line on
stderr and exit status 2, and removes an output folder that the failed run created empty.
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import matplotlib

matplotlib.use('Agg')  # figures are files; never open a window

from expkit.errors import UsageError  # NOQA: E402
from expkit.cli import make_parser, run_main  # NOQA: E402
from expkit.experiment import Experiment  # NOQA: E402

__all__ = ['UsageError', 'make_parser', 'run_main', 'Experiment']
