"""Data-parallel training over MPI processes with ChainerMN (shipped inside chainer 7.8.1).

A script made with ``make_parser(..., distributed=True)`` takes ``--communicator
naive|flat|pure_nccl`` and is launched with ``mpiexec -n N python experiments/NAME.py
--communicator ...`` (docs/distributed.md). Without the option the run is the plain single
process and :class:`Distributed` is a no-op (``size`` 1, ``comm`` None).

With it:

* ``--batchsize`` stays the *global* minibatch (the paper's, e.g. 100): every rank takes
  ``batchsize / N`` examples of its own shard per update (:meth:`Distributed.iterator`), the
  shards being N equal contiguous pieces of the training set (the last one topped up from
  the start, as ``chainermn.scatter_dataset``), so every rank counts the same iterations per
  epoch, and the iterations per epoch are those of the single process;
* every optimiser is wrapped in ``chainermn.create_multi_node_optimizer``
  (:meth:`Distributed.optimizers`), which averages the gradients of the ranks before the
  update: with batch-mean losses one update of N ranks x B/N equals one update of 1 rank x B
  (tests/test_distributed.py). The parameters are broadcast from rank 0 when wrapped, so the
  wrapper's first ``update`` already updates (chainermn's own first call only broadcasts);
  ``zero_fill=False``, so a parameter the phase leaves without a gradient is skipped as in
  the single process (the AAE's encoder has up to three optimisers, each its own phase);
* rank 0 alone writes: logs, plots, snapshots, models, figures and ``results.json``; every
  other rank leaves the script when its last training stage ends (:meth:`expkit.Experiment
  .train`); evaluation runs on rank 0 only;
* random numbers: every rank starts from ``--seed`` (identical initial weights, which the
  broadcast makes sure of); when training starts, rank r > 0 reseeds NumPy with ``(seed, r,
  iteration)`` (and CuPy's generator from that), so its minibatch order, prior samples
  and noise differ from rank 0's, which keeps the ``--seed`` stream. A run on N > 1 ranks
  draws other numbers than a single-process run: equal in distribution, not bit for bit;
* ``--resume`` loads the snapshot (rank 0's state) on every rank, on any N: the data order is
  reshuffled when the shard size differs (:class:`ShardIterator`), the epoch position kept;
* the time limit's stop and the divergence guard are decided together (every rank stops at
  the same iteration).

``flat`` and ``pure_nccl`` need CuPy (and NCCL): rank r uses GPU ``intra_rank`` of its node.
"""
import os
import sys

import numpy as np

import chainer
from chainer.iterators import SerialIterator

from expkit.errors import UsageError

COMMUNICATORS = ('naive', 'flat', 'pure_nccl')
GPU_COMMUNICATORS = ('flat', 'pure_nccl')


_ACTIVE = []     # the communicator of this process, once made (for abort_job)


def abort_job(status, traceback=False):
    """End every rank of this MPI job (``MPI_Abort``) after a failure of this rank (with
    ``traceback``: print the exception being handled first); nothing without a communicator
    of more than one rank."""
    if _ACTIVE and _ACTIVE[0].size > 1:
        if traceback:
            import traceback as tb
            tb.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        _ACTIVE[0].mpi_comm.Abort(status)


def launched_ranks():
    """The number of processes ``mpiexec`` started (1 when not under MPI)."""
    for key in ('OMPI_COMM_WORLD_SIZE', 'PMI_SIZE', 'PMIX_SIZE', 'MPI_LOCALNRANKS'):
        value = os.environ.get(key)
        if value and value.isdigit():
            return int(value)
    return 1


