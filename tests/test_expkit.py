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
from expkit.experiment import atomic_write
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


def _train(out, extra=()):
    parser = make_parser('tiny', epoch=2, batchsize=10, out=str(out))
    args = parser.parse_args(['--snapshot-interval', '1', '--quick'] + list(extra))
    exp = Experiment('tiny', args, paper={'source': 'none', 'values': {}})
    rng = np.random.RandomState(0)
    x = rng.randn(50, 3).astype(np.float32)
    t = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = TinyRegressor()
    opt = chainer.optimizers.SGD(lr=0.1)
    opt.setup(model)
    it = chainer.iterators.SerialIterator(chainer.datasets.TupleDataset(x, t), args.batchsize)
    updater = chainer.training.StandardUpdater(it, opt, device=exp.device)
    trainer = exp.trainer(updater, models={'reg': model}, report=['main/loss'],
                          plots={'loss.png': ['main/loss']})
    exp.run(trainer, images_per_iteration=args.batchsize)
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


@pytest.mark.parametrize('quick', [False, True])
def test_train_test_truncates_only_in_quick_mode(tmp_path, quick):
    argv = ['--quick'] if quick else []
    args = make_parser('x', epoch=7, batchsize=1, out=str(tmp_path)).parse_args(argv)
    exp = Experiment('x', args)
    exp.data = Dataset(np.zeros((30, 4)), np.arange(30), np.zeros((20, 4)), np.arange(20), (2, 2),
                       {'name': 'toy'})
    x_train, y_train, x_test, y_test = exp.train_test(n_quick_train=10, n_quick_test=5)
    assert (len(x_train), len(y_train), len(x_test), len(y_test)) == \
        ((10, 10, 5, 5) if quick else (30, 30, 20, 20))
    assert args.epoch == (1 if quick else 7)


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


def test_report_puts_paper_beside_measured(tmp_path):
    from expkit.testing import load_script
    report = load_script('experiments/report.py')
    run = tmp_path / 'results' / 'aae_parzen'
    run.mkdir(parents=True)
    (run / 'results.json').write_text(json.dumps({
        'experiment': 'aae_parzen', 'command': 'python experiments/aae_parzen.py',
        'paper': {'source': 'Makhzani et al. 2015, Table 1', 'values': {'parzen_ll': '340 ± 2'}},
        'measured': {'parzen_ll': 301.5}, 'dataset': {'name': 'mnist-5k+t10k', 'n_train': 5000,
                                                      'n_test': 10000}}))
    out = tmp_path / 'REPRODUCTION.md'
    assert report.main(['--results', str(tmp_path / 'results'), '--out', str(out)]) == 0
    text = out.read_text()
    assert '340 ± 2  *(paper)*' in text and '| parzen_ll | 301.5 |' in text
    assert 'python experiments/aae_parzen.py' in text and 'mnist-5k+t10k' in text
    assert report.main(['--results', str(tmp_path / 'none'), '--out', str(out)]) == 2
