"""docs/performance.md and its plot from the results of ``run_all`` (no measuring here).

The hand-written analysis (profiles, what each change bought) lives in
``benchmarks/performance_notes.md`` and is copied under the generated tables.
"""
import os

NOTES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'performance_notes.md')
COLUMNS = ('ours', 'chainer', 'torch')
#: the ablations (``before:<change>`` implementations): what the change is, commit subject
CHANGES = {
    'before:openblas': 'OpenBLAS kernels from the CPU flags (`chainer_compat`, shim 3); before: '
                       "NumPy 1.26's OpenBLAS 0.3.23 detects this CPU as a Prescott",
    'before:fused': 'blocked, allocation-free optimizer steps (`fused_updates`); '
                    "before: chainer's own Adam / MomentumSGD rules",
    'before:nodes': 'VAE: one fused KL node, no reshape nodes for (batch, units) (`vae/`); '
                    "before: chainer's 7-node KL and 4 no-op reshapes per step",
    'before:lap1': 'GLO: Lap1 blurs as B_H x B_W^T, two small GEMMs (`glo/loss.py`); before: '
                   "chainer's im2col `convolution_2d`",
    'before:project': 'GLO: project only the codes the minibatch read (`glo/net.py`); before: '
                      'all 60,000 codes after every step',
    'before:leaky': 'DCGAN: leaky ReLU as max(x, slope x) (`gan/functions.py`); before: '
                    "chainer's boolean-mask `F.leaky_relu`",
    'before:parzen': 'Parzen: one shift per row for all σ, in-place exp per σ, rows over threads '
                     '(`evaluation/parzen.py`); before: per-σ max, subtract, exp with temporaries',
    'before:nll': 'NLL: -softplus((1-2x)a) in cache-sized blocks over threads '
                  '(`vae/likelihood.py`); before: `logaddexp(0, a)` on the whole chunk',
}


def _fmt(value, spec='%.0f'):
    return '—' if value is None else spec % value


def _get(summary, impl, key):
    return summary.get(impl, {}).get(key)


def _ratio(summary, a, b):
    if a in summary and b in summary:
        return summary[a]['images_per_s'] / summary[b]['images_per_s']
    return None


def rows(results):
    """One dict per benchmark x threads, the numbers of the table."""
    out = []
    for bench in results['benchmarks']:
        for threads, entry in bench['threads'].items():
            s = entry['impls']
            peak = results.get('sgemm_square_gflops', {}).get(threads)
            row = {'name': bench['name'], 'title': bench['title'], 'threads': int(threads),
                   'load': max(entry['load_average']),
                   'vs_torch': _ratio(s, 'ours', 'torch'),
                   'vs_chainer': _ratio(s, 'ours', 'chainer'),
                   'gemm_rate': _get(s, 'gemm', 'images_per_s'),
                   'gflop_per_image': bench['flops_per_image'] / 1e9}
            gflops = _get(s, 'ours', 'gflops')
            row['ours_square'] = 100 * gflops / peak if gflops and peak else None
            for impl in COLUMNS:
                row[impl] = _get(s, impl, 'images_per_s')
                row[impl + '_mb'] = _get(s, impl, 'peak_rss_mb')
                row[impl + '_roof'] = _get(s, impl, 'roofline_percent')
                row[impl + '_gflops'] = _get(s, impl, 'gflops')
            if bench.get('extrapolate'):
                row['full_s'] = {impl: bench['extrapolate'] / s[impl]['images_per_s']
                                 for impl in s if impl != 'gemm'}
            out.append(row)
    return out


def _import_rss(results):
    """'about N MB for NumPy + Chainer, M MB with PyTorch' from the workers' RSS after imports."""
    seen = {}
    for bench in results['benchmarks']:
        for entry in bench['threads'].values():
            for impl, s in entry['impls'].items():
                seen.setdefault(impl == 'torch', []).append(s['rss_after_imports_mb'])
    parts = []
    if seen.get(False):
        parts.append('about %.0f MB for NumPy + Chainer' % min(seen[False]))
    if seen.get(True):
        parts.append('%.0f MB with PyTorch' % min(seen[True]))
    return ', '.join(parts) or 'n/a'


def ablation_rows(results):
    """One dict per ``before:`` implementation measured: rates before and after."""
    out = []
    for bench in results['benchmarks']:
        for threads, entry in bench['threads'].items():
            s = entry['impls']
            for impl in sorted(s):
                if impl.startswith('before:') and 'ours' in s:
                    out.append({'name': bench['name'], 'threads': int(threads), 'change': impl,
                                'before': s[impl]['images_per_s'],
                                'after': s['ours']['images_per_s']})
    return out


FAMILIES = (('AAE', ('aae', 'aae_semi')), ('VAE', ('m1', 'm1_iwae', 'm2')),
            ('GAN', ('gan', 'dcgan')), ('GLO', ('glo',)), ('Parzen', ('parzen',)),
            ('NLL', ('nll',)))


