"""The one benchmark harness: specs, worker processes, interleaving, memory, roofline.

A :class:`Benchmark` names a workload (one training step, or one evaluation chunk), its
FLOPs (as GEMM shapes, see :mod:`benchmarks.flops`) and up to three implementations, each a
``'module:function'`` *factory* that builds the model and data and returns a ``step()``
callable doing one unit of work.

How it measures (``run_benchmark``):

* every implementation x thread count runs in its **own fresh Python process** (a
  :class:`Worker`), started with ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/
  ``MKL_NUM_THREADS`` = threads (and ``torch.set_num_threads``), so BLAS pools, allocator
  state and imports never leak between implementations;
* the workers of one thread count live side by side but only one works at a time: for each
  repeat the parent asks each worker in turn for ``steps`` timed steps (after an untimed
  warm-up), so implementations are **interleaved repeat by repeat** and a burst of load on
  this shared machine hits all of them alike; the best of N repeats is reported, and the
  ratios between implementations are computed within the run;
* one more worker in the same rotation times only the step's GEMMs with ``numpy.matmul`` in
  float32 at the model's shapes (forward, and dX, dW for backpropagated passes): the
  **SGEMM roofline** of that step on the same CPU, at the same time;
* **peak memory** is the worker's peak resident set (``VmHWM`` of /proc/self/status, see
  :func:`memory_kb`) when it exits: it counts BLAS and allocator buffers that
  ``tracemalloc`` does not see; its RSS right after imports, before the model is built, is
  recorded next to it.
"""
import importlib
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THREAD_VARS = ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')
IMPLS = ('ours', 'chainer', 'torch')
IMPL_LABELS = {'ours': 'ours (repo updater)', 'chainer': 'plain Chainer',
               'torch': 'PyTorch', 'gemm': 'SGEMM only'}


class Benchmark:
    """One workload.

    Args:
        name: short id (``aae``).
        title: one line for the table.
        module: the module that holds the factories (its docstring says what is measured).
        images: images (or test rows) processed by one ``step()``.
        passes: FLOP accounting, ``[(multiplier, [(m, k, n), ...]), ...]``: each GEMM shape
            is a forward ``(m, k) @ (k, n)``; multiplier 1 = forward only, 3 = forward and
            backward (dX and dW), 2 = forward and dX only (see :func:`gemm_step`).
        steps: timed steps per repeat at full size; ``tiny_steps`` for the test.
        impls: ``{impl: 'function'}`` factories in ``module``; each is called as
            ``f(tiny=bool)`` and returns ``step()``. A value may be ``('function', {VAR:
            value})`` to run the worker with extra environment variables. Names
            ``'before:<change>'`` are ablations: ours with one change undone.
        note: caveats printed under the table.
        extrapolate: images (rows) of the full job that the measured steps are a slice of
            (Parzen, NLL), with ``full_job`` naming it; its time = extrapolate / images/s.
        max_repeats: caps the run's repeats for slow benchmarks.
        warmup: untimed steps when a worker starts.
    """

    def __init__(self, name, title, module, images, passes, steps, impls, tiny_steps=1,
                 note='', extrapolate=None, full_job=None, max_repeats=None, warmup=2):
        self.name, self.title, self.module = name, title, module
        self.images, self.passes, self.steps = images, passes, steps
        self.impls, self.tiny_steps, self.note = impls, tiny_steps, note
        self.extrapolate, self.full_job = extrapolate, full_job
        self.max_repeats, self.warmup = max_repeats, warmup

    def flops(self):
        """FLOPs of one step (2 m k n per GEMM times its pass multiplier)."""
        return sum(mult * 2 * m * k * n for mult, shapes in self.passes for m, k, n in shapes)


def torch_available():
    return importlib.util.find_spec('torch') is not None


def set_threads(threads):
    """Thread settings for this process (the env vars are set by the parent)."""
    try:
        import threadpoolctl
        threadpoolctl.threadpool_limits(threads)
    except ImportError:
        pass


