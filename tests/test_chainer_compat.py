"""chainer_compat: one test per documented gap, the no-op guarantee, and the import order.

The gap tests run chainer's import in a fresh interpreter with the gap forced open (the
module hidden or the attribute deleted), so each one checks the shim on every interpreter,
not only where the gap exists naturally: without the shim the same import fails.
"""
import ast
import glob
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainer
import chainer.functions as F
import chainer.links as L
import chainer_compat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ('aae', 'vae', 'gan', 'glo', 'datasets', 'evaluation', 'expkit')

# Every import finder made blind to numpy.distutils, as on Python >= 3.12 where it is absent.
HIDE_DISTUTILS = '''
import sys
class _Hide:
    def __init__(self, finder):
        self.finder = finder
    def find_spec(self, name, path=None, target=None):
        if name == 'numpy.distutils' or name.startswith('numpy.distutils.'):
            return None
        return self.finder.find_spec(name, path, target)
    def __getattr__(self, attr):
        return getattr(self.finder, attr)
sys.meta_path[:] = [_Hide(f) for f in sys.meta_path]
'''
# NumPy 2 has no numpy.sctypes; on NumPy 1 delete it.
DROP_SCTYPES = '''
import numpy
numpy.__dict__.pop('sctypes', None)
'''


def _run(code):
    proc = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


# Each gap opened after chainer_compat has run (so only that gap is open), for the "without".
REOPEN = {
    'numpy.distutils.system_info': HIDE_DISTUTILS + 'import chainer_compat\n'
    'for k in [k for k in sys.modules if k.startswith("numpy.distutils")]:\n'
    '    del sys.modules[k]\n',
    'numpy.sctypes': 'import chainer_compat, numpy\ndel numpy.sctypes\n',
}


@pytest.mark.parametrize('gap, shim, symptom', [
    (HIDE_DISTUTILS, 'numpy.distutils.system_info', "No module named 'numpy.distutils"),
    (DROP_SCTYPES, 'numpy.sctypes', 'sctypes'),
])
def test_each_gap_breaks_chainer_and_its_shim_fixes_it(gap, shim, symptom):
    rc, out = _run(REOPEN[shim] + 'import chainer\n')
    assert rc != 0 and symptom in out, 'the gap no longer breaks chainer: drop its shim\n' + out
    rc, out = _run(gap + 'import chainer_compat\nimport chainer\n'
                   'import chainer.functions\nprint(chainer_compat.APPLIED)\n')
    assert rc == 0, out
    assert shim in out


def test_system_info_stub_returns_no_blas_info():
    rc, out = _run(HIDE_DISTUTILS + textwrap.dedent('''
        import chainer_compat
        import numpy.distutils.system_info as si
        assert si.get_info('blas_opt') == {}, si.get_info('blas_opt')
        assert 'numpy.distutils.system_info' in chainer_compat.APPLIED
    '''))
    assert rc == 0, out


def test_sctypes_are_numpy_1s():
    # NumPy 1.26 on x86-64 Linux: {'int': [int8 .. int64], 'uint': [uint8 .. uint64],
    # 'float': [float16, float32, float64, longdouble], 'complex': [complex64, complex128,
    # clongdouble], 'others': [bool, object, bytes, str, void]}; longdouble only where it is
    # wider than float64.
    long = np.dtype(np.longdouble).itemsize > 8
    expected = {
        'int': [np.int8, np.int16, np.int32, np.int64],
        'uint': [np.uint8, np.uint16, np.uint32, np.uint64],
        'float': [np.float16, np.float32, np.float64] + [np.longdouble] * long,
        'complex': [np.complex64, np.complex128] + [np.clongdouble] * long,
        'others': [bool, object, bytes, str, np.void],
    }
    assert chainer_compat.numpy1_sctypes() == expected
    assert np.sctypes == expected  # the real one on NumPy 1, the shim's on NumPy 2


def test_as_strided_runs_forward_and_backward_in_float32():
    # chainer's as_strided reads np.sctypes['int'] at import and ['float'] in backward.
    x = chainer.Variable(np.arange(6, dtype=np.float32))
    y = F.as_strided(x, (2, 3), (1, 1))  # overlapping windows [0 1 2], [1 2 3]
    np.testing.assert_array_equal(y.array, [[0, 1, 2], [1, 2, 3]])
    F.sum(y).backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [1, 2, 2, 1, 0, 0])


