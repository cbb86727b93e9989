"""Run by tests/test_distributed.py as ``mpiexec -n 2 python tests/mpi_scripts.py OUT``.

In one MPI job (one start-up for all): a ``--quick --communicator naive`` run of each
script with ``--communicator`` into ``OUT/<script>``, then ``aae_parzen`` resumed on these
ranks from the snapshot of a one-process run (``OUT/resume_from/snapshot_iter_*.npz``, made
by the test beforehand) into ``OUT/resumed``; and ``aae_parzen`` stopped by
``--time-limit`` on these ranks into ``OUT/time_limit``. The ranks > 0 leave each script when its
training ends (``SystemExit(0)`` from ``expkit.Experiment.train``): caught here, so that
they take part in the next script.
"""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import chainer_compat  # noqa: F401,E402

from expkit.distributed import abort_job  # noqa: E402
from expkit.testing import load_script  # noqa: E402

SCRIPTS = ['aae_semisupervised', 'aae_clustering', 'aae_parzen', 'm2_semisupervised',
           'gan_goodfellow']
COMMON = ['--quick', '--threads', '1', '--communicator', 'naive']


def run(script, argv):
    try:
        load_script('experiments/%s.py' % script).main(argv)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            abort_job(exc.code)
            raise
    except BaseException:
        abort_job(1, traceback=True)      # the other rank would wait forever
        raise


def main(out, scripts):
    for script in scripts:
        run(script, COMMON + ['--out', os.path.join(out, script)])
    run('aae_parzen', COMMON + ['--epoch', '100', '--time-limit', '0.05',
                                '--out', os.path.join(out, 'time_limit')])
    snapshots = glob.glob(os.path.join(out, 'resume_from', 'snapshot_iter_*.npz'))
    if snapshots:
        run('aae_parzen', COMMON + ['--epoch', '2', '--out', os.path.join(out, 'resumed'),
                                    '--resume', snapshots[0]])


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2:] or SCRIPTS)
