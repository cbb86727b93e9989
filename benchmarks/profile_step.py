"""Where one implementation's step spends its time: cProfile, grouped.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/profile_step.py m1 [--impl ours]
        [--steps 50] [--top 15]

Prints the step time without the profiler, then the profiled time by group (BLAS GEMMs,
optimizer update rules, convolution im2col/col2im, the rest: element-wise kernels and
Chainer's graph bookkeeping) and the top functions by own time. cProfile inflates
Python-heavy parts, so read the groups as shares, the unprofiled time as the truth.
"""
import os
import sys

if __package__ in (None, ''):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainer_compat  # noqa: F401,E402
import argparse  # noqa: E402
import cProfile  # noqa: E402
import importlib  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402

from benchmarks import harness, run_all  # noqa: E402

GROUPS = (
    ('BLAS GEMM', ("method 'dot'", 'static_linear_no_bias', 'tensordot', 'matmul')),
    ('optimizer steps', ('update_core_cpu', '_inplace_axpby', 'fused_updates.py',
                         'chainer/optimizer.py', 'optimizer_hooks')),
    ('conv im2col/col2im', ('im2col', 'col2im')),
    ('layer kernels (element-wise)', ('chainer/functions/', 'vae/functions.py',
                                      'vae/likelihood.py', 'random')),
)


def group_of(func):
    filename, _, name = func
    label = '%s %s' % (filename, name)
    for group, keys in GROUPS:
        if any(k in label for k in keys):
            return group
    return 'graph bookkeeping, iterator, Python'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('name')
    parser.add_argument('--impl', default='ours')
    parser.add_argument('--steps', type=int, default=30)
    parser.add_argument('--top', type=int, default=12)
    args = parser.parse_args(argv)
    bench = next(b for b in run_all.all_benchmarks() if b.name == args.name)
    function, _ = harness.impl_spec(bench, args.impl)
    step = getattr(importlib.import_module(bench.module), function)()
    for _ in range(max(1, bench.warmup)):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    print('%s/%s: %.2f ms a step unprofiled (%d steps)' % (
        args.name, args.impl, (time.perf_counter() - start) / args.steps * 1e3, args.steps))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.steps):
        step()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())           # own time of every function
    groups = {}
    for func, (_, _, own, _, _) in stats.stats.items():
        groups[group_of(func)] = groups.get(group_of(func), 0.0) + own
    for group, own in sorted(groups.items(), key=lambda kv: -kv[1]):
        print('  %-36s %6.2f ms a step  %3.0f %%' % (group, own / args.steps * 1e3,
                                                     100 * own / total))
    stats.sort_stats('tottime').print_stats(args.top)


if __name__ == '__main__':
    main()
