"""Run records: the README table and REPRODUCTION.md are generated from docs/results/runs/,
every number in the table traces to a record, and ``report.py record`` makes a record."""
import json
import os
import re

import pytest

from expkit import UsageError, run_main
from expkit.testing import load_script
from expkit.validate import script_parser

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
report = load_script('experiments/report.py')


def _read(*path):
    with open(os.path.join(ROOT, *path), encoding='utf-8') as f:
        return f.read()


@pytest.fixture(scope='module')
def records():
    return report.load_records(ROOT)


@pytest.fixture(scope='module')
def rows():
    return json.loads(_read(report.ROWS))


def _table(text):
    """The result table's data lines of a README text."""
    block = text.split(report.START)[1].split(report.END)[0]
    return block.strip().splitlines()[2:]


def _cells(line):
    return [c.strip() for c in line.strip().strip('|').split(' | ')]


def test_readme_table_is_the_records_table(records, rows):
    readme = _read('README.md')
    block = readme.split(report.START)[1].split(report.END)[0].strip()
    assert block == report.readme_table(records, rows)
    assert report.problems(readme, records, rows) == []


def test_generated_files_are_current():
    """README, the results pages' opening tables, the gallery and REPRODUCTION.md are what
    ``python experiments/report.py`` writes from the records."""
    files = report.generated(ROOT)
    assert set(files) >= {'README.md', 'REPRODUCTION.md', report.GALLERY,
                          'docs/results/aae.md', 'docs/results/vae.md',
                          'docs/results/gan.md', 'docs/results/glo.md'}
    for path, text in files.items():
        assert _read(path) == text, '%s is stale: run python experiments/report.py' % path


def _settings(value):
    """A config value as JSON gives it back (tuples as lists)."""
    return json.loads(json.dumps(value))


def test_readme_is_a_front_page(records, rows, tmp_path):
    """At most 150 lines; one line per paper item, each at most 300 characters, with a
    command of at most 100 characters that sets what the item's best record ran with."""
    readme = _read('README.md')
    assert len(readme.splitlines()) <= 150
    lines = _table(readme)
    items = list(dict.fromkeys(r['item'] for r in rows))
    assert [_cells(line)[0] for line in lines] == items and len(items) >= 20
    best = {r['item']: r for r in rows if r['best']}
    for line in lines:
        assert len(line) <= 300, line
        item, _, ours, command, links = _cells(line)
        assert ours[:1] in report.MARKS.values(), item
        script, *options = command.strip('`').split()
        assert len(command) <= 102 and script.endswith('.py'), item
        row = best[item]
        rec = records[report._used(row['readme']['ours'], row['records'])[0]]
        assert rec['command'].split()[1] == 'experiments/' + script, item
        # what the command sets (its options, and what its --recipe presets, but the number
        # of epochs: a run cut by --time-limit ran a longer schedule) is what the run had
        parser = script_parser(load_script('experiments/' + script).main)
        ns = vars(parser.parse_args(options + ['--out', str(tmp_path / 'out')]))
        keys = parser.given(options) | (set(ns.get('recipe_settings') or {}) - {'epoch'})
        keys -= {'recipe'}
        config = rec.get('config') or {}
        compared = [k for k in keys if k in config]
        assert len(compared) >= len(options) // 2, (item, keys)
        for key in compared:
            assert _settings(ns[key]) == _settings(config[key]), (item, key)
    assert readme.count('python3 -m venv .venv && . .venv/bin/activate && make install && '
                        'python experiments/aae_gaussian.py') == 1
    assert 'python -m pytest -q' in readme


