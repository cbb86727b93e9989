"""Every experiment script fails on bad input with one line on stderr, exit status 2, no
traceback and no output folder. The full matrix runs in-process through
``expkit.run_main``; a few cases run as a user runs them, in a subprocess."""
import gzip
import os
import struct
import subprocess
import sys

import pytest

from expkit.testing import refused

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_SCRIPTS = ['aae_gaussian', 'aae_label_prior', 'aae_semisupervised', 'aae_clustering',
                 'aae_parzen', 'aae_style', 'aae_dim_reduction', 'vae_mnist', 'cvae_completion',
                 'm2_semisupervised', 'm1m2_semisupervised', 'gan_mlp', 'gan_goodfellow',
                 'dcgan_mnist', 'glo_mnist']
ALL_SCRIPTS = MNIST_SCRIPTS + ['gan_toy', 'gan_optimal_discriminator']


@pytest.mark.parametrize('script', MNIST_SCRIPTS)
def test_missing_data_dir(script, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('MNIST_OFFLINE', '1')
    empty = tmp_path / 'no-mnist-here'
    empty.mkdir()
    line = refused(script, ['--data-dir', str(empty), '--out', str(tmp_path / 'out')],
                       capsys)
    assert str(empty) in line
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('script', ALL_SCRIPTS)
def test_unknown_option(script, tmp_path, capsys):
    line = refused(script, ['--no-such-flag', '--out', str(tmp_path / 'out')], capsys)
    assert 'unrecognized arguments: --no-such-flag' in line
    assert not (tmp_path / 'out').exists()


def _run(script, args, cwd):
    env = dict(os.environ, MNIST_OFFLINE='1', OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, os.path.join(ROOT, 'experiments', script + '.py')]
                          + args, cwd=str(cwd), capture_output=True, text=True, timeout=120,
                          env=env)


def _assert_one_line_error(proc, script, needle):
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr
    assert lines[0].startswith(script + '.py: error: '), lines[0]
    assert needle in lines[0], lines[0]


def test_corrupt_idx_file(tmp_path):
    data = tmp_path / 'mnist'
    data.mkdir()
    with gzip.open(data / 't10k-images-idx3-ubyte.gz', 'wb') as f:   # header says 10 images,
        f.write(struct.pack('>IIII', 0x803, 10, 28, 28) + b'\0' * 784 * 3)  # file holds 3
    with gzip.open(data / 't10k-labels-idx1-ubyte.gz', 'wb') as f:
        f.write(struct.pack('>II', 0x801, 10) + bytes(10))
    proc = _run('aae_gaussian', ['--data-dir', str(data), '--out', str(tmp_path / 'out')],
                tmp_path)
    _assert_one_line_error(proc, 'aae_gaussian', 't10k-images-idx3-ubyte.gz')
    assert not (tmp_path / 'out').exists()


def test_gpu_without_cupy(tmp_path):
    import chainer
    if chainer.backends.cuda.available:
        pytest.skip('CuPy and a GPU are present')
    proc = _run('aae_gaussian', ['--gpu', '0', '--out', str(tmp_path / 'out')], tmp_path)
    _assert_one_line_error(proc, 'aae_gaussian', 'cupy-cuda12x')
    assert not (tmp_path / 'out').exists()


def test_wrapper_script_names_itself(tmp_path):
    proc = _run('m1m2_semisupervised', ['--no-such-flag'], tmp_path)
    _assert_one_line_error(proc, 'm1m2_semisupervised', '--no-such-flag')