class Distributed:
    """The communicator of a run and what each rank does with it (see the module docstring).

    ``name``: None (single process) or one of :data:`COMMUNICATORS`."""

    def __init__(self, name=None):
        self.name, self.comm = name, None
        self.size, self.rank, self.intra_rank = 1, 0, 0
        if name is None:
            if launched_ranks() > 1:
                raise UsageError('started by mpiexec as %d processes, but without '
                                 '--communicator they would all train the same model alone; '
                                 'add --communicator naive (CPU) or pure_nccl (GPUs)'
                                 % launched_ranks())
            return
        if name not in COMMUNICATORS:
            raise UsageError('--communicator %s: choose one of %s'
                             % (name, ', '.join(COMMUNICATORS)))
        if name in GPU_COMMUNICATORS and not chainer.backends.cuda.available:
            raise UsageError('--communicator %s needs CuPy and CUDA GPUs (with NCCL), which '
                             'this Python does not have; install them with make install-gpu, '
                             'or use --communicator naive on CPUs' % name)
        try:
            import mpi4py  # noqa: F401
            import chainermn
        except ImportError as exc:
            raise UsageError('--communicator needs mpi4py and an MPI library (%s); install '
                             "them with pip install -e '.[mpi]' and launch with mpiexec -n N"
                             % exc)
        self.comm = chainermn.create_communicator(name)
        _ACTIVE[:] = [self.comm]
        self.size, self.rank = self.comm.size, self.comm.rank
        self.intra_rank = self.comm.intra_rank

    @property
    def is_root(self):
        return self.rank == 0

    @property
    def gpu(self):
        """True for a GPU communicator (rank r on GPU ``intra_rank``)."""
        return self.name in GPU_COMMUNICATORS

    def describe(self, batchsize):
        return {'communicator': self.name, 'ranks': self.size,
                'batch_per_rank': batchsize // self.size, 'global_batch': batchsize}

    # -- data ----------------------------------------------------------------------------
    def shard_indices(self, n):
        """This rank's ``ceil(n / size)`` example indices: a contiguous piece, topped up
        from the start of the data for the last ranks (every shard has the same length)."""
        if self.size == 1:
            return np.arange(n)
        per_rank = -(-n // self.size)
        return (n * self.rank // self.size + np.arange(per_rank)) % n

    def shard(self, dataset):
        """This rank's piece of ``dataset`` (an array, a TupleDataset of arrays, or any
        dataset); the whole dataset for a single process."""
        if self.size == 1:
            return dataset
        idx = self.shard_indices(len(dataset))
        if isinstance(dataset, np.ndarray):
            return dataset[idx]
        if isinstance(dataset, chainer.datasets.TupleDataset) and all(
                isinstance(d, np.ndarray) for d in dataset._datasets):
            return chainer.datasets.TupleDataset(*[d[idx] for d in dataset._datasets])
        return chainer.datasets.SubDataset(dataset, 0, len(idx), order=_padded_order(
            idx, len(dataset)))

    def local_batchsize(self, batchsize, what='--batchsize'):
        if batchsize % self.size:
            raise UsageError('%s %d is the global minibatch and must be divisible by the %d '
                             'ranks; give a multiple of %d' % (what, batchsize, self.size,
                                                                 self.size))
        return batchsize // self.size

    def iterator(self, dataset, batchsize, what='--batchsize'):
        """A shuffling iterator over this rank's shard with ``batchsize / size`` examples a
        minibatch (:class:`ShardIterator`; a plain SerialIterator's draws for one process)."""
        return ShardIterator(self.shard(dataset), self.local_batchsize(batchsize, what))

    # -- optimisers ----------------------------------------------------------------------
    def optimizer(self, optimizer):
        """``optimizer`` (already set up) wrapped in chainermn's multi-node optimiser, its
        target broadcast from rank 0; the optimiser itself for a single process."""
        if self.comm is None:
            return optimizer
        import chainermn
        wrapped = chainermn.create_multi_node_optimizer(optimizer, self.comm, zero_fill=False)
        self.comm.bcast_data(optimizer.target)
        wrapped.is_changed(optimizer.target)   # records the parameters: update() all-reduces
        return wrapped

    def optimizers(self, optimizers):
        """:meth:`optimizer` of every value of a dict (one wrapper per optimiser object, so
        entries that share an optimiser still share it)."""
        done = {}
        for opt in optimizers.values():
            if id(opt) not in done:
                done[id(opt)] = self.optimizer(opt)
        return {name: done[id(opt)] for name, opt in optimizers.items()}

    # -- agreement -----------------------------------------------------------------------
    def root_decides(self, value):
        """Rank 0's ``value`` on every rank (e.g. whether the time limit stops training)."""
        return value if self.comm is None else self.comm.mpi_comm.bcast(value, root=0)

    def first_of(self, value):
        """The first non-None of the ranks' ``value``s, in rank order, on every rank."""
        if self.comm is None:
            return value
        return next((v for v in self.comm.mpi_comm.allgather(value) if v is not None), None)

    def reseed_extension(self, seed):
        """Trainer extension: at the start of training rank r > 0 reseeds NumPy with
        ``(seed, r, iteration)`` (after a resume's random state was put back), and CuPy
        from it."""
        return _RankSeed(seed, self.rank)


def _padded_order(idx, n):
    order = np.arange(n)
    order[:len(idx)] = idx if len(idx) <= n else idx[:n]
    return order


class _RankSeed(chainer.training.Extension):
    priority = -1001                    # initialize() after RandomStateSnapshot's
    name = 'rank_seed'

    def __init__(self, seed, rank):
        self.seed, self.rank = seed, rank
        self.trigger = lambda trainer: False

    def __call__(self, trainer):
        pass

    def initialize(self, trainer):
        np.random.seed([self.seed, self.rank, trainer.updater.iteration])
        if chainer.backends.cuda.available:          # GPU ranks: CuPy's generator too
            chainer.backends.cuda.cupy.random.seed(np.random.randint(2 ** 31 - 1))


def unwrap(optimizer):
    """The optimiser inside a multi-node wrapper (or ``optimizer`` itself)."""
    return getattr(optimizer, 'actual_optimizer', optimizer)


class ShardIterator(SerialIterator):
    """SerialIterator (shuffled, repeating) whose snapshot state also loads into a run
    with a different shard size (another number of ranks): the position within the epoch
    is kept as a fraction and the order of the rest of the epoch reshuffled. With the same
    size it resumes exactly as SerialIterator."""

    def serialize(self, serializer):
        if isinstance(serializer, chainer.serializer.Serializer):      # saving
            return super().serialize(serializer)
        try:
            saved = serializer('order', None)
        except KeyError:
            saved = None
        if saved is None or len(saved) == len(self.dataset):
            return super().serialize(serializer)
        position = int(serializer('current_position', 0))
        epoch = int(serializer('epoch', 0))
        is_new_epoch = bool(serializer('is_new_epoch', False))
        n = len(self.dataset)
        position = min(int(round(position * n / float(len(saved)))), n - 1)
        order = self.order_sampler(np.arange(n), 0) if self.order_sampler else None
        from chainer.iterators import _statemachine
        self._state = _statemachine.IteratorState(position, epoch, is_new_epoch, order)
        self._previous_epoch_detail = max(epoch + (position - self.batch_size) / n, 0.0) \
            if epoch or position else -1.0