def test_every_measured_number_traces_to_a_record_it_links(records, rows):
    lines = _table(_read('README.md'))
    n_numbers = 0
    for line in lines:
        cells = _cells(line)
        names = re.findall(r'runs/(.+?)\.json\)', cells[4])
        assert names and all(n in records for n in names), line
        values = [v for n in names for v in report._leaves(records[n])]
        for token in report.NUMBER.findall(re.sub(r'`[^`]*`', '', cells[2])):
            assert report.traces(token, values), (cells[0], token)
            n_numbers += 1
    assert n_numbers > 20
    for row in rows:       # the results pages' tables: every row, every number
        values = [v for n in row['records'].values() for v in report._leaves(records[n])]
        text = report.fill(row['measured'], records, row['records'])
        for token in report.NUMBER.findall(re.sub(r'`[^`]*`', '', text)):
            assert report.traces(token, values), (row['experiment'][:60], token)


def test_rows_name_an_item_a_page_and_one_best_row_per_item(records, rows):
    best = report.check_rows(rows, records)
    assert len(best) == len({r['item'] for r in rows})
    assert {r['page'] for r in rows} == set(report.PAGES)
    broken = [dict(rows[0], best=True)] + rows
    with pytest.raises(UsageError, match='two best rows'):
        report.check_rows(broken, records)
    with pytest.raises(UsageError, match='no best row'):
        report.check_rows([dict(r, best=False) for r in rows], records)
    with pytest.raises(UsageError, match='lacks item'):
        report.check_rows([{k: v for k, v in rows[0].items() if k != 'item'}], records)


def test_row_templates_take_numbers_only_from_records(rows):
    for row in rows:
        templates = [row['measured']] + ([row['readme']['ours']] if row['best'] else [])
        for template in templates:
            literal = re.sub(r'`[^`]*`', '', report.PLACEHOLDER.sub('', template))
            assert not report.NUMBER.findall(literal), row['experiment']
            assert report.PLACEHOLDER.search(template), row['experiment']
        assert re.search(r'\*\((paper|seed)\b|see \[', row['paper']), row['experiment']


def test_hand_edited_readme_number_is_caught(records, rows):
    readme = _read('README.md')
    assert readme.count('**3.11 %**') == 1
    edited = readme.replace('**3.11 %**', '**3.01 %**')
    found = report.problems(edited, records, rows)
    assert any('differs from the run records' in p for p in found)
    assert any("'3.01 %'" in p for p in found)
    # a number that happens to round a recorded value still fails the exact comparison
    assert report.problems(readme.replace('**3.11 %**', '**3.110 %**'), records, rows)
    # a hand-added row whose number no record holds
    extra = report.END
    row = ('| new | 1 % | ✅ **12.3 %** error | `x.py` | '
           '[record](docs/results/runs/legacy/vae_mnist__default.json) |')
    found = report.problems(readme.replace(extra, row + '\n' + extra), records, rows)
    assert any("'12.3 %'" in p for p in found)


def test_traces_rounds_like_the_printed_digits():
    assert report.traces('−98.0', [-98.04]) and not report.traces('−98.1', [-98.04])
    assert report.traces('51.2 %', [0.512]) and report.traces('20.59 %', [20.59])
    assert report.traces('4e-5', [4.337e-05]) and not report.traces('5e-5', [4.337e-05])
    assert report.traces('1,563', [1563]) and not report.traces('1,564', [1563])
    assert report.traces('0.04425', [0.04425]) and not report.traces('0.0444', [0.04425])


def test_reproduction_md_is_grouped_by_paper_item(records, rows):
    text = _read('REPRODUCTION.md')
    assert text == report.reproduction(records, rows)
    for name in records:       # every record once, under its item
        assert text.count('\n#### %s\n' % name) == 1, name
    assert '## Other records' not in text
    assert text.index('### AAE Table 2, 100 labels') < text.index(
        '#### aae_semisupervised_full_balanced_100\n') < text.index('### AAE Table 3')


def test_legacy_records_keep_only_what_was_printed(records):
    legacy = {n: r for n, r in records.items() if n.startswith('legacy/')}
    assert len(legacy) == 42
    for name, rec in legacy.items():
        assert rec['legacy'].startswith('reconstructed from REPRODUCTION.md'), name
        assert name.split('/')[1].startswith(rec['experiment'] + '__')
        assert 'curves' not in rec
        for value in rec['measured'].values():
            if isinstance(value, dict) and value.get('truncated'):
                assert len(value['shown']) < value['length']
    gauss = records['legacy/aae_gaussian__default']['measured']
    assert gauss['test_reconstruction_mse_per_pixel'] == 0.04425
    assert records['legacy/aae_clustering__default']['measured']['cluster_labels'] == {
        'shown': [7, 1, 7], 'length': 16, 'truncated': True}