def targets(results):
    """The speed goals (at least PyTorch's speed at 2 threads, 70 % of the SGEMM roofline at
    1 thread), checked against this run's numbers (markdown lines)."""
    by = {(r['name'], r['threads']): r for r in rows(results)}
    out = ['', '## Speed goals, checked against this run', '',
           '| goal | measured | met? |', '|---|---|---|']

    def line(target, measured, ok):
        verdict = ok if isinstance(ok, str) else '—' if ok is None else \
            'yes' if ok else '**no**'
        out.append('| %s | %s | %s |' % (target, measured, verdict))
    for family, names in FAMILIES:
        ratios = [(n, by[(n, 2)]['vs_torch']) for n in names
                  if (n, 2) in by and by[(n, 2)]['vs_torch'] is not None]
        if ratios:
            suspect = [n for n, _ in ratios if (n, 1) in by and by[(n, 1)]['torch'] and
                       by[(n, 2)]['torch'] < by[(n, 1)]['torch']]
            line('%s: ≥ 1.0× PyTorch at 2 threads' % family,
                 ', '.join('%s %.2f×' % r for r in ratios) + (
                     ' (PyTorch ran slower at 2 threads than at 1 on %s: contention on the '
                     'shared cores, not a real win)' % ', '.join(suspect) if suspect else ''),
                 ('not established' if suspect else 'yes')
                 if all(v >= 1.0 for _, v in ratios) else False)
    for name in ('aae', 'm1'):
        r = by.get((name, 1))
        if r and r['ours_roof'] is not None:
            line('%s: ≥ 70 %% of the SGEMM roofline at 1 thread' % name,
                 '%.0f %% (model-shape SGEMM), %s of the square peak; PyTorch: %s, plain '
                 'Chainer: %s' % (r['ours_roof'], _fmt(r['ours_square'], '%.0f %%'),
                                  _fmt(r['torch_roof'], '%.0f %%'),
                                  _fmt(r['chainer_roof'], '%.0f %%')), r['ours_roof'] >= 70)
    for threads in (2, 1):
        r = by.get(('parzen_full', threads))
        if r and r['ours']:
            line('Parzen 10k × 10k × 10 σ under a minute%s' % (
                ' on 2 cores' if threads == 2 else ' (1 thread, for reference)'),
                '%.1f s, measured in one call' % (10000 / r['ours']),
                10000 / r['ours'] < 60 if threads == 2 else None)
    for threads in (1, 2):
        r = by.get(('nll', threads))
        if r and r['ours']:
            line('NLL, 10k test images, k = 5,000: time stated (%d thread%s)' % (
                threads, 's' if threads > 1 else ''),
                '%.0f s (%.1f min), extrapolated from 100-image slices' % (
                    10000 / r['ours'], 10000 / r['ours'] / 60), None)
    return out if len(out) > 5 else []


