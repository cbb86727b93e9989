"""One run of one experiment: the one object a script talks to.

:class:`Experiment` is a facade over the focused modules of expkit: the run configuration
(:mod:`expkit.config`), device, threads and seeds (:mod:`expkit.device`), the output folder
(:mod:`expkit.outputs`), the data and its validation hold-out (:mod:`expkit.data`), the
Trainer of a stage (:mod:`expkit.training`), model selection (:mod:`expkit.selection`), the
training stages and ``--resume`` (:mod:`expkit.stages`) and ``results.json``
(:mod:`expkit.results`).
"""
import os
import sys

from expkit import data as run_data
from expkit import guards, results, training
from expkit.config import RunConfig
from expkit.device import available_cores, resolve_device, seed_all, set_threads
from expkit.distributed import Distributed
from expkit.outputs import Outputs, atomic_write
from expkit.portable import portable
from expkit.selection import SelectBest
from expkit.stages import Schedule, Stage


class Experiment:
    """Holds what every experiment needs: ``device``, ``xp``, ``out``, ``data`` and the clock.

    Args:
        name: experiment name, written into ``results.json``.
        run: the run's :class:`expkit.config.RunConfig`, or the namespace of
            :func:`expkit.make_parser`'s parser (read once by ``RunConfig.from_args``).
        paper: the paper's reference values with their source, e.g.
            ``{'source': 'Makhzani et al. 2015, Table 1', 'values': {'parzen_ll': '340 ± 2'}}``.
        stages: the names of the training stages :meth:`train` runs, in their order (e.g.
            ``['m1', 'main']``); ``--resume`` names one of them by its snapshot's file name.
    """

    def __init__(self, name, run, paper=None, stages=('main',)):
        self.run = run if isinstance(run, RunConfig) else RunConfig.from_args(run)
        run = self.run
        self.name, self.paper, self.quick = name, paper or {}, run.quick
        self.dist = Distributed(run.communicator)        # single process: no communicator
        self.device = resolve_device(run, self.dist)
        self.xp = self.device.xp
        self.out, self.data = run.out, None
        self.outputs = Outputs(run.out, self.dist.is_root)
        self.started = training.clock()      # --time-limit counts from here
        self.git = results.git_state()       # the code that runs, recorded in results.json
        launch = ['mpiexec', '-n', str(self.dist.size)] if self.dist.comm is not None else []
        self.schedule = Schedule(stages, run, self.outputs, self.dist.is_root, launch)
        self.stages, self.resume = self.schedule.names, run.resume
        self.selectors, self.recorded = {}, {}   # name -> SelectBest; extra results entries
        self.time_limit, threads = run.time_limit, run.threads     # minutes; BLAS threads
        if threads is None and self.dist.comm is not None:     # the node's cores, shared
            threads = max(1, available_cores() // self.dist.comm.intra_size)
        self.threads = set_threads(threads)
        seed_all(run.seed, self.device)
        if self.dist.comm is not None and run.batchsize is not None:   # None: set later
            self.dist.local_batchsize(run.batchsize)
            self.record('distributed', self.dist.describe(run.batchsize))

    @property
    def is_root(self):
        """False on the ranks > 0 of a distributed run, which write nothing."""
        return self.dist.is_root

    def iterator(self, dataset, batchsize=None, what='--batchsize'):
        """The training iterator over ``dataset`` with the global minibatch ``batchsize``
        (default ``--batchsize``): shuffled and repeating; in a distributed run this rank's
        shard with ``batchsize / ranks`` examples (:meth:`expkit.distributed.Distributed
        .iterator`)."""
        return self.dist.iterator(dataset, self.run.batchsize if batchsize is None
                                  else batchsize, what)

    def optimizers(self, optimizers):
        """A dict of set-up optimisers, each wrapped in ChainerMN's multi-node optimiser in
        a distributed run (gradients averaged over the ranks), unchanged otherwise."""
        return self.dist.optimizers(optimizers)

    # -- outputs (expkit.outputs: atomic, rank 0 only) -----------------------------------
    def path(self, filename):
        """``out/filename``; creates ``out`` on first use (so a failed run leaves nothing)."""
        return self.outputs.path(filename)

    def savefig(self, fig, filename, dpi=100):
        return self.outputs.savefig(fig, filename, dpi)

    def save_npz(self, filename, **arrays):
        return self.outputs.save_npz(filename, **arrays)

    def save_model(self, filename, link):
        return self.outputs.save_model(filename, link)

    # -- data (expkit.data) --------------------------------------------------------------
    def load_data(self, name=None, **kwargs):
        """``datasets.load`` for ``--dataset``/``--data-dir``, then the validation hold-out
        (``--validation``) and the subsets ``--n-train``/``--n-test`` (the first N images; at
        most ``--n-test`` validation images); records its info for results."""
        self.data = run_data.load(self.run, name, **kwargs)
        return self.data

    def validation(self):
        """``(x_val, y_val)`` of the loaded data (empty without a validation split)."""
        return self.data.x_val, self.data.y_val

    def train_test(self):
        """``(x_train, y_train, x_test, y_test)`` of the loaded data."""
        d = self.data
        return d.x_train, d.y_train, d.x_test, d.y_test

    # -- training (expkit.training, expkit.stages, expkit.selection) ----------------------
    def snapshot_interval(self, stop):
        """``--snapshot-interval`` epochs, or by default a quarter of the stage's length
        ``stop`` (at least 1, in its unit)."""
        if self.run.snapshot_interval:
            return self.run.snapshot_interval, 'epoch'
        length, unit = stop
        return max(1, int(length) // 4), unit

    def trainer(self, updater, models=None, report=(), plots=None, stop=None,
                log_trigger=None, snapshot_trigger=None, stage='main'):
        """The chainer Trainer of one training stage (:func:`expkit.training.build_trainer`:
        log ``log`` or ``log_<stage>``, plots, the NaN/inf guard, the random state and an
        atomic snapshot every ``snapshot_trigger``, default :meth:`snapshot_interval`, and at
        the end). The stage stops at ``stop`` (default ``(--epoch, 'epoch')``) or early for
        ``--time-limit`` (one deadline for the whole run). :meth:`train` runs it."""
        stop = stop or (self.run.epoch, 'epoch')
        st = self.schedule.current = Stage(stage, models, stop, log_trigger or (1, 'epoch'),
                                           snapshot_trigger or self.snapshot_interval(stop))
        if self.is_root:
            self.path('')  # create out
        deadline = None if self.time_limit is None else self.started + 60.0 * self.time_limit
        guard = guards.FiniteGuard(   # NaN/inf: results.json marked diverged, exit 3
            self, last_snapshot=self.resume if stage == self.schedule.resume_stage else None,
            check_trigger=st.log_trigger)     # on a GPU: read once per log interval
        return training.build_trainer(
            st, updater, self.out, report=report, plots=plots, deadline=deadline,
            agree=self.dist.root_decides if self.dist.comm is not None else None,
            guard=guard, root=self.is_root, progress=not self.quick,
            reseed=None if self.is_root else self.dist.reseed_extension(self.run.seed))

    def train(self, updater, stage='main', models=None, report=(), plots=None, stop=None,
              extensions=(), select=None, images_per_iteration=None, log_trigger=None,
              snapshot_trigger=None):
        """Train one stage: the one entry point of every training loop. Returns its Trainer.

        ``stage``: one of the declared ``stages``, in their order; ``models``: {name: link}
        saved as ``model_<name>.npz`` when the stage ends; ``report``: PrintReport columns;
        ``plots``: {png name: [keys]}; ``stop``: ``(length, 'epoch' or 'iteration')``
        (default ``--epoch`` epochs); ``extensions``: the script's own Trainer extensions;
        ``select``: keyword arguments of :meth:`select_best` (model selection on a
        validation metric); ``images_per_iteration``: for images/s (default --batchsize).

        With ``--resume`` of this stage's snapshot the stage continues from it; a stage
        before the resumed one is reloaded (:meth:`expkit.stages.Schedule.reload`), not
        trained; a stage after it starts afresh. After a stage that ``--time-limit``
        stopped, later stages are skipped (their Trainer is returned untrained).
        results.json records every stage under ``stages``.

        In a distributed run (``--communicator``) the ranks > 0 train without the
        extensions marked ``report_only`` (e.g. :class:`expkit.extensions.TestError`) and
        without model selection, and leave the script (exit status 0) when the last
        declared stage ends: evaluation, figures and results.json are rank 0's.
        """
        self.schedule.check_next(stage)
        trainer = self.trainer(updater, models=models, report=report, plots=plots, stop=stop,
                               log_trigger=log_trigger, snapshot_trigger=snapshot_trigger,
                               stage=stage)
        st = self.schedule.current
        for extension in extensions:
            if self.is_root or not getattr(extension, 'report_only', False):
                trainer.extend(extension)
        if select and self.is_root:
            self.select_best(trainer, **select)
        st.images_per_iteration = images_per_iteration or self.run.batchsize
        self.schedule.advance(st)
        if not self.is_root and stage == self.stages[-1]:
            sys.stdout.flush()
            sys.exit(0)          # rank 0 evaluates and writes the results
        return trainer

    def select_best(self, trainer, name, evaluate, models, trigger=None, mode='min'):
        """Add model selection on a validation metric (:class:`expkit.selection.SelectBest`)
        to ``trainer``, every ``trigger`` (default: the log interval); recorded in
        results.json under ``model_selection``. Returns the extension (``load_best()`` for
        the test number of the best-on-validation model)."""
        selector = SelectBest(self.outputs, name, evaluate, models, mode)
        st = self.schedule.current
        trainer.extend(selector, name='select_best_' + name, trigger=trigger or st.log_trigger)
        self.selectors[name] = selector
        st.selectors.append(selector)
        return selector

    @property
    def partial(self):
        """True when ``--time-limit`` stopped training before its planned end."""
        return self.schedule.partial

    def resume_command(self):
        """This command with ``--resume`` of the stopped stage's final snapshot."""
        return self.schedule.resume_command()

    # -- results (expkit.results) --------------------------------------------------------
    def record(self, key, value):
        """Put ``value`` into results.json under ``key`` (e.g. a schedule, a data split)."""
        self.recorded[key] = value

    def finish(self, measured, config=None, diverged=None):
        """Write ``out/results.json`` (atomically, its paths portable: expkit.portable) and
        return the results as a dict with this run's own paths (rank 0 of a distributed run;
        the other ranks write nothing and get None)."""
        if not self.is_root:
            return None
        out = results.collect(self, measured, config, diverged)
        text = results.to_json(portable(out, self.out, [self.run.data_dir,
                                                        os.environ.get('MNIST_DIR')]))
        atomic_write(self.path('results.json'), lambda f: f.write(text.encode() + b'\n'))
        sys.stdout.write('wrote %s\n' % self.path('results.json'))
        return out

    def finish_diverged(self, info):
        """``results.json`` of a run that :class:`expkit.guards.FiniteGuard` stopped."""
        return self.finish(measured={}, diverged=info)
