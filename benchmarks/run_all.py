"""Run every benchmark side by side and write docs/performance.md, its plot and the raw JSON.

    python benchmarks/run_all.py                      # everything, 1 and 2 threads
    python benchmarks/run_all.py --only aae m1 --repeats 3 --out /tmp/perf

Each benchmark runs its implementations (ours, plain Chainer, PyTorch when installed) in
fresh worker processes, interleaved repeat by repeat (``benchmarks/harness.py``); the square
SGEMM peak is measured in the same run, and the load average is recorded before, during and
after. Only ratios within one run are meaningful on a shared machine.
"""
import os
import sys

if __package__ in (None, ''):                      # run as a script: python benchmarks/...
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainer_compat  # noqa: F401,E402  (before numpy/chainer: OpenBLAS kernels)
import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

from benchmarks import harness, report  # noqa: E402

MODULES = ('benchmarks.bench_aae', 'benchmarks.bench_vae', 'benchmarks.bench_gan',
           'benchmarks.bench_glo', 'benchmarks.bench_eval')


def all_benchmarks():
    import importlib
    return [b for m in MODULES for b in importlib.import_module(m).BENCHMARKS]


def environment():
    import numpy
    import threadpoolctl
    env = {'python': platform.python_version(), 'numpy': numpy.__version__,
           'machine': platform.machine(), 'cpus': os.cpu_count(),
           'blas': [{k: i.get(k) for k in ('internal_api', 'version', 'architecture')}
                    for i in threadpoolctl.threadpool_info()
                    if 'numpy' in i.get('filepath', '')],
           'openblas_coretype': os.environ.get('OPENBLAS_CORETYPE'),
           'chainer_compat': list(chainer_compat.APPLIED)}
    try:
        with open('/proc/cpuinfo') as f:
            env['cpu'] = next(line.split(':', 1)[1].strip() for line in f
                              if line.startswith('model name'))
    except (OSError, StopIteration):
        env['cpu'] = platform.processor()
    import chainer
    env['chainer'] = chainer.__version__
    if harness.torch_available():
        import torch
        env['torch'] = torch.__version__
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--only', nargs='+', metavar='NAME', help='benchmarks to run')
    parser.add_argument('--threads', nargs='+', type=int, default=[1, 2])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--impls', nargs='+', default=list(harness.IMPLS),
                        choices=harness.IMPLS)
    parser.add_argument('--no-ablations', action='store_true',
                        help="skip the 'before:' runs (ours with one speed-up undone)")
    parser.add_argument('--tiny', action='store_true',
                        help='1 step per repeat on small data sets (the test)')
    parser.add_argument('--out', default=os.path.join(harness.ROOT, 'docs'),
                        help='folder for performance.md, performance.json, figures/')
    parser.add_argument('--report-only', action='store_true',
                        help='measure nothing: rewrite performance.md and the plot from '
                             'performance.json (after editing benchmarks/performance_notes.md)')
    args = parser.parse_args(argv)
    if args.report_only:
        with open(os.path.join(args.out, 'performance.json')) as f:
            results = json.load(f)
        return write(results, args.out)
    benches = all_benchmarks()
    if args.only:
        unknown = set(args.only) - {b.name for b in benches}
        if unknown:
            parser.error('unknown benchmark(s): %s (have: %s)' % (
                ', '.join(sorted(unknown)), ', '.join(b.name for b in benches)))
        benches = [b for b in benches if b.name in args.only]
    start = time.time()
    results = {'date': datetime.datetime.now(datetime.timezone.utc).strftime(
                   '%Y-%m-%d %H:%M UTC'),
               'command': 'python benchmarks/run_all.py ' + ' '.join(
                   sys.argv[1:] if argv is None else argv),
               'environment': environment(), 'load_average_start': os.getloadavg(),
               'repeats': args.repeats, 'tiny': args.tiny, 'sgemm_square_gflops': {},
               'benchmarks': []}
    for threads in args.threads:
        results['sgemm_square_gflops'][str(threads)] = harness.square_sgemm_gflops(
            threads, size=256 if args.tiny else 2048)
    for bench in benches:
        results['benchmarks'].append(harness.run_benchmark(
            bench, args.threads, args.repeats, args.tiny, args.impls,
            ablations=not args.no_ablations))
    results['load_average_end'] = os.getloadavg()
    results['wall_seconds'] = time.time() - start
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'performance.json'), 'w') as f:
        json.dump(results, f, indent=1)
    return write(results, args.out)


def write(results, out):
    """performance.md and figures/performance.png in ``out`` from ``results``."""
    os.makedirs(os.path.join(out, 'figures'), exist_ok=True)
    report.plot(results, os.path.join(out, 'figures', 'performance.png'))
    with open(os.path.join(out, 'performance.md'), 'w') as f:
        f.write(report.markdown(results, 'figures/performance.png'))
    print('wrote %s (measured in %.0f s)' % (os.path.join(out, 'performance.md'),
                                             results['wall_seconds']))
    return results


if __name__ == '__main__':
    main()
