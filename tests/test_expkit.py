"""The shared experiment wiring, end to end: a tiny Chain trained through expkit."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import chainer
import chainer.functions as F
import chainer.links as L

from expkit import Experiment, UsageError, make_parser, plots
from expkit import validate as v
from expkit.outputs import atomic_write
from datasets import Dataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TinyRegressor(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.fc = L.Linear(3, 1)

    def __call__(self, x, t):
        loss = F.mean_squared_error(self.fc(x), t)
        chainer.report({'loss': loss}, self)
        return loss


def _train(out, extra=(), select=None, quick=True):
    parser = make_parser('tiny', epoch=2, batchsize=10, out=str(out))
    args = parser.parse_args((['--snapshot-interval', '1', '--quick', '--epoch', '2']
                              if quick else []) + list(extra))
    exp = Experiment('tiny', args, paper={'source': 'none', 'values': {}})
    rng = np.random.RandomState(0)
    x = rng.randn(50, 3).astype(np.float32)
    t = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = TinyRegressor()
    opt = chainer.optimizers.SGD(lr=0.1)
    opt.setup(model)
    it = chainer.iterators.SerialIterator(chainer.datasets.TupleDataset(x, t), args.batchsize)
    updater = chainer.training.StandardUpdater(it, opt, device=exp.device)
    trainer = exp.train(updater, models={'reg': model}, report=['main/loss'],
                        plots={'loss.png': ['main/loss']},
                        select=select(model) if select else None)
    _train.exp = exp
    fig, ax = plots.image_grid(np.random.rand(4, 784), nrow=2)
    exp.savefig(fig, 'grid.png')
    results = exp.finish({'final_loss': float(model(x, t).array)})
    return trainer, model, results


def test_train_writes_results_figure_snapshot_and_resumes(tmp_path):
    out = tmp_path / 'run'
    trainer, model, results = _train(out)
    names = set(os.listdir(out))
    assert {'results.json', 'loss.png', 'grid.png', 'log', 'model_reg.npz',
            'snapshot_iter_5.npz', 'snapshot_iter_10.npz'} <= names
    assert not [n for n in names if n.startswith('.tmp') or n.startswith('tmp')]
    on_disk = json.loads((out / 'results.json').read_text())
    for key in ('experiment', 'paper', 'measured', 'dataset', 'config', 'seed', 'versions',
                'seconds', 'train_images_per_second', 'command'):
        assert key in on_disk
    assert on_disk['versions']['chainer'] == chainer.__version__
    assert set(on_disk['versions']) == {'python', 'chainer', 'numpy', 'cupy'}
    head = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    assert on_disk['git_commit'] == (head or None)          # the code that made the run
    assert on_disk['git_dirty'] in ((True, False) if head else (None,))
    assert on_disk['train_images_per_second'] > 0
    assert on_disk['config']['epoch'] == 2
    assert on_disk['train_iterations'] == 10 and on_disk['resumed_from'] is None
    assert trainer.updater.iteration == 10
    w_end = model.fc.W.array.copy()

    # Resume from the epoch-1 snapshot with a longer schedule: it continues from iteration 5.
    trainer2, model2, _ = _train(tmp_path / 'resumed',
                                 ['--resume', str(out / 'snapshot_iter_5.npz'), '--epoch', '3'])
    assert trainer2.updater.iteration == 15
    log = json.loads((tmp_path / 'resumed' / 'log').read_text())
    assert [entry['epoch'] for entry in log] == [1, 2, 3]
    assert not np.allclose(model2.fc.W.array, w_end)

    # Resuming from the final snapshot with the same schedule restores the trained weights.
    trainer3, model3, _ = _train(tmp_path / 'again', ['--resume', str(out / 'snapshot_iter_10.npz')])
    assert trainer3.updater.iteration == 10
    np.testing.assert_array_equal(model3.fc.W.array, w_end)


def test_gpu_without_cupy_is_a_usage_error(tmp_path):
    if chainer.backends.cuda.available:
        pytest.skip('CuPy is installed here')
    args = make_parser('x', epoch=1, batchsize=1, out=str(tmp_path / 'o')).parse_args(
        ['--gpu', '0'])
    with pytest.raises(UsageError, match='CuPy'):
        Experiment('x', args)
    assert not (tmp_path / 'o').exists()


def test_gpu_minus_one_means_cpu(tmp_path):
    args = make_parser('x', epoch=1, batchsize=1, out=str(tmp_path)).parse_args(['--gpu', '-1'])
    assert Experiment('x', args).xp is np


def test_quick_protocol_is_applied_when_parsing(tmp_path):
    def parser():
        p = make_parser('x', epoch=7, batchsize=50, out=str(tmp_path),
                        quick=dict(n_hidden=64, batchsize=20))
        p.add_argument('--n-hidden', type=int, default=1000)
        return p
    declared = dict(epoch=1, n_train=1000, n_test=500, n_hidden=64, batchsize=20)
    args = parser().parse_args(['--quick'])
    assert args.quick_protocol == declared
    assert {k: getattr(args, k) for k in declared} == declared
    full = parser().parse_args([])
    assert (full.epoch, full.n_train, full.n_test, full.n_hidden, full.batchsize,
            full.quick_protocol) == (7, None, None, 1000, 50, None)
    # options given explicitly win over the protocol, in either order
    args = parser().parse_args(['--epoch', '3', '--quick', '--n-hidden', '8'])
    assert (args.epoch, args.n_hidden, args.n_train, args.batchsize) == (3, 8, 1000, 20)
    assert '--epoch 1 --n-train 1000 --n-test 500 --n-hidden 64 --batchsize 20' in \
        ' '.join(parser().format_help().split())
    bad = make_parser('x', epoch=1, batchsize=1, out=str(tmp_path), quick=dict(n_hiden=2))
    with pytest.raises(ValueError, match='n_hiden'):        # a typo in the declaration
        bad.parse_args(['--quick'])
    no_data = make_parser('x', epoch=1, batchsize=1, out=str(tmp_path), data=False)
    assert no_data.parse_args(['--quick']).quick_protocol == {'epoch': 1}


def test_defaults_from_other_options_settings_and_recipes(tmp_path):
    p = make_parser('x', epoch=1, batchsize=1, out=str(tmp_path / 'a'))
    p.add_argument('--prior', default='gaussian')
    p.default_from('out', lambda a: str(tmp_path / a.prior), 'OUT/<prior>')
    p.add_argument('--z-dim', type=v.positive_int, default=2)
    p.add_setting('--noise', type=v.nonnegative_float, default=0.0, metavar='STD',
                  help='noise std (default %(default)s)')
    p.add_setting('--batch-norm', action='store_true')
    assert p.parse_args(['--prior', 'mix']).out == str(tmp_path / 'mix')
    assert p.parse_args(['--prior', 'mix', '--out', 'o']).out == 'o'
    args = p.parse_args(['--set', 'noise=0.5', '--set', 'batch-norm'])
    assert (args.noise, args.batch_norm, 'set_words' in vars(args)) == (0.5, True, False)
    assert (p.parse_args([]).noise, p.parse_args([]).batch_norm) == (0.0, False)
    text = p.format_help()
    assert 'OUT/<prior>' in text and '--noise' not in text
    settings = text[text.index('settings (--set KEY=VALUE'):]
    assert 'noise=STD' in settings and 'noise std (default 0.0)' in settings
    assert 'batch-norm' in settings and '--z-dim' not in settings
    for bad in (['--set', 'noise=-1'], ['--set', 'noisy=1'], ['--set', 'batch-norm=1'],
                ['--set', 'noise'], ['--noise', '1']):
        with pytest.raises(SystemExit):
            p.parse_args(bad)
    # a recipe's defaults: explicit options and settings, then --quick, win over them
    p.add_argument('--recipe', choices=['a', 'b'], default='a')
    p.preset_defaults('recipe', {'a': {}, 'b': dict(z_dim=9, epoch=50, noise=0.3)})
    assert (p.parse_args([]).z_dim, p.parse_args([]).epoch) == (2, 1)
    args = p.parse_args(['--recipe', 'b'])
    assert (args.z_dim, args.epoch, args.noise) == (9, 50, 0.3)
    args = p.parse_args(['--recipe', 'b', '--quick', '--z-dim', '3', '--set', 'noise=0'])
    assert (args.z_dim, args.epoch, args.noise) == (3, 1, 0.0)
    assert p.given(['--recipe', 'b', '--set', 'noise=0', '--set=batch-norm']) == {
        'recipe', 'noise', 'batch_norm'}


def test_data_subsets_first_images(tmp_path, monkeypatch):
    exp, d = _loaded(tmp_path, monkeypatch, 30, ['--n-train', '10', '--n-test', '3'])
    assert (len(d.x_train), len(d.y_train), len(d.x_test), len(d.y_test)) == (10, 10, 3, 3)
    assert d.x_train[-1, 0] == 9 and d.info['n_train'] == 10 and d.info['n_test'] == 3
    assert [len(a) for a in exp.train_test()] == [10, 10, 3, 3]
    exp, d = _loaded(tmp_path, monkeypatch, 30)
    assert (len(d.x_train), len(d.x_test)) == (30, 5) and 'subset' not in d.info


def test_snapshot_interval_follows_the_epochs(tmp_path):
    args = make_parser('x', epoch=100, batchsize=10, out=str(tmp_path)).parse_args(
        ['--epoch', '8'])
    exp = Experiment('x', args)
    assert exp.snapshot_interval((8, 'epoch')) == (2, 'epoch')
    assert exp.snapshot_interval((3, 'epoch')) == (1, 'epoch')
    assert exp.snapshot_interval((400, 'iteration')) == (100, 'iteration')
    out = tmp_path / 'run'
    _train(out, ['--epoch', '8'], quick=False)                 # 5 iterations per epoch
    assert sorted(int(p.name[len('snapshot_iter_'):-4]) for p in out.glob('snapshot_iter_*')) \
        == [10, 20, 30, 40]                                    # every 2 epochs, and the end
    args = make_parser('x', epoch=8, batchsize=10, out=str(tmp_path)).parse_args(
        ['--snapshot-interval', '3'])
    assert Experiment('x', args).snapshot_interval((400, 'iteration')) == (3, 'epoch')


def test_missing_resume_file_is_refused_when_parsing(tmp_path, capsys):
    with pytest.raises(SystemExit) as err:
        make_parser('x', epoch=1, batchsize=1, out=str(tmp_path)).parse_args(
            ['--resume', str(tmp_path / 'nope.npz')])
    assert err.value.code == 2 and 'no such file' in capsys.readouterr().err


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / 'f.bin'

    def boom(f):
        f.write(b'partial')
        raise RuntimeError('disk full')
    with pytest.raises(RuntimeError):
        atomic_write(str(target), boom)
    assert list(tmp_path.iterdir()) == []
    atomic_write(str(target), lambda f: f.write(b'ok'))
    assert target.read_bytes() == b'ok'
    assert target.stat().st_mode & 0o044 == 0o044 or os.umask(os.umask(0)) & 0o044


def test_tile_places_images_in_rows():
    images = np.stack([np.full((2, 2), i, np.float32) for i in range(3)])
    canvas = plots.tile(images, nrow=2, image_shape=(2, 2), pad=0)
    assert canvas.shape == (4, 4)
    assert canvas[0, 0] == 0 and canvas[0, 2] == 1 and canvas[2, 0] == 2


SCRIPT = '''
"""Probe script for the CLI error paths."""
import sys
sys.path.insert(0, %r)
from expkit import Experiment, make_parser, run_main, UsageError

def main(argv=None):
    args = make_parser(__doc__, epoch=1, batchsize=1, out='out').parse_args(argv)
    exp = Experiment('probe', args)
    exp.path('')
    raise UsageError('--epoch must be positive; pass --epoch 1 or more')

if __name__ == '__main__':
    run_main(main)
'''


@pytest.mark.parametrize('argv, needle', [
    (['--no-such-option'], 'unrecognized arguments: --no-such-option'),
    (['--epoch', 'ten'], "argument --epoch: 'ten' is not a number"),
    (['--gpu', '0'], None),
    ([], '--epoch must be positive'),
])
def test_cli_errors_are_one_line_exit_2(tmp_path, argv, needle):
    script = tmp_path / 'probe.py'
    script.write_text(SCRIPT % ROOT)
    proc = subprocess.run([sys.executable, str(script)] + argv, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    if argv == ['--gpu', '0'] and chainer.backends.cuda.available:
        pytest.skip('CuPy is installed here')
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert 'Traceback' not in proc.stderr
    assert lines[0].startswith('probe.py: error: ')
    assert needle is None or needle in lines[0]
    if argv == ['--gpu', '0']:
        assert 'cupy-cuda12x' in lines[0]
    assert not (tmp_path / 'out').exists()  # nothing half-written



def test_the_run_config_is_read_once_from_the_parsed_options(tmp_path):
    import dataclasses
    from expkit.config import RunConfig
    argv = ['--seed', '5', '--threads', '1']
    args = make_parser('x', epoch=3, batchsize=7, out=str(tmp_path / 'o')).parse_args(argv)
    run = RunConfig.from_args(args)
    assert (run.epoch, run.batchsize, run.seed, run.threads, run.out, run.argv) == \
        (3, 7, 5, 1, str(tmp_path / 'o'), tuple(argv))
    assert run.options['seed'] == 5 and 'argv' not in run.options
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.seed = 6
    exp = Experiment('x', args)
    assert exp.run == run
    args.seed = 99                          # the namespace is not read again
    assert exp.run.seed == 5 and exp.finish({})['seed'] == 5


# ---------------------------------------------------------------- threads, time limit
def test_threads_default_every_core_and_recorded(tmp_path):
    import threadpoolctl
    from expkit.device import available_cores
    _, _, results = _train(tmp_path / 'one', ['--threads', '1'])
    assert results['threads'] == 1
    assert all(p['num_threads'] == 1 for p in threadpoolctl.threadpool_info())
    _, _, results = _train(tmp_path / 'all')
    assert results['threads'] == available_cores() >= 1
    assert all(p['num_threads'] == available_cores() for p in threadpoolctl.threadpool_info()
               if p['user_api'] == 'blas')
    log = json.loads((tmp_path / 'all' / 'log').read_text())
    assert all(entry['images_per_sec'] > 0 for entry in log)   # the PrintReport column
    assert results['partial'] is False and results['resume_command'] is None
    assert results['planned_iterations'] == results['stopped_at_iteration'] == 10
    for bad in ('0', '-2', '1.5'):                    # refused when parsed (exit 2)
        with pytest.raises(SystemExit) as err:
            make_parser('x', epoch=1, batchsize=1, out=str(tmp_path)).parse_args(
                ['--threads', bad])
        assert err.value.code == 2


def test_time_limit_stops_cleanly_then_resume_continues_the_log(tmp_path, monkeypatch, capsys):
    import shlex
    from expkit import training
    ticks = iter(range(10 ** 6))
    monkeypatch.setattr(training, 'clock', lambda: float(next(ticks)))   # 1 s per reading
    out = tmp_path / 'run'
    # deadline 18 s after the start: the stop trigger reads the clock once per iteration,
    # a snapshot twice; the margin is 2 x the longest iteration + the snapshot time
    trainer, model, results = _train(out, ['--time-limit', '0.3', '--threads', '1'])
    stopped = trainer.updater.iteration
    assert 5 <= stopped < 10                                    # after epoch 1, before the end
    assert results['partial'] is True and results['stopped_at_iteration'] == stopped
    assert results['planned_iterations'] == 10
    assert results['time_limit_minutes'] == 0.3 and results['eval_seconds'] >= 0
    snapshot = out / ('snapshot_iter_%d.npz' % stopped)
    assert snapshot.exists() and (out / 'model_reg.npz').exists()
    command = results['resume_command']
    assert command.endswith('--out %s --resume %s' % (out, snapshot))
    assert command in capsys.readouterr().out                   # printed for the user
    assert [e['epoch'] for e in json.loads((out / 'log').read_text())] == [1]

    # resume with the printed command (real clock now): it finishes, the log continues
    monkeypatch.setattr(training, 'clock', training.time.monotonic)
    argv = shlex.split(command)[2:]
    assert argv[argv.index('--time-limit') + 1] == '0.3' and argv.count('--out') == 1
    trainer2, _, results2 = _train(out, [a for a in argv if a != '--quick'])
    assert trainer2.updater.iteration == 10 and results2['partial'] is False
    assert results2['train_iterations'] == 10 - stopped
    log = json.loads((out / 'log').read_text())
    assert [e['epoch'] for e in log] == [1, 2] and log[-1]['iteration'] == 10
    final = np.load(out / 'snapshot_iter_10.npz')
    plotted = json.loads(str(final['extensions/PlotReport/_plot_loss.png']))
    assert [x for x, _ in plotted['main/loss']] == [1, 2]       # loss.png keeps epoch 1


def test_stop_at_leaves_room_for_the_snapshot(monkeypatch):
    from expkit import training
    now = [0.0]
    monkeypatch.setattr(training, 'clock', lambda: now[0])

    class Up:
        iteration, epoch_detail = 0, 0.0
    trainer = type('T', (), {'updater': Up()})()
    stop = training.StopAt(100, 'iteration', deadline=60.0, snapshot_seconds=lambda: 5.0)
    for t in (0.0, 10.0, 20.0, 30.0):                           # 10 s per iteration
        now[0] = t
        assert not stop(trainer)
    now[0] = 35.5                                               # 35.5 + 2 * 10 + 5 >= 60
    assert stop(trainer) and stop.timed_out
    assert not training.StopAt(100, 'iteration')(trainer)


# ---------------------------------------------------------------- validation, model selection
def _loaded(tmp_path, monkeypatch, n_train, argv=(), validation=10000):
    import datasets
    x = np.arange(n_train, dtype=np.float32)[:, None]
    fake = Dataset(x, np.arange(n_train) % 10, x[:5], np.arange(5), (1, 1),
                   {'name': 'fake', 'n_train': n_train, 'notes': []})
    monkeypatch.setattr(datasets, 'load', lambda *a, **k: fake)
    args = make_parser('x', epoch=1, batchsize=1, out=str(tmp_path / 'o'),
                       validation=validation).parse_args(list(argv))
    exp = Experiment('x', args)
    return exp, exp.load_data()


def test_validation_holds_out_the_last_images(tmp_path, monkeypatch):
    exp, d = _loaded(tmp_path, monkeypatch, 60000)
    assert (len(d.x_train), len(d.x_val)) == (50000, 10000) and d.x_val[0, 0] == 50000
    assert d.y_val[0] == 0 and d.x_train[-1, 0] == 49999
    assert (d.info['n_train'], d.info['n_validation'], d.info['validation_indices']) == \
        (50000, 10000, [50000, 60000])
    assert len(exp.validation()[0]) == 10000
    exp, d = _loaded(tmp_path, monkeypatch, 60000, ['--validation', '0'])
    assert len(d.x_val) == 0 and d.info['n_train'] == 60000
    exp, d = _loaded(tmp_path, monkeypatch, 60000, ['--quick', '--validation', '700'])
    assert (len(exp.validation()[0]), len(d.x_train)) == (500, 1000)   # --n-test, --n-train
    assert d.x_val[0, 0] == 59300 and d.info['n_validation'] == 500
    exp, d = _loaded(tmp_path, monkeypatch, 60000, validation=0)        # script without one
    assert len(d.x_val) == 0


def test_validation_default_needs_the_official_training_set(tmp_path, monkeypatch):
    exp, d = _loaded(tmp_path, monkeypatch, 5000)                       # e.g. mnist-5k
    assert len(d.x_val) == 0 and d.info['n_train'] == 5000
    assert any('no validation split' in n for n in d.info['notes'])
    exp, d = _loaded(tmp_path, monkeypatch, 5000, ['--validation', '700'])
    assert (len(d.x_train), len(d.x_val)) == (4300, 700)
    with pytest.raises(UsageError, match='--validation 5000 leaves none of the 5000 '
                                         'training images of fake; pass --validation < 5000'):
        _loaded(tmp_path, monkeypatch, 5000, ['--validation', '5000'])
    with pytest.raises(SystemExit) as err:                   # refused when parsed
        _loaded(tmp_path, monkeypatch, 5000, ['--validation', '-1'])
    assert err.value.code == 2
    assert not (tmp_path / 'o').exists()
    help_text = make_parser('x', epoch=1, batchsize=1, out='o', validation=10000).format_help()
    assert "default: 10000 on the official 60,000 training images" in ' '.join(help_text.split())


def _scripted_selection(values, seen):
    """Model selection on the tiny regressor; ``values`` are the successive validation
    values; ``seen`` gets the weights at each evaluation."""
    calls = iter(values)

    def select(model):
        def evaluate():
            seen.append(model.fc.W.array.copy())
            return next(calls)
        return dict(name='mse', evaluate=evaluate, models={'reg': model}, mode='min')
    return select


def test_select_best_saves_logs_and_records(tmp_path):
    seen = []
    _, model, results = _train(tmp_path / 'r', select=_scripted_selection([3.0, 1.0], seen))
    w_epoch1, w_epoch2 = seen
    sel = results['model_selection']['mse']
    assert (sel['best_value'], sel['best_iteration'], sel['mode']) == (1.0, 10, 'min')
    assert sel['files'] == ['model_reg_best.npz']
    log = json.loads((tmp_path / 'r' / 'log').read_text())
    assert [e['validation/mse'] for e in log] == [3.0, 1.0]
    best = np.load(tmp_path / 'r' / 'model_reg_best.npz')
    np.testing.assert_array_equal(best['fc/W'], w_epoch2)
    # a worse second value keeps the epoch-1 weights, and load_best restores them
    seen = []
    _, model, results = _train(tmp_path / 'w', select=_scripted_selection([1.0, 3.0], seen))
    selector, (w_epoch1, _) = _train.exp.selectors['mse'], seen
    assert results['model_selection']['mse']['best_iteration'] == 5
    assert selector.load_best()
    np.testing.assert_array_equal(model.fc.W.array, w_epoch1)


def test_select_best_survives_resume(tmp_path, monkeypatch):
    from expkit import training
    ticks = iter(range(10 ** 6))
    monkeypatch.setattr(training, 'clock', lambda: float(next(ticks)))
    out = tmp_path / 'run'
    seen = []
    trainer, _, results = _train(out, ['--time-limit', '0.3'], _scripted_selection([1.0], seen))
    assert results['partial'] and 5 <= trainer.updater.iteration < 10
    assert results['model_selection']['mse']['best_iteration'] == 5
    monkeypatch.setattr(training, 'clock', training.time.monotonic)
    seen = []
    _, _, results = _train(out, ['--resume', results['resume_command'].split()[-1]],
                           _scripted_selection([2.0], seen))
    sel = results['model_selection']['mse']
    assert (sel['best_value'], sel['best_iteration']) == (1.0, 5)   # not the worse epoch 2
    log = json.loads((out / 'log').read_text())
    assert [e['validation/mse'] for e in log] == [1.0, 2.0]


def test_select_best_restarts_when_its_best_models_are_missing(tmp_path, monkeypatch, capsys):
    from expkit import training
    ticks = iter(range(10 ** 6))
    monkeypatch.setattr(training, 'clock', lambda: float(next(ticks)))
    out = tmp_path / 'run'
    trainer, _, results = _train(out, ['--time-limit', '0.3'], _scripted_selection([1.0], []))
    stopped = trainer.updater.iteration
    (out / 'model_reg_best.npz').unlink()       # e.g. the snapshot copied alone elsewhere
    monkeypatch.setattr(training, 'clock', training.time.monotonic)
    _, model, results = _train(out, ['--resume', results['resume_command'].split()[-1]],
                               _scripted_selection([2.0], []))
    assert 'model_reg_best.npz (best on validation so far) not beside the snapshot; model ' \
           'selection starts again from update %d' % stopped in capsys.readouterr().err
    sel = results['model_selection']['mse']
    # the 1.0 of update 5 is forgotten (its weights are gone): the best is the resumed part's
    assert (sel['best_value'], sel['best_iteration'], sel['restarted_at_iteration']) == \
        (2.0, 10, stopped)
    assert _train.exp.selectors['mse'].load_best()     # and its weights are there to load


def test_one_test_error_extension():
    """One TestError (expkit.extensions) serves the AAE and the M2 experiments."""
    from expkit.extensions import TestError
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '*.py'], cwd=ROOT,
                           capture_output=True, text=True).stdout.split()
    defined = [f for f in files if not f.startswith('tests/') and
               'class TestError(' in open(os.path.join(ROOT, f)).read()]
    assert defined == ['expkit/extensions.py']
    for user in ('experiments/aae_semisupervised.py', 'experiments/m2_semisupervised.py'):
        assert 'from expkit.extensions import TestError' in open(os.path.join(ROOT, user)).read()
    x, y = np.eye(3, dtype=np.float32)[[0, 1, 2, 1]], np.array([0, 1, 2, 0])
    observation = {}
    with chainer.reporter.Reporter().scope(observation):
        TestError(lambda a: a.argmax(1), x, y)(None)
        TestError(lambda a: np.zeros(len(a), int), x, y, key='test/error_zero')(None)
    assert observation == {'test/error': 0.25, 'test/error_zero': 0.5}


def test_log_points_and_error_curve_read_the_whole_log():
    class _Log:
        log = [{'iteration': 10, 'test/error': 0.5}, {'iteration': 15, 'main/loss': 1.0},
               {'iteration': 20, 'test/error': 0.25}]

    class _Trainer:
        def get_extension(self, name):
            assert name == 'LogReport'
            return _Log()
    assert plots.log_points(_Trainer(), 'test/error', 100) == [(10, 50.0), (20, 25.0)]
    fig = plots.error_curve(_Trainer(), 2000, 'title', paper=(3.0, 'paper'),
                            final=(20.0, 10000))
    ax = fig.axes[0]
    assert ax.get_yscale() == 'log'
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines['ours: all 10000 test images'].get_xdata()) == [20]   # the last update
    assert list(lines['paper'].get_ydata()) == [3.0, 3.0]
    assert list(lines['test error % (first 2000 test images)'].get_ydata()) == [50.0, 25.0]


def test_parzen_bandwidths_marks_the_chosen_sigma_on_a_log_axis():
    res = {'sigmas': [0.05, 0.1, 0.2], 'valid_ll': [-10.0, 5.0, 2.0], 'sigma': 0.1}
    ax = plots.parzen_bandwidths(res, 500).axes[0]
    assert ax.get_xscale() == 'log' and '500 held-out' in ax.get_title()
    curve, chosen = ax.get_lines()
    assert list(curve.get_ydata()) == res['valid_ll'] and list(chosen.get_xdata()) == [0.1, 0.1]
