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


def cuda_problem():
    """None when chainer can use CUDA; otherwise why not, in one line: ``'no CuPy'``, or
    chainer's own reason when CuPy is installed (``chainer.backends.cuda._resolution_error``,
    e.g. a ``libcublasLt`` that does not load)."""
    import importlib.util
    if chainer.backends.cuda.available:
        return None
    if importlib.util.find_spec('cupy') is None:
        return 'no CuPy'
    reason = getattr(chainer.backends.cuda, '_resolution_error', None)
    return 'CuPy is installed but chainer cannot use CUDA (%s)' % ' '.join(
        ('%s: %s' % (type(reason).__name__, reason)).split())


def cuda_unavailable(what):
    """The one-line UsageError for ``what`` (e.g. ``--gpu 0``) when chainer cannot use CUDA
    (:func:`cuda_problem`)."""
    problem = cuda_problem()
    if problem == 'no CuPy':
        return UsageError(
            '%s needs CuPy and a CUDA GPU, which this Python does not have; install them '
            'with make install-gpu (cupy-cuda12x 13 with NumPy 1, 14 with NumPy 2; '
            'docs/gpu.md) or drop --gpu/--device to run on the CPU'
            % what)
    return UsageError('%s: %s; install the CUDA libraries that CuPy names (docs/gpu.md) or '
                      'drop --gpu/--device to run on the CPU' % (what, problem))


def resolve_device(run, dist=None):
    """The chainer device of ``run`` (:class:`expkit.config.RunConfig`). ``--gpu N`` is an
    alias for ``--device @cupy:N``, as in chainer's own examples. With a GPU communicator
    (``dist``) rank r uses GPU ``intra_rank`` of its node. The device is made the current
    one (``device.use()``), so that arrays the code makes with ``xp`` land on the model's
    GPU, not on GPU 0."""
    spec = run.device
    if dist is not None and dist.gpu:
        if run.gpu is not None or spec != '@numpy':
            raise UsageError('--communicator %s puts each rank on GPU <its rank on the node>; '
                             'drop --gpu/--device' % dist.name)
        if not chainer.backends.cuda.available:
            raise cuda_unavailable('--communicator %s' % dist.name)
        device = chainer.get_device('@cupy:%d' % dist.intra_rank)
        device.use()
        return device
    if run.gpu is not None:
        spec = '@cupy:%d' % run.gpu if run.gpu >= 0 else '@numpy'
    if spec.startswith('@cupy') or spec.lstrip('-').isdigit() and int(spec) >= 0:
        if dist is not None and dist.comm is not None:
            raise UsageError('--communicator naive trains on CPUs; for GPUs use '
                             '--communicator pure_nccl (or flat) and drop --gpu/--device')
        if not chainer.backends.cuda.available:
            raise cuda_unavailable('--gpu %d' % run.gpu if run.gpu is not None
                                   else '--device ' + spec)
    try:
        device = chainer.get_device(spec)
        device.use()
    except Exception as exc:  # chainer raises ValueError/RuntimeError for bad specs
        raise UsageError("bad --device %r (%s); use '@numpy' or '@cupy:N'" % (spec, exc))
    return device


def set_threads(n):
    """Limit BLAS/OpenMP to ``n`` threads (None: every available core); returns ``n``."""
    import threadpoolctl
    if n is None:
        n = available_cores()
    threadpoolctl.threadpool_limits(limits=n)   # process-wide until changed
    return n


def seed_all(seed, device):
    """Seed Python's, NumPy's and, on a GPU, CuPy's generator of ``device`` (CuPy keeps one
    per device: the run's is seeded, whichever device is current)."""
    random.seed(seed)
    np.random.seed(seed)
    if device.xp is not np:
        with chainer.using_device(device):
            device.xp.random.seed(seed)