def memory_kb(field):
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process from /proc/self/status, in KiB.

    VmHWM is the kernel's high-water mark of the resident set: every page the process
    touched, BLAS and allocator buffers included. Unlike ``ru_maxrss`` it belongs to the
    address space, so a worker does not inherit its parent's peak across fork/exec.
    Falls back to ``ru_maxrss`` off Linux.
    """
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ---------------------------------------------------------------------------------------
# SGEMM roofline
# ---------------------------------------------------------------------------------------
def gemm_step(passes, seed=0):
    """A ``step()`` that runs only the GEMMs of ``passes`` with float32 ``numpy.matmul``.

    A shape ``(m, k, n)`` with multiplier 1 is the forward ``x @ w``; 2 adds dX ``gy @ w.T``;
    3 adds dW ``x.T @ gy`` (each of the three costs 2 m k n FLOPs); higher multipliers cycle
    through the three again.
    """
    rng = np.random.RandomState(seed)
    jobs, arrays = [], {}
    for mult, shapes in passes:
        for m, k, n in shapes:
            if (m, k, n) not in arrays:           # one set of operands per shape
                x, w = rng.rand(m, k).astype('f'), rng.rand(k, n).astype('f')
                gy = rng.rand(m, n).astype('f')
                arrays[m, k, n] = [(x, w), (gy, w.T), (x.T, gy)]
            jobs.extend(arrays[m, k, n][i % 3] for i in range(int(mult)))

    def step():
        for a, b in jobs:
            np.matmul(a, b)
    return step


def square_sgemm_gflops(threads, size=2048, repeats=5):
    """GFLOP/s of a large square float32 matmul (best of ``repeats``), in a fresh process."""
    code = ('import numpy as np, time\n'
            'a = np.random.rand(%d, %d).astype("f"); b = a.copy(); a @ b\n'
            'best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter())'
            ' for _ in range(%d))\n'
            'print(2 * %d ** 3 / best / 1e9)\n' % (size, size, repeats, size))
    out = subprocess.run([sys.executable, '-c', code], env=_env(threads), check=True,
                         capture_output=True, text=True).stdout
    return float(out.split()[-1])


# ---------------------------------------------------------------------------------------
# workers
# ---------------------------------------------------------------------------------------
def _env(threads):
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    return env


def impl_spec(bench, impl):
    """``(factory name, extra environment)`` of ``bench.impls[impl]``, which is a factory
    name or a ``(name, {VAR: value})`` pair (e.g. an ablation run with other OpenBLAS kernels)."""
    spec = bench.impls.get(impl)
    if spec is None:
        return None, {}
    return (spec, {}) if isinstance(spec, str) else spec


def find_benchmark(module, name):
    mod = importlib.import_module(module)
    for bench in mod.BENCHMARKS:
        if bench.name == name:
            return bench
    raise KeyError('%s has no benchmark %r' % (module, name))


def worker_main(module, name, impl, threads, tiny):
    """Body of a worker process: build, warm up, then answer ``run N`` / ``quit`` lines."""
    set_threads(threads)
    if impl == 'torch':
        import torch
        torch.set_num_threads(threads)
    bench = find_benchmark(module, name)
    rss_imports = memory_kb('VmRSS')
    if impl == 'gemm':
        step = gemm_step(bench.passes)
    else:
        function, _ = impl_spec(bench, impl)
        step = getattr(importlib.import_module(module), function)(tiny=tiny)
    for _ in range(bench.warmup):                             # untimed: first allocations
        step()
    reply = {'ready': True}
    out = sys.stdout
    out.write(json.dumps(reply) + '\n')
    out.flush()
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == 'run':
            n = int(cmd[1])
            start = time.perf_counter()
            for _ in range(n):
                step()
            reply = {'seconds': time.perf_counter() - start}
        else:
            reply = {'peak_kb': memory_kb('VmHWM'), 'rss_imports_kb': rss_imports}
        out.write(json.dumps(reply) + '\n')
        out.flush()
        if cmd[0] != 'run':
            return


class Worker:
    """A fresh process for one implementation at one thread count."""

    def __init__(self, bench, impl, threads, tiny):
        args = [sys.executable, '-m', 'benchmarks.harness', bench.module, bench.name, impl,
                str(threads)] + (['--tiny'] if tiny else [])
        env = _env(threads)
        env.update(impl_spec(bench, impl)[1])
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError('benchmark worker died (exit %s)' % self.proc.returncode)
        return json.loads(line)

    def ask(self, command):
        self.proc.stdin.write(command + '\n')
        self.proc.stdin.flush()
        return self._read()

    def run(self, steps):
        return self.ask('run %d' % steps)['seconds']

    def close(self):
        reply = self.ask('quit')
        self.proc.stdin.close()
        self.proc.wait()
        return reply


def run_benchmark(bench, threads_list=(1, 2), repeats=5, tiny=False, impls=IMPLS, log=print,
                  ablations=True):
    """Measure ``bench``; returns a JSON-able dict of raw times and summaries.

    ``ablations``: also run the ``before:...`` implementations (ours with one change undone),
    in the same rotation.
    """
    impls = [i for i in impls if i in bench.impls]
    if ablations:
        impls += [i for i in bench.impls if i.startswith('before:')]
    skipped = {}
    if 'torch' in impls and not torch_available():
        impls.remove('torch')
        skipped['torch'] = 'PyTorch is not installed (pip install -e .[bench])'
    steps = bench.tiny_steps if tiny else bench.steps
    repeats = min(repeats, bench.max_repeats or repeats)
    flops = bench.flops()
    result = {'name': bench.name, 'title': bench.title, 'images_per_step': bench.images,
              'steps_per_repeat': steps, 'repeats': repeats, 'flops_per_step': flops,
              'flops_per_image': flops / bench.images, 'skipped': skipped,
              'note': bench.note, 'extrapolate': bench.extrapolate,
              'full_job': bench.full_job, 'threads': {}}
    for threads in threads_list:
        names = impls + (['gemm'] if flops else [])
        workers = {}
        for impl in names:                       # start one at a time: no build overlaps
            workers[impl] = Worker(bench, impl, threads, tiny)
        times = {impl: [] for impl in names}
        load = [os.getloadavg()[0]]
        for _ in range(repeats):
            for impl in names:
                times[impl].append(workers[impl].run(steps))
            load.append(os.getloadavg()[0])
        memory = {impl: w.close() for impl, w in workers.items()}
        summary = {}
        for impl in names:
            best = min(times[impl])
            summary[impl] = {
                'seconds': times[impl], 'best_seconds': best,
                'images_per_s': steps * bench.images / best,
                'peak_rss_mb': memory[impl]['peak_kb'] / 1024.0,
                'rss_after_imports_mb': memory[impl]['rss_imports_kb'] / 1024.0}
            if flops:
                summary[impl]['gflops'] = steps * flops / best / 1e9
        if flops:
            for impl in impls:
                summary[impl]['roofline_percent'] = \
                    100.0 * summary['gemm']['best_seconds'] / summary[impl]['best_seconds']
        result['threads'][str(threads)] = {'impls': summary, 'load_average': load}
        log('  %-12s %d thread(s): %s' % (bench.name, threads, ', '.join(
            '%s %.0f/s' % (impl, summary[impl]['images_per_s']) for impl in names)))
    return result


if __name__ == '__main__':
    worker_main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]),
                '--tiny' in sys.argv[5:])
