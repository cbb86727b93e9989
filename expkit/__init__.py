"""expkit: the experiment contract shared by every script in ``experiments/``.

Each script is short wiring for one figure or table::

    parser = make_parser(__doc__, script=__file__, epoch=20, batchsize=100,
                         out='results/aae_gaussian', quick=dict(n_hidden=64))
    args = parser.parse_args(argv)      # every default resolved here, --quick included
    exp = Experiment('aae_gaussian', args, paper={...}, stages=['main'])
    data = exp.load_data()              # --validation, --n-train/--n-test subsets
    exp.train(updater, models={...}, report=[...], plots={...},     # --resume, --time-limit
              select=dict(name='error', evaluate=..., models={...}))  # optional selection
    exp.finish(measured={...}, config={...})

A run of several training stages (M1 then M2, a CVAE then its regressor) declares them in
``Experiment(..., stages=[...])`` and calls ``exp.train(..., stage=name)`` for each, in order.
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
