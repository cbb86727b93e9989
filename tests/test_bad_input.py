"""A new user's bad input ends with one line on stderr, exit status 2 and no output folder
(out-of-range numbers and an unwritable --out, run as a user runs them, and in process), and the
combinations that need the
loaded data, refused before training starts."""
import os
import subprocess
import sys

import pytest

from expkit.testing import refused

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize('argv, needle', [
    (['--epoch', '-3'], 'argument --epoch: -3 is out of range; pass an integer >= 1'),
    (['--batchsize', '0'], 'argument --batchsize: 0 is out of range; pass an integer >= 1'),
    (['--z-dim', '0'], 'argument --z-dim: 0 is out of range; pass an integer >= 1'),
    (['--out', '/proc/aae-out'], 'argument --out: cannot write into /proc'),
])
@pytest.mark.slow
def test_out_of_range_options_and_unwritable_out_in_a_subprocess(argv, needle, tmp_path):
    env = dict(os.environ, MNIST_OFFLINE='1', OMP_NUM_THREADS='1')
    argv = argv if '--out' in argv else argv + ['--out', str(tmp_path / 'out')]
    proc = subprocess.run([sys.executable, os.path.join(ROOT, 'experiments', 'aae_gaussian.py')]
                          + argv, cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and 'Traceback' not in proc.stderr, proc.stderr[-2000:]
    assert lines[0].startswith('aae_gaussian.py: error: ' + needle), lines[0]
    assert os.listdir(tmp_path) == []
    assert not os.path.exists('/proc/aae-out')


@pytest.mark.parametrize('argv', [['--epoch', '0'], ['--batchsize', '-5']])
def test_out_of_range_options_in_process(argv, tmp_path, capsys):
    line = refused('aae_gaussian', argv + ['--out', str(tmp_path / 'out')], capsys)
    assert 'pass an integer >= 1' in line
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('script, argv, needle', [
    ('aae_dim_reduction', ['--labels', '100000'], 'exceeds the'),    # more labels than images
    ('m2_semisupervised', ['--quick', '--labels', '3000'], 'ask for fewer labels'),
    ('aae_dim_reduction', ['--labels', '0', '--clusters', '1'], 'pass an integer >= 2'),
    ('aae_dim_reduction', ['--clusters', '7'], 'use --clusters 10 or --labels 0'),
    ('aae_semisupervised', ['--set', 'supervised-only', '--set', 'labelled-reconstruction'],
     'drop labelled-reconstruction'),
    ('m2_semisupervised', ['--set', 'm1-features=mean'], 'only applies to --model m1m2'),
    ('aae_parzen', ['--n-valid', '5000000'], 'pass --n-valid <'),
    ('glo_mnist', ['--n-heldout', '5000000'], 'pass --n-heldout <='),
    ('vae_mnist', ['--nll-examples', '5000000'], 'pass --nll-examples <='),
    ('gan_goodfellow', ['--parzen-test', '5000000'], 'pass --parzen-test <='),
    ('dcgan_mnist', ['--parzen-test', '5000000'], 'pass --parzen-test <='),
])
def test_combinations_that_make_no_sense(script, argv, needle, tmp_path, capsys, monkeypatch):
    """Refused with a message that names the fix, before anything is trained or written."""
    monkeypatch.setenv('MNIST_OFFLINE', '1')
    line = refused(script, argv + ['--out', str(tmp_path / 'out')], capsys)
    assert needle in line, line
    assert not (tmp_path / 'out').exists()
