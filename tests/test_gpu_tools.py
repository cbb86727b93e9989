"""tools/gpu_parity.py and tools/gpu_check.sh, checked on the CPU (the GPU itself is not
here: these tests check the comparison logic and the script's syntax and files)."""
import os
import subprocess

import numpy as np
import pytest

from expkit.testing import load_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_parity_of_the_cpu_with_itself_is_exact(capsys):
    parity = load_script('tools/gpu_parity.py')
    assert parity.main(['--device', '@numpy', '--only', 'aae', 'goodfellow']) == 0
    out = capsys.readouterr().out
    assert 'aae        ok' in out and 'parity: all ok' in out
    cpu, other = parity.check_aae(parity.chainer.get_device('@numpy'))
    assert cpu.shape == (9,) and np.array_equal(cpu, other)      # 3 updates x 3 losses


def test_parity_reports_a_difference_and_exits_1(monkeypatch, capsys):
    parity = load_script('tools/gpu_parity.py')
    monkeypatch.setitem(parity.CHECKS, 'parzen',
                        lambda device: (np.array([1.0, 2.0]), np.array([1.0, 2.01])))
    assert parity.main(['--device', '@numpy', '--only', 'parzen']) == 1
    assert 'FAILED: parzen' in capsys.readouterr().out


def test_gpu_check_script_parses_and_names_only_flat_output_files():
    script = os.path.join(ROOT, 'tools', 'gpu_check.sh')
    subprocess.run(['bash', '-n', script], check=True)
    text = open(script).read()
    outputs = set(__import__('re').findall(r'\$OUT/([A-Za-z0-9_.-]+)"', text))
    assert outputs and len(outputs) <= 8          # at most 8 files come back from a GPU run
    for script_name in ('aae_semisupervised.py', 'aae_gaussian.py'):
        assert os.path.exists(os.path.join(ROOT, 'experiments', script_name))