def _docs():
    """README.md, REPRODUCTION.md and every markdown file under docs/."""
    found = ['README.md', 'REPRODUCTION.md']
    for folder, _, files in os.walk(os.path.join(ROOT, 'docs')):
        found += [os.path.relpath(os.path.join(folder, f), ROOT) for f in files
                  if f.endswith('.md')]
    return found


def test_figures_of_records_and_links_of_docs_exist(records):
    for name, rec in records.items():
        for path in rec.get('figures', []):
            assert os.path.isfile(os.path.join(ROOT, path)), (name, path)
    for doc in _docs():
        folder = os.path.dirname(os.path.join(ROOT, doc))
        text = _read(doc)
        links = re.findall(r'\]\(([^)#\s]+)(?:#[^)]*)?\)', text) + re.findall(
            r'(?:src|href)="([^"#]+)"', text)
        for link in links:
            if not re.match(r'[a-z]+:', link):
                assert os.path.exists(os.path.join(folder, link)), (doc, link)


#: an absolute path of some computer: /home/..., /tmp/..., C:\\...
ABSOLUTE = re.compile(r'(?<![\w.~$-])(/(?:home|tmp|work|root|Users|mnt|var|opt|usr|srv|data|'
                      r'scratch)/[^\s"\')]*|[A-Z]:\\\\)')


def test_records_and_generated_files_hold_no_absolute_path(records):
    for name, rec in records.items():
        text = json.dumps(rec)
        assert not ABSOLUTE.search(text), (name, ABSOLUTE.search(text).group(0))
    for path, text in report.generated(ROOT).items():
        assert not ABSOLUTE.search(text), (path, ABSOLUTE.search(text).group(0))


#: words about how the project was made rather than about the project
OFF_TOPIC = re.compile(r'\b(issues?|sessions?|this machine|lent|not drawn|device tool|main job)\b',
                       re.I)


def _code_files():
    skip = {'.git', '.venv', 'results', '.gpu', '__pycache__', 'runs'}
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip and not d.startswith('.venv')]
        for f in files:
            if f.endswith(('.py', '.sh', '.md', '.cfg', '.ini', '.txt', '.toml')) or \
                    f == 'Makefile':
                yield os.path.relpath(os.path.join(folder, f), ROOT)


def test_the_project_speaks_of_itself_only():
    """No doc, comment, docstring, test name or generated text refers to how the project was
    made (tickets, the workflow, the computer it was written on, borrowed devices)."""
    this = os.path.relpath(__file__, ROOT)
    found = []
    for path in list(_code_files()) + list(report.generated(ROOT)):
        text = _read(path)
        if path == this:
            text = text.replace(OFF_TOPIC.pattern, '')
        for n, line in enumerate(text.splitlines(), 1):
            if OFF_TOPIC.search(line):
                found.append('%s:%d: %s' % (path, n, line.strip()[:100]))
    assert found == []


