"""Device handling without a GPU: the chosen device becomes the current one, and a CuPy
that cannot load CUDA is refused with chainer's own reason (CPU tests: no GPU needed)."""
import argparse
import importlib.util

import pytest

import chainer

from expkit.device import resolve_device
from expkit.errors import UsageError


class _Device:
    xp = None

    def __init__(self, spec):
        self.spec, self.used = spec, 0

    def use(self):
        self.used += 1


def _args(gpu=None, device='@numpy'):
    return argparse.Namespace(gpu=gpu, device=device)


def test_the_chosen_gpu_becomes_the_current_device(monkeypatch):
    """--gpu 1: GPU 1 is made current, so ``xp`` arrays land where the model is."""
    monkeypatch.setattr(chainer.backends.cuda, 'available', True)
    monkeypatch.setattr(chainer, 'get_device', _Device)
    device = resolve_device(_args(gpu=1))
    assert device.spec == '@cupy:1' and device.used == 1


def test_a_gpu_communicator_rank_uses_its_own_gpu(monkeypatch):
    monkeypatch.setattr(chainer.backends.cuda, 'available', True)
    monkeypatch.setattr(chainer, 'get_device', _Device)
    dist = argparse.Namespace(gpu=True, intra_rank=3, name='pure_nccl', comm=object())
    device = resolve_device(_args(), dist)
    assert device.spec == '@cupy:3' and device.used == 1


def test_cupy_without_cuda_gives_chainers_reason(monkeypatch):
    """CuPy installed, libcublasLt missing: the one line names the library, not 'install
    CuPy'."""
    monkeypatch.setattr(chainer.backends.cuda, 'available', False)
    monkeypatch.setattr(chainer.backends.cuda, '_resolution_error', ImportError(
        'libcublasLt.so.13: cannot open shared object file:\nNo such file or directory'),
        raising=False)
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: object() if name == 'cupy' else find_spec(name, *a))
    with pytest.raises(UsageError) as info:
        resolve_device(_args(gpu=0))
    message = str(info.value)
    assert '\n' not in message
    assert message.startswith('--gpu 0: CuPy is installed but chainer cannot use CUDA')
    assert 'ImportError: libcublasLt.so.13: cannot open shared object file: No such file' \
        in message
    assert 'drop --gpu/--device' in message


def test_no_cupy_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(chainer.backends.cuda, 'available', False)
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'cupy' else find_spec(name, *a))
    with pytest.raises(UsageError, match='needs CuPy.*make install-gpu'):
        resolve_device(_args(device='@cupy:0'))