def markdown(results, plot_path):
    env = results['environment']
    blas = ', '.join('%s %s (%s kernels)' % (b['internal_api'], b['version'], b['architecture'])
                     for b in env['blas'])
    lines = [
        '# Performance: our updaters vs plain Chainer vs PyTorch',
        '',
        'Generated by `%s` on %s (%.0f s); do not edit by hand: the analysis below the '
        'tables comes from `benchmarks/performance_notes.md`, the raw numbers are in '
        '`performance.json`.' % (results['command'].strip(), results['date'],
                                 results['wall_seconds']),
        '',
        '**Machine**: %s, %s CPUs; Python %s, NumPy %s, Chainer %s, PyTorch %s; NumPy BLAS: '
        '%s. Load average (1 min) at the start %.2f, at the end %.2f; the largest seen during '
        'each benchmark is in its row. Square 2048³ float32 SGEMM in this run: %s.' % (
            env.get('cpu'), env.get('cpus'), env['python'], env['numpy'], env['chainer'],
            env.get('torch', 'not installed'), blas, results['load_average_start'][0],
            results['load_average_end'][0],
            ', '.join('%.0f GFLOP/s at %s thread%s' % (g, t, 's' if t != '1' else '')
                      for t, g in results['sgemm_square_gflops'].items())),
        '',
        '**Method**: every implementation × thread count is a fresh worker process '
        '(`OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS` and '
        '`torch.set_num_threads` set to the count); the workers of one setting take turns, '
        'repeat by repeat (%d repeats of a fixed number of steps after 2 warm-up steps), and '
        'the best repeat counts. *Peak MB* is the worker\'s peak resident set (`VmHWM` of '
        '/proc/self/status, the per-process form of `ru_maxrss`, which a child would inherit '
        'from its parent across fork/exec) at exit: the whole process, imports included '
        '(%s), BLAS and allocator buffers included. '
        '*Roofline* = time the step\'s GEMMs alone take in NumPy float32 at the model\'s shapes '
        '(forward, and dX and dW for backpropagated passes; measured by a fourth worker in '
        'the same rotation) divided by the step\'s time; above 100 %% means faster GEMMs '
        'than NumPy\'s OpenBLAS (PyTorch uses oneDNN/MKL). The next column puts our GFLOP/s '
        'against the square 2048³ SGEMM instead, the machine\'s best case. FLOPs count forward+backward as '
        '3× the forward GEMMs, per phase (`benchmarks/flops.py`).' % (
            results['repeats'], _import_rss(results)),
        '',
        '![throughput relative to PyTorch](%s)' % plot_path,
        '',
        '| benchmark | threads | ours img/s | plain Chainer | PyTorch | ours / PyTorch | '
        'ours / plain | SGEMM-only img/s | GFLOP/img | roofline ours / plain / PyTorch | '
        'ours GFLOP/s (% of square SGEMM) | peak MB ours / plain / PyTorch | load |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for r in rows(results):
        lines.append('| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f |' % (
            r['name'], r['threads'], _fmt(r['ours']), _fmt(r['chainer']), _fmt(r['torch']),
            _fmt(r['vs_torch'], '**%.2f×**'), _fmt(r['vs_chainer'], '%.2f×'),
            _fmt(r['gemm_rate']), _fmt(r['gflop_per_image'] or None, '%.4f'),
            ' / '.join(_fmt(r[i + '_roof'], '%.0f %%') for i in COLUMNS),
            '%s (%s)' % (_fmt(r['ours_gflops'], '%.0f'), _fmt(r['ours_square'], '%.0f %%')),
            ' / '.join(_fmt(r[i + '_mb']) for i in COLUMNS), r['load']))
    lines += ['', 'Benchmarks:', '']
    for bench in results['benchmarks']:
        line = '* `%s`: %s; %d image(s) per step, %d steps per repeat.' % (
            bench['name'], bench['title'], bench['images_per_step'], bench['steps_per_repeat'])
        if bench.get('note'):
            line += ' ' + bench['note'][0].upper() + bench['note'][1:] + '.'
        for impl, why in bench['skipped'].items():
            line += ' %s column skipped: %s.' % (impl, why)
        lines.append(line)
    ablations = ablation_rows(results)
    if ablations:
        lines += ['', '## What each change bought (same run, interleaved with the rows above)',
                  '', '| benchmark | threads | change | before img/s | after (ours) img/s | '
                  'speed-up |', '|---|---|---|---|---|---|']
        for a in ablations:
            lines.append('| %s | %d | %s | %.0f | %.0f | **%.2f×** |' % (
                a['name'], a['threads'], CHANGES.get(a['change'], a['change']), a['before'],
                a['after'], a['after'] / a['before']))
    full = [r for r in rows(results) if r.get('full_s')]
    if full:
        lines += ['', '## Full evaluation jobs, extrapolated linearly from the measured slices',
                  '', '| job | threads | ours | plain | PyTorch | ours before the change |',
                  '|---|---|---|---|---|---|']
        names = {b['name']: b['full_job'] for b in results['benchmarks']}
        for r in full:
            before = [v for k, v in r['full_s'].items() if k.startswith('before:')]
            lines.append('| %s | %d | %s | %s |' % (names[r['name']], r['threads'], ' | '.join(
                _fmt(r['full_s'].get(i), '%.0f s') for i in COLUMNS),
                _fmt(before[0] if before else None, '%.0f s')))
    lines += targets(results)
    if os.path.exists(NOTES):
        with open(NOTES) as f:
            lines += ['', f.read().rstrip()]
    return '\n'.join(lines) + '\n'


def plot(results, path):
    """Throughput of each implementation relative to PyTorch (or to ours without it)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    table = rows(results)
    threads = sorted({r['threads'] for r in table})
    names = [b['name'] for b in results['benchmarks']          # comparisons only
             if any(len(set(e['impls']) & {'chainer', 'torch'}) for e in b['threads'].values())]
    fig, axes = plt.subplots(1, len(threads), figsize=(5 + 1.1 * len(names), 4.2),
                             squeeze=False, sharey=True)
    width = 0.27
    for ax, t in zip(axes[0], threads):
        by_name = {r['name']: r for r in table if r['threads'] == t}
        x = np.arange(len(names))
        for i, impl in enumerate(COLUMNS):
            vals = []
            for n in names:
                r = by_name[n]
                base = r['torch'] or r['ours']
                vals.append((r[impl] or 0) / base if base else 0)
            ax.bar(x + (i - 1) * width, vals, width, label={'ours': 'ours', 'chainer':
                                                            'plain Chainer',
                                                            'torch': 'PyTorch'}[impl])
        ax.axhline(1.0, color='k', lw=0.8)
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=30, ha='right')
        ax.set_title('%d thread%s' % (t, 's' if t > 1 else ''))
        ax.set_ylabel('images/s relative to PyTorch')
    axes[0][0].legend(fontsize=8)
    fig.suptitle('Throughput, best of %d interleaved repeats (%s)' % (results['repeats'],
                                                                     results['date']))
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