def _fake_run(run, n_log=620):
    run.mkdir()
    (run / 'results.json').write_text(json.dumps({
        'experiment': 'tiny', 'command': 'python experiments/tiny.py --epoch 2',
        'paper': {'source': 'Someone 2014, Table 1', 'values': {'error': '1.0 ± 0.1'}},
        'measured': {'error_percent': 12.3456, 'bad': float('nan')},
        'dataset': {'name': 'mnist', 'n_train': 50000, 'n_valid': 10000, 'n_test': 10000,
                    'md5': {'train-images-idx3-ubyte': '6bbc9ace898e44ae57da46a324031adb'}},
        'device': '@numpy', 'threads': 2, 'seconds': 12.5,
        'train_images_per_second': 800.0, 'versions': {'chainer': '7.8.1'}}))
    log = [{'epoch': i // 10, 'iteration': i + 1, 'main/loss': 1.0 / (i + 1) + 1e-9,
            'elapsed_time': 0.1234567 * i} for i in range(n_log)]
    log[min(5, n_log - 1)]["validation/main/loss"] = 0.5
    log[-1]['main/loss'] = float('nan')
    (run / 'log').write_text(json.dumps(log))
    (run / 'log_m1').write_text(json.dumps([{'epoch': 1, 'iteration': 3, 'm1/loss': 2.0}]))
    (run / 'log_notes.txt').write_text('not json')
    (run / 'loss.png').write_bytes(b'\x89PNG fake')
    (run / 'samples.gif').write_bytes(b'GIF89a fake')


def _tmp_repo(tmp_path):
    root = tmp_path / 'repo'
    (root / 'docs' / 'results').mkdir(parents=True)
    (root / 'README.md').write_text('# x\n\n%s\nold table\n%s\n\ntail\n' % (report.START,
                                                                            report.END))
    return root


def test_record_makes_a_strict_compact_record_with_curves_and_figures(tmp_path):
    _fake_run(tmp_path / 'run')
    root = _tmp_repo(tmp_path)
    path = report.record(str(tmp_path / 'run'), 'tiny_full', root=str(root))
    assert path == str(root / 'docs/results/runs/tiny_full.json')
    text = open(path).read()
    rec = json.loads(text, parse_constant=lambda c: pytest.fail('non-JSON constant ' + c))
    assert rec['measured'] == {'error_percent': 12.3456, 'bad': None}
    assert rec['dataset']['md5'] and rec['threads'] == 2
    curves = rec['curves']['log']
    assert set(curves) == {'epoch', 'iteration', 'main/loss', 'elapsed_time',
                           'validation/main/loss'}
    assert rec['curves_points'] == {'log': [620, 500], 'log_m1': [1, 1]}
    assert len(curves['iteration']) == 500 == len(curves['validation/main/loss'])
    assert curves['iteration'][0] == 1 and curves['iteration'][-1] == 620
    assert curves['iteration'] == sorted(set(curves['iteration']))
    assert curves['main/loss'][0] == 1.0 and curves['main/loss'][-1] is None
    assert curves['elapsed_time'][1] == float('%.5g' % (0.1234567 * 1))
    assert rec['curves']['log_m1'] == {'epoch': [1], 'iteration': [3], 'm1/loss': [2.0]}
    assert 'log_notes.txt' not in rec['curves']
    assert rec['figures'] == ['docs/results/runs/tiny_full/loss.png',
                              'docs/results/runs/tiny_full/samples.gif']
    assert (root / rec['figures'][0]).read_bytes() == b'\x89PNG fake'
    assert (root / rec['figures'][1]).read_bytes() == b'GIF89a fake'
    assert 'git_commit' in rec and rec['git_commit_from'] == 'record time'
    assert len(text.splitlines()) < 100  # arrays sit on one line each

    with pytest.raises(UsageError, match='--force'):
        report.record(str(tmp_path / 'run'), 'tiny_full', root=str(root))
    with pytest.raises(UsageError, match='--name'):
        report.record(str(tmp_path / 'run'), '../escape', root=str(root))
    with pytest.raises(UsageError, match='results.json'):
        report.record(str(tmp_path / 'nothing'), 'other', root=str(root))
    assert not (root / 'docs/results/runs/other.json').exists()


def test_record_keeps_the_runs_own_git_commit(tmp_path):
    _fake_run(tmp_path / 'run', n_log=3)
    data = json.loads((tmp_path / 'run' / 'results.json').read_text())
    data['git_commit'] = 'abc123'
    (tmp_path / 'run' / 'results.json').write_text(json.dumps(data))
    root = _tmp_repo(tmp_path)
    rec = json.load(open(report.record(str(tmp_path / 'run'), 'tiny', root=str(root))))
    assert rec['git_commit'] == 'abc123' and 'git_commit_from' not in rec
    assert rec['curves_points'] == {'log': [3, 3], 'log_m1': [1, 1]}


