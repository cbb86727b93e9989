"""Fill the gaps between Chainer 7.8.1 (2020, the last release) and today's Python, NumPy and CPUs.

Import this module before ``chainer`` (and before ``numpy``, for shim 3): every package of this
project and every script does. Shims 1 and 2 fill a documented gap only where it exists, so on
Python <= 3.11 with NumPy 1 they change nothing; shim 3 only picks OpenBLAS's kernels (speed,
not results). Nothing here catches an
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

3. OpenBLAS's CPU detection. NumPy's wheels bundle OpenBLAS (0.3.23 in NumPy 1.26), which picks
   its GEMM kernels from the CPU model when it is loaded; on a CPU newer than itself (e.g. an
   Emerald Rapids Xeon, family 6 model 207) it falls back to its generic "Prescott" kernels,
   which run float32 GEMMs 3-4x slower than its AVX-512 ones (docs/performance.md). If
   ``OPENBLAS_CORETYPE`` is unset and NumPy not yet imported, it is set from the CPU flags of
   /proc/cpuinfo: ``SkylakeX`` with AVX-512 (F, BW, DQ, VL), ``Haswell`` with AVX2 and FMA; on
   CPUs OpenBLAS does recognise these are the GEMM kernels it would pick (its Cooperlake and
   Sapphire Rapids targets reuse SkylakeX's SGEMM/DGEMM), so results do not change, only speed.
   Set ``OPENBLAS_CORETYPE`` yourself to override it.

4. CuPy's warning that NCCL does not load. ``import chainer`` imports
   ``chainer/training/updaters/multiprocess_parallel_updater.py``, which imports
   ``cupy.cuda.nccl``; where CuPy is installed without NCCL (``cupy-cuda13x`` does not
   require it), CuPy 14 then prints a ten-line ``UserWarning`` at the start of every run.
   Only ``MultiprocessParallelUpdater`` uses NCCL that way, and this project does not; the
   ChainerMN ``pure_nccl`` communicator fails with its own error without it. The warning is
   filtered (this message from ``cupy._environment`` only).

CuPy 14 needs no other shim here: chainer 7.8.1 imports ``cupy._util`` before the removed
``cupy.util``, never ``cupy.core``, and treats CuPy 14's removal of cuDNN as "cuDNN
disabled" (see docs/gpu.md).

``APPLIED`` lists the shims this process needed.
"""
import importlib.util
import os
import sys
import types
import warnings

APPLIED = []


def openblas_coretype(cpuinfo='/proc/cpuinfo'):
    """The OpenBLAS core type for this CPU's flags (``SkylakeX``, ``Haswell``) or None."""
    try:
        with open(cpuinfo) as f:
            flags = next((line.split(':', 1)[1].split() for line in f
                          if line.startswith('flags')), [])
    except OSError:
        return None
    if {'avx512f', 'avx512bw', 'avx512dq', 'avx512vl'} <= set(flags):
        return 'SkylakeX'
    if {'avx2', 'fma'} <= set(flags):
        return 'Haswell'
    return None


def _choose_openblas_kernels():
    if 'numpy' in sys.modules or os.environ.get('OPENBLAS_CORETYPE'):
        return      # too late (OpenBLAS is loaded with NumPy) or chosen by the user
    coretype = openblas_coretype()
    if coretype:
        os.environ['OPENBLAS_CORETYPE'] = coretype
        APPLIED.append('OPENBLAS_CORETYPE=' + coretype)


_choose_openblas_kernels()

import numpy  # noqa: E402  (after the OpenBLAS kernel choice)


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
warnings.filterwarnings('ignore', message=r'\s*nccl library could not be loaded',
                        category=UserWarning, module=r'cupy\._environment')