def test_noop_where_nothing_is_missing():
    # Fill both gaps by hand first (on Python 3.11 with NumPy 1 nothing is filled): then
    # chainer_compat must add nothing and replace nothing.
    rc, out = _run('''
        import importlib.util, sys, types
        import numpy
        if not hasattr(numpy, 'sctypes'):
            numpy.sctypes = {'int': []}
        if importlib.util.find_spec('numpy.distutils') is None:
            sys.modules['numpy.distutils'] = types.ModuleType('numpy.distutils')
        before = numpy.sctypes
        modules = set(sys.modules)
        import chainer_compat
        assert chainer_compat.APPLIED == [], chainer_compat.APPLIED
        assert numpy.sctypes is before
        assert set(sys.modules) - modules == {'chainer_compat'}, set(sys.modules) - modules
    ''')
    assert rc == 0, out


def test_compat_does_not_import_chainer():
    # So it cannot hide chainer's own import error: that surfaces at the user's import.
    rc, out = _run('import sys, chainer_compat\nassert "chainer" not in sys.modules\n')
    assert rc == 0, out


def test_training_with_batchnorm_and_adam_stays_float32(tmp_path):
    # NEP 50 (NumPy 2) changes scalar promotion; no parameter, gradient or loss may leave
    # float32 and chainer's type checks must pass.
    np.random.seed(0)
    model = chainer.Sequential(L.Linear(4, 8), L.BatchNormalization(8), F.relu, L.Linear(8, 1))
    opt = chainer.optimizers.Adam(alpha=1e-2)
    opt.setup(model)
    x = np.random.randn(16, 4).astype(np.float32)
    t = (x.sum(axis=1, keepdims=True) > 0).astype(np.float32)
    losses = []
    for _ in range(30):
        loss = F.mean_squared_error(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        losses.append(float(loss.array))
        assert loss.dtype == np.float32
    assert losses[-1] < losses[0]
    for name, p in model.namedparams():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32, name
    for name, state in opt.target.namedparams():
        for key, value in state.update_rule.state.items():
            assert value.dtype == np.float32, (name, key)
    path = str(tmp_path / 'model.npz')
    chainer.serializers.save_npz(path, model)
    clone = chainer.Sequential(L.Linear(4, 8), L.BatchNormalization(8), F.relu, L.Linear(8, 1))
    chainer.serializers.load_npz(path, clone)
    with chainer.using_config('train', False):
        np.testing.assert_array_equal(model(x).array, clone(x).array)


def test_every_package_and_script_imports_compat_before_chainer():
    for pkg in PACKAGES:
        body = ast.parse(open(os.path.join(ROOT, pkg, '__init__.py')).read()).body
        first = body[1] if isinstance(body[0], ast.Expr) else body[0]
        assert isinstance(first, ast.Import) and first.names[0].name == 'chainer_compat', pkg
    ours = set(PACKAGES) | {'chainer_compat'} | {
        os.path.splitext(os.path.basename(p))[0] for p in glob.glob(ROOT + '/experiments/*.py')}
    scripts = glob.glob(ROOT + '/experiments/*.py') + glob.glob(ROOT + '/benchmarks/*.py')
    assert scripts
    for path in scripts:
        for node in ast.parse(open(path).read()).body:
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or '']
            else:
                continue
            top = {n.split('.')[0] for n in names}
            assert 'chainer' not in top, '%s imports chainer before chainer_compat' % path
            if top & ours:
                break


def test_openblas_kernels_from_cpu_flags(tmp_path):
    # Shim 3: the core type follows the flags; an unknown CPU (or no /proc) leaves it alone.
    def flags(line):
        path = tmp_path / 'cpuinfo'
        path.write_text('processor\t: 0\nflags\t\t: %s\n' % line)
        return chainer_compat.openblas_coretype(str(path))
    assert flags('fpu sse2 avx2 fma avx512f avx512bw avx512dq avx512vl') == 'SkylakeX'
    assert flags('fpu sse2 avx avx2 fma') == 'Haswell'
    assert flags('fpu sse2 avx') is None
    assert chainer_compat.openblas_coretype(str(tmp_path / 'missing')) is None