def test_record_then_report_puts_the_run_in_readme_pages_and_reproduction(tmp_path):
    _fake_run(tmp_path / 'run')
    root = _tmp_repo(tmp_path)
    report.record(str(tmp_path / 'run'), 'tiny_full', root=str(root))
    rows = [{'item': 'Tiny Table 1', 'page': 'vae', 'best': True,
             'experiment': 'Tiny: `tiny.py`', 'records': {'a': 'tiny_full'},
             'measured': '**{a.error_percent:.2f} %** error, long form',
             'paper': '1.0 ± 0.1 *(paper)*',
             'readme': {'paper': '1.0 ± 0.1 %', 'ours': '**{a.error_percent:.1f} %**',
                        'command': 'tiny.py --epoch 2', 'status': 'not yet'}}]
    (root / report.ROWS).write_text(json.dumps(rows))
    report.report(str(root))
    readme = (root / 'README.md').read_text()
    assert ('| Tiny Table 1 | 1.0 ± 0.1 % | ✗ **12.3 %** | `tiny.py --epoch 2` | '
            '[record](docs/results/runs/tiny_full.json) |') in readme
    assert 'old table' not in readme and readme.endswith('\n\ntail\n')
    records = report.load_records(str(root))
    assert report.problems(readme, records, rows) == []
    page = (root / 'docs/results/vae.md').read_text()      # made, with its opening table
    assert page.startswith('# VAE family results\n\n' + report.PAGE[0])
    assert '[record](runs/tiny_full.json)' in page and '### Tiny Table 1' in page
    assert ('| Tiny: `tiny.py` | **12.35 %** error, long form | 1.0 ± 0.1 *(paper)* | mnist: '
            '50,000 train / 10,000 validation / 10,000 test; [tiny_full](runs/tiny_full.json) |'
            ) in page
    text = (root / 'REPRODUCTION.md').read_text()
    assert '## VAE family\n\n### Tiny Table 1\n\n#### tiny_full\n' in text
    assert 'Record: [docs/results/runs/tiny_full.json](docs/results/runs/tiny_full.json)' in text
    assert '| error_percent | 12.35 |' in text and '1.0 ± 0.1  *(paper)*' in text
    assert 'Curves `log` (620 entries logged, 500 kept); last: epoch 61, iteration 620' in text
    assert '[loss.png](docs/results/runs/tiny_full/loss.png)' in text
    assert 'threads 2' in text and 'Partial' not in text
    assert '# Gallery' in (root / report.GALLERY).read_text()

    rows[0]['gallery'] = {'figures': ['docs/results/runs/tiny_full/loss.png'],
                          'says': 'The paper shows a loss.', 'strip': 'docs/results/runs/'
                                                                      'tiny_full/loss.png'}
    (root / report.ROWS).write_text(json.dumps(rows))
    with pytest.raises(UsageError, match='figures:start'):    # the README has no strip yet
        report.report(str(root))
    (root / 'README.md').write_text(readme + '%s\n%s\n' % report.FIGURES)
    report.report(str(root))
    assert '<img src="docs/results/runs/tiny_full/loss.png"' in (root / 'README.md').read_text()
    gallery = (root / report.GALLERY).read_text()
    assert 'The paper shows a loss.' in gallery and '`python experiments/tiny.py --epoch 2`' \
        in gallery and '(results/runs/tiny_full.json)' in gallery

    rec = json.loads((root / 'docs/results/runs/tiny_full.json').read_text())
    rec.update(partial=True, stopped_at_iteration=40, planned_iterations=100)
    (root / 'docs/results/runs/tiny_full.json').write_text(json.dumps(rec))
    report.report(str(root))
    assert '**Partial run**: stopped at iteration 40 of 100 planned.' in (
        root / 'REPRODUCTION.md').read_text()
    assert '10,000 test (partial run); [tiny_full]' in (root / 'docs/results/vae.md').read_text()

    rows[0]['measured'] = '{a.no_such_key:.2f}'
    (root / report.ROWS).write_text(json.dumps(rows))
    with pytest.raises(UsageError, match='no_such_key'):
        report.report(str(root))
    rows[0]['records'] = {'a': 'missing_run'}
    (root / report.ROWS).write_text(json.dumps(rows))
    with pytest.raises(UsageError, match='missing_run'):
        report.report(str(root))


