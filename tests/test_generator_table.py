"""experiments/evaluate_generators.py and experiments/mnist_classifier.py with --quick, their
error paths, and the generated table of docs/results/generators.md."""
import os

import numpy as np
import pytest

from expkit.testing import load_script, refused, run_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    if not os.environ.get('MNIST_DIR'):
        monkeypatch.setenv('MNIST_OFFLINE', '1')


def _fake_run(folder, x):
    os.makedirs(folder)
    np.savez(os.path.join(folder, 'samples.npz'), x=x)
    return str(folder)


@pytest.mark.slow
def test_evaluate_generators_quick_orders_real_blurred_and_noise(tmp_path):
    noise = _fake_run(tmp_path / 'noise', np.random.RandomState(0).rand(600, 784)
                      .astype(np.float32))
    out = str(tmp_path / 'out')
    res = run_script('experiments/evaluate_generators.py',
                     ['--quick', '--out', out, 'uniform noise=' + noise])
    rows = res['measured']['rows']
    assert list(rows) == ['real training digits', 'blurred by 0.7 px', 'uniform noise']
    real, blur, junk = rows.values()
    assert real['fd'] < blur['fd'] < junk['fd']
    assert real['precision'] > 0.5 and real['recall'] > 0.5 and junk['recall'] < 0.05
    # the classifier maps every noise image to one point, one digit, with high confidence
    assert junk['classes_drawn'] <= 2 and junk['kl_from_uniform'] > 1.5
    assert real['classes_drawn'] == 10 and real['kl_from_uniform'] < 0.1
    assert all(r['n_samples'] == 500 for r in rows.values())
    assert rows['uniform noise']['run'].endswith('noise') and real['run'] is None
    assert res['measured']['order_by_fd'][0] == 'real training digits'
    for png in ('samples.png', 'fd_vs_parzen.png'):
        assert os.path.getsize(os.path.join(out, png)) > 1000


@pytest.mark.parametrize('make, message', [
    (None, 'has no samples.npz'),
    (np.full((600, 784), 2.0, np.float32), 'outside'),
    (np.zeros((100, 784), np.float32), '--n-samples 100'),
    (np.zeros((600, 10), np.float32), 'not 28x28'),
])
def test_evaluate_generators_refuses_bad_runs(tmp_path, capsys, make, message):
    folder = str(tmp_path / 'run')
    if make is None:
        os.makedirs(folder)
    else:
        _fake_run(folder, make)
    out = tmp_path / 'out'
    line = refused('evaluate_generators', ['--quick', '--out', str(out), 'x=' + folder],
                   capsys)
    assert message in line
    assert not out.exists()


def test_evaluate_generators_refuses_a_row_named_like_a_reference(tmp_path, capsys):
    folder = _fake_run(tmp_path / 'run', np.zeros((600, 784), np.float32))
    line = refused('evaluate_generators', ['--quick', '--out', str(tmp_path / 'o'),
                                           'blurred by 0.7 px=' + folder], capsys)
    assert 'unique' in line
    line = refused('evaluate_generators', ['--quick', '--out', str(tmp_path / 'o'),
                                           'no-equals-sign'], capsys)
    assert 'NAME=RUN_DIR' in line


@pytest.mark.slow
def test_mnist_classifier_quick_writes_weights_and_their_md5(tmp_path):
    from evaluation.features import file_md5
    out = str(tmp_path / 'out')
    res = run_script('experiments/mnist_classifier.py', ['--quick', '--out', out])
    m = res['measured']
    assert 0.0 <= m['test_accuracy'] <= 1.0 and m['iterations'] > 0
    assert m['weights_md5'] == file_md5(os.path.join(out, 'model_net.npz'))


def test_shift_converter_moves_images_within_the_frame():
    conv = load_script('experiments/mnist_classifier.py').ShiftConverter(2, seed=0)
    x = np.zeros((50, 1, 28, 28), np.float32)
    x[:, 0, 14, 14] = 1.0
    xs, ys = conv([(im, np.int32(i)) for i, im in enumerate(x)])
    assert xs.shape == x.shape and ys.tolist() == list(range(50))
    rows, cols = np.nonzero(xs[:, 0].sum(0))
    assert xs.sum() == 50 and rows.min() >= 12 and rows.max() <= 16 and cols.max() <= 16
    assert len(set(map(tuple, np.argwhere(xs[:, 0])[:, 1:]))) > 5   # the shifts vary


def test_generators_table_ranks_and_marks_partial_runs():
    report = load_script('experiments/report.py')
    row = dict(precision=.5, recall=.5, classes_drawn=10, kl_from_uniform=.01,
               confidence=.9, parzen_std_error=2.0)
    rec = {'command': 'python experiments/evaluate_generators.py',
           'config': {'protocol': 'p'},
           'measured': {'rows': {
               'real training digits': dict(row, fd=0.5, parzen_nats=240.0, run=None),
               'gan': dict(row, fd=9.0, parzen_nats=300.0, run='results/gan_x',
                           partial=True, stopped_at_iteration=10, planned_iterations=20)}}}
    text = report.generators_table({'generators_full': rec, 'gan_x': {}})
    lines = text.splitlines()
    assert lines[2].startswith('| real training digits | reference | 0.50 |')
    assert lines[2].endswith('| 1 | 2 |') and lines[3].endswith('| 2 | 1 |')
    assert '[gan_x](runs/gan_x.json) (partial: 10 of 20 updates)' in lines[3]   # from docs/results


@pytest.mark.parametrize('script, dest', [
    ('aae_gaussian', 'n_samples'), ('aae_parzen', 'n_samples'), ('vae_mnist', 'n_samples'),
    ('gan_goodfellow', 'parzen_samples'), ('gan_mlp', 'n_samples'),
    ('dcgan_mnist', 'parzen_samples'), ('glo_mnist', 'n_samples')])
def test_every_generator_writes_ten_thousand_samples_by_default(script, dest):
    """The table scores 10,000 samples of each model: its script's default writes them."""
    from expkit import validate
    parser = validate.script_parser(load_script('experiments/%s.py' % script).main)
    assert getattr(parser.parse_args([]), dest) == 10000
