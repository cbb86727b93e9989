"""Fill the gaps between Chainer 7.8.1 (2020, the last release) and today's Python and NumPy.

Import this module before ``chainer``: every package of this project and every script does.
Each shim fills one documented gap and is applied only when that gap exists, so on
Python <= 3.11 with NumPy 1 importing this module changes nothing. Nothing here catches an
error from chainer itself: if chainer still fails to import, that is chainer's error.

1. ``numpy.distutils.system_info``. ``chainer/_environment_check.py`` imports it when chainer
   is imported and calls ``get_info('blas_opt')`` only on macOS, to warn about Accelerate.
   NumPy ships ``numpy.distutils`` only for Python <= 3.11 (neither NumPy 1.26 nor NumPy 2
   has it on 3.12+). The stub's ``get_info`` returns ``{}`` ("no BLAS information"),
   which is what chainer's check already handles, so the macOS warning is skipped.
2. ``numpy.sctypes``. NumPy 2.0 removed it (NEP 52, "Python API cleanup");
   ``chainer/functions/array/as_strided.py`` reads ``np.sctypes['int']`` at import and
   ``np.sctypes['float']`` in ``as_strided``'s backward. It is rebuilt exactly as NumPy 1.26
   built it (``numpy/core/numerictypes.py``, ``_set_array_types``).

CuPy 14 needs no shim here: chainer 7.8.1 imports ``cupy._util`` before the removed
``cupy.util``, never ``cupy.core``, and treats CuPy 14's removal of cuDNN as "cuDNN
disabled" (see docs/gpu.md).

``APPLIED`` lists the shims this process needed.
"""
import importlib.util
import sys
import types

import numpy

APPLIED = []


def numpy1_sctypes():
    """``numpy.sctypes`` as NumPy 1.26 defined it, from the scalar types this NumPy has (its
    extra step for an ``intp`` of no listed size never applies: ``intp`` is int32 or int64)."""
    sctypes = {'int': [], 'uint': [], 'float': [], 'complex': [],
               'others': [bool, object, bytes, str, numpy.void]}

    def add(kind, bits):
        t = getattr(numpy, '%s%d' % (kind, bits), None)
        if t is not None:
            sctypes[kind].append(t)

    for nbytes in (1, 2, 4, 8, 16, 32, 64):
        add('int', 8 * nbytes)
        add('uint', 8 * nbytes)
    for nbytes in (2, 4, 8, 10, 12, 16, 32, 64):
        add('float', 8 * nbytes)
        add('complex', 16 * nbytes)
    return sctypes


def _system_info_get_info(name, notfound_action=0):
    """Stub of ``numpy.distutils.system_info.get_info``: no information for any library."""
    return {}


def _stub_numpy_distutils():
    if 'numpy.distutils' in sys.modules or importlib.util.find_spec('numpy.distutils'):
        return  # present (Python <= 3.11): chainer imports the real one
    pkg = types.ModuleType('numpy.distutils', 'Stub by chainer_compat: numpy.distutils is '
                                              'gone on Python >= 3.12.')
    pkg.__path__ = []
    mod = types.ModuleType('numpy.distutils.system_info',
                           'Stub by chainer_compat: get_info() returns {}.')
    mod.get_info = _system_info_get_info
    pkg.system_info = mod
    sys.modules['numpy.distutils'] = pkg
    sys.modules['numpy.distutils.system_info'] = mod
    numpy.distutils = pkg
    APPLIED.append('numpy.distutils.system_info')


def _restore_sctypes():
    if hasattr(numpy, 'sctypes'):
        return
    numpy.sctypes = numpy1_sctypes()
    APPLIED.append('numpy.sctypes')


_stub_numpy_distutils()
_restore_sctypes()