def test_openblas_kernels_set_before_numpy_unless_chosen():
    code = '''
        import os, sys
        import chainer_compat
        want = chainer_compat.openblas_coretype()
        assert os.environ.get('OPENBLAS_CORETYPE') == (os.environ.get('PRESET') or want)
        assert ('OPENBLAS_CORETYPE=%s' % want in chainer_compat.APPLIED) == \\
            bool(want and not os.environ.get('PRESET'))
    '''
    env = {k: v for k, v in os.environ.items() if k != 'OPENBLAS_CORETYPE'}
    for preset in ('', 'Haswell'):
        env2 = dict(env, PRESET=preset, **({'OPENBLAS_CORETYPE': preset} if preset else {}))
        proc = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, env=env2)
        assert proc.returncode == 0, proc.stdout + proc.stderr


# ---------------------------------------------------------------- chainer_compat.pth
# The hook that an installed chainer_compat.pth armed at this interpreter's start, taken out
# again, so that each test arms it itself (or shows what happens without it).
DISARM = '''
import sys
sys.meta_path[:] = [f for f in sys.meta_path if getattr(f, '__name__', '') != 'BeforeChainer']
'''


def _site_with_pth(tmp_path):
    """A site folder holding the chainer_compat.pth that setup.py installs, and the code that
    makes a fresh interpreter process it as site.py processes site-packages."""
    site_dir = tmp_path / 'site'
    site_dir.mkdir()
    (site_dir / 'chainer_compat.pth').write_text(
        open(os.path.join(ROOT, 'chainer_compat.pth')).read())
    return 'import site\nsite.addsitedir(%r)\n' % str(site_dir)


@pytest.mark.parametrize('gap, shim', [(HIDE_DISTUTILS, 'numpy.distutils.system_info'),
                                       (DROP_SCTYPES, 'numpy.sctypes')])
def test_pth_makes_a_plain_import_chainer_work(gap, shim, tmp_path):
    # as a notebook does it: no chainer_compat import, the gap open, chainer imported
    plain = gap + 'import chainer\nimport chainer.functions\n'
    rc, out = _run(DISARM + plain)
    assert rc != 0, 'chainer imports without chainer_compat here: the gap is not open\n' + out
    rc, out = _run(DISARM + gap + _site_with_pth(tmp_path) + plain +
                   'import chainer_compat\nprint(chainer_compat.APPLIED)\n')
    assert rc == 0, out
    assert shim in out


def test_pth_is_lazy_and_changes_nothing_where_nothing_is_missing(tmp_path):
    rc, out = _run(DISARM + _site_with_pth(tmp_path) + textwrap.dedent('''
        import sys
        import chainer_compat_hook
        assert chainer_compat_hook.BeforeChainer in sys.meta_path
        assert 'numpy' not in sys.modules and 'chainer_compat' not in sys.modules
        import json                                  # other imports pass it by
        assert 'numpy' not in sys.modules
        missing = chainer_compat_hook.gap_open()
        import chainer
        assert chainer_compat_hook.BeforeChainer not in sys.meta_path     # once only
        assert ('chainer_compat' in sys.modules) == missing, missing
        print(missing)
    '''))
    assert rc == 0, out
    # Python <= 3.11 with NumPy 1 (this project's pins) has both: nothing applied there
    if sys.version_info < (3, 12) and int(np.__version__.split('.')[0]) < 2:
        assert out.strip() == 'False'


def test_setup_installs_the_pth_into_site_packages(monkeypatch):
    import runpy
    import setuptools
    import sysconfig
    seen = {}
    monkeypatch.setattr(setuptools, 'setup', lambda **kwargs: seen.update(kwargs))
    runpy.run_path(os.path.join(ROOT, 'setup.py'))
    (folder, files), = seen['data_files']
    assert files == ['chainer_compat.pth'] and 'chainer_compat_hook' in seen['py_modules']
    # editable installs (pip install -e, as make install does) install data files only so
    assert seen['distclass']({'data_files': seen['data_files']}).has_data()
    # pip installs data files under the data prefix: this one lands in site-packages
    assert os.path.normpath(os.path.join(sysconfig.get_path('data'), folder)) == \
        os.path.normpath(sysconfig.get_path('purelib'))
    line, = open(os.path.join(ROOT, 'chainer_compat.pth')).read().splitlines()
    assert line.startswith('import ')        # site.py runs only lines that start so
