"""Can Chainer use the GPU at all? Versions, the device, and one matmul, one element-wise
kernel, one reduction and one random draw on it, each checked against NumPy.

Exit status 0: all four agree; 1: a kernel failed or disagreed; 2: Chainer cannot use CUDA
(CuPy missing, or CuPy installed and a CUDA library failing to load: then the reason is
chainer's own ``chainer.backends.cuda._resolution_error``, e.g. a missing ``libcublasLt``).
Usage: ``python tools/gpu_preflight.py [--device @cupy:0] [--json FILE]``.
"""
import argparse
import importlib.util
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import chainer_compat  # noqa: F401,E402  (before chainer: see chainer_compat)
import numpy as np  # noqa: E402

import chainer  # noqa: E402
from chainer.backends import cuda  # noqa: E402

from expkit.device import cuda_problem  # noqa: E402


#: what the experiments import besides chainer and NumPy (setup.py install_requires)
DEPENDENCIES = ('matplotlib', 'sklearn', 'scipy', 'threadpoolctl', 'mlxtend', 'PIL')


def versions():
    out = {'python': platform.python_version(), 'numpy': np.__version__,
           'chainer': chainer.__version__, 'cupy': None,
           'missing': [m for m in DEPENDENCIES if importlib.util.find_spec(m) is None]}
    if importlib.util.find_spec('cupy') is not None:
        try:
            import cupy
            out['cupy'] = cupy.__version__
        except Exception as exc:                 # noqa: BLE001  (reported, not raised)
            out['cupy'] = 'import failed: %s: %s' % (type(exc).__name__, exc)
    return out


def kernels(device):
    """Each of the four kernels: {'ok', 'max_abs_error', 'seconds'} (or {'ok', 'error'})."""
    xp = device.xp
    rng = np.random.RandomState(0)
    a, b = rng.rand(256, 512).astype(np.float32), rng.rand(512, 128).astype(np.float32)

    def sync():
        if xp is not np:
            device.device.synchronize()

    def matmul():
        return chainer.backend.CpuDevice().send(device.send(a).dot(device.send(b))), a.dot(b)

    def elementwise():
        f = chainer.functions.sigmoid(device.send(a)).array * 2 - 1
        return chainer.backend.CpuDevice().send(f), 2 / (1 + np.exp(-a)) - 1

    def reduction():
        got = device.send(a).sum(axis=0)
        return chainer.backend.CpuDevice().send(got), a.astype(np.float64).sum(axis=0)

    def random():
        with chainer.using_device(device):
            xp.random.seed(0)
            u = xp.random.uniform(0, 1, (100000,)).astype(np.float32)
        u = chainer.backend.CpuDevice().send(u)   # in [0, 1), mean 1/2 within 5 sigma
        ok = 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 5 * (1 / 12 / u.size) ** .5
        return np.array([float(ok)]), np.array([1.0])

    out = {}
    for name, fn in (('matmul', matmul), ('elementwise', elementwise),
                     ('reduction', reduction), ('random', random)):
        t0 = time.time()
        try:
            got, want = fn()
            sync()
            err = float(np.max(np.abs(np.asarray(got, np.float64) - want)))
            out[name] = {'ok': err <= 1e-3 * max(1.0, float(np.max(np.abs(want)))),
                         'max_abs_error': err}
        except Exception as exc:                 # noqa: BLE001  (each kernel reported)
            out[name] = {'ok': False, 'error': '%s: %s' % (type(exc).__name__,
                                                           ' '.join(str(exc).split()))}
        out[name]['seconds'] = round(time.time() - t0, 3)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='@cupy:0')
    parser.add_argument('--json', help='also write the results to this file')
    args = parser.parse_args(argv)
    result = {'versions': versions(), 'cuda_available': bool(cuda.available),
              'cudnn_enabled': bool(getattr(cuda, 'cudnn_enabled', False))}
    reason = cuda_problem() if args.device != '@numpy' else None
    result['unavailable'] = reason
    status = 2
    if reason is None:
        device = chainer.get_device(args.device)
        device.use()
        if device.xp is not np:
            import cupy
            props = cupy.cuda.runtime.getDeviceProperties(device.device.id)
            result['device'] = {'name': props['name'].decode(), 'id': device.device.id,
                                'memory_gib': round(props['totalGlobalMem'] / 2 ** 30, 1),
                                'driver': cupy.cuda.runtime.driverGetVersion(),
                                'runtime': cupy.cuda.runtime.runtimeGetVersion()}
        else:
            result['device'] = {'name': 'CPU (numpy)'}
        result['kernels'] = kernels(device)
        status = 0 if all(k['ok'] for k in result['kernels'].values()) else 1
    result['status'] = status
    print('versions: %s' % ', '.join('%s %s' % kv for kv in result['versions'].items()
                                     if kv[0] != 'missing'))
    if result['versions']['missing']:
        print('missing: %s (the experiments will not run)'
              % ', '.join(result['versions']['missing']))
        status = max(status, 1)
        result['status'] = status
    print('cuda.available %s, cudnn_enabled %s' % (result['cuda_available'],
                                                   result['cudnn_enabled']))
    if reason is not None:
        print('no GPU: %s' % reason)
    else:
        print('device: %s' % result['device'])
        for name, k in result['kernels'].items():
            print('%-12s %s  %s' % (name, 'ok  ' if k['ok'] else 'FAIL',
                                    k.get('error', 'max abs error %.2e' %
                                          k.get('max_abs_error', 0))))
        print('preflight: %s on %s' % ('ok' if status == 0 else 'FAILED',
                                       result['device']['name']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return status


if __name__ == '__main__':
    sys.exit(main())
