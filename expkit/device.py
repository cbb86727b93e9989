"""Where a run computes: the chainer device, the CPU threads and the random seeds."""
import os
import random

import numpy as np

import chainer

from expkit.errors import UsageError


def available_cores():
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def resolve_device(run, dist=None):
    """The chainer device of ``run`` (:class:`expkit.config.RunConfig`). ``--gpu N`` is an
    alias for ``--device @cupy:N``, as in chainer's own examples. With a GPU communicator
    (``dist``) rank r uses GPU ``intra_rank`` of its node."""
    spec = run.device
    if dist is not None and dist.gpu:
        if run.gpu is not None or spec != '@numpy':
            raise UsageError('--communicator %s puts each rank on GPU <its rank on the node>; '
                             'drop --gpu/--device' % dist.name)
        return chainer.get_device('@cupy:%d' % dist.intra_rank)
    if run.gpu is not None:
        spec = '@cupy:%d' % run.gpu if run.gpu >= 0 else '@numpy'
    if spec.startswith('@cupy') or spec.lstrip('-').isdigit() and int(spec) >= 0:
        if dist is not None and dist.comm is not None:
            raise UsageError('--communicator naive trains on CPUs; for GPUs use '
                             '--communicator pure_nccl (or flat) and drop --gpu/--device')
        if not chainer.backends.cuda.available:
            raise UsageError(
                '%s needs CuPy and a CUDA GPU, which this Python does not have; install them '
                'with make install-gpu (cupy-cuda12x 13 with NumPy 1, 14 with NumPy 2) or '
                'drop --gpu/--device to run on the CPU'
                % ('--gpu %d' % run.gpu if run.gpu is not None else '--device ' + spec))
    try:
        return chainer.get_device(spec)
    except Exception as exc:  # chainer raises ValueError/RuntimeError for bad specs
        raise UsageError("bad --device %r (%s); use '@numpy' or '@cupy:N'" % (spec, exc))


def set_threads(n):
    """Limit BLAS/OpenMP to ``n`` threads (None: every available core); returns ``n``."""
    import threadpoolctl
    if n is None:
        n = available_cores()
    threadpoolctl.threadpool_limits(limits=n)   # process-wide until changed
    return n


def seed_all(seed, xp=np):
    """Seed Python's, NumPy's and (on a GPU) CuPy's global generators."""
    random.seed(seed)
    np.random.seed(seed)
    if xp is not np:
        xp.random.seed(seed)