def test_record_writes_portable_paths(tmp_path, monkeypatch):
    """A results.json written before paths were portable (or by hand) becomes portable in
    the record: the run's folder is OUT, its data folder $MNIST_DIR."""
    _fake_run(tmp_path / 'run', n_log=3)
    data = json.loads((tmp_path / 'run' / 'results.json').read_text())
    data_dir, out = str(tmp_path / 'mnist'), str(tmp_path / 'run')
    data.update(command='python experiments/tiny.py --data-dir %s --out %s --resume '
                        '%s/snapshot_iter_2.npz' % (data_dir, out, out),
                config={'out': out, 'data_dir': data_dir},
                dataset=dict(data['dataset'], source={'test': [data_dir + '/t10k.gz']}))
    (tmp_path / 'run' / 'results.json').write_text(json.dumps(data))
    monkeypatch.delenv('MNIST_DIR', raising=False)
    rec = json.load(open(report.record(str(tmp_path / 'run'), 'tiny',
                                       root=str(_tmp_repo(tmp_path)))))
    assert rec['command'] == ('python experiments/tiny.py --data-dir $MNIST_DIR --out OUT '
                              '--resume OUT/snapshot_iter_2.npz')
    assert rec['config'] == {'out': 'OUT', 'data_dir': '$MNIST_DIR'}
    assert rec['dataset']['source'] == {'test': ['$MNIST_DIR/t10k.gz']}
    assert str(tmp_path) not in json.dumps(rec)


def test_bad_record_command_is_one_line_and_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_main(report.main, ['record', str(tmp_path / 'none'), '--name', 'x'])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'results.json' in err[0]


def test_placeholder_indexes_lists():
    lookup = report.lookup
    records = {'r': {'measured': {'codes': {'mean': [0.5, -1.25]}}, 'seconds': 3}}
    assert lookup(records, 'a.codes.mean.1', {'a': 'r'}) == -1.25
    assert lookup(records, 'a.$.seconds', {'a': 'r'}) == 3
    with pytest.raises(IndexError):
        lookup(records, 'a.codes.mean.2', {'a': 'r'})


def test_curves_plots_each_record_at_its_updates_and_refuses_a_missing_column(tmp_path):
    _fake_run(tmp_path / 'run', n_log=40)
    root = _tmp_repo(tmp_path)
    report.record(str(tmp_path / 'run'), 'tiny_a', root=str(root))
    report.record(str(tmp_path / 'run'), 'tiny_b', root=str(root))
    records = report.load_records(str(root))
    fig = report.curves_figure([('tiny_a', 'A'), ('tiny_b', 'B')], 'main/loss', records)
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ['A', 'B']
    x, y = lines[0].get_data()
    assert list(x) == list(range(1, 40))            # the NaN loss of the last entry is left out
    assert y[0] == 1.0 and y[-1] == pytest.approx(1 / 39)
    out = tmp_path / 'figs' / 'ab.png'
    report.curves(['tiny_a=A', 'tiny_b'], 'main/loss', str(out), root=str(root))
    assert out.read_bytes()[:4] == b'\x89PNG'
    with pytest.raises(UsageError, match="no 'test/error'"):
        report.curves(['tiny_a'], 'test/error', str(tmp_path / 'no.png'), root=str(root))
    with pytest.raises(UsageError, match='no record'):
        report.curves(['missing'], 'main/loss', str(tmp_path / 'no.png'), root=str(root))
    assert not (tmp_path / 'no.png').exists()
