"""A CPU stand-in for a GPU, for tests: it is **not** a GPU test. It catches one class of
GPU bug on a machine without one: the project's own code reading a device array on the host,
or copying a host array to the device, inside a training step.

On a GPU each of these is a host round trip that waits for every queued kernel (a
synchronisation) or copies memory across the bus, once per update:

* ``float(a)``, ``int(a)``, ``bool(a)``, ``a.item()``, ``a.tolist()`` of a device array, and
  its explicit copy to the host (``chainer.backend.CpuDevice().send``, ``to_cpu``) (D2H);
* ``xp.asarray(host_array)`` / ``xp.array(host_array)`` (H2D: noise or constants made on the
  host and copied over).

Here "device arrays" are NumPy arrays of the subclass :class:`DeviceArray` and the device's
array module is :data:`xp`, a NumPy wrapper whose every result is a :class:`DeviceArray`.
:class:`StandInDevice` is a chainer ``CpuDevice`` whose ``xp`` is that wrapper, so a link sent
there computes with NumPy (Chainer's CPU kernels) on :class:`DeviceArray` parameters.
:func:`installed` also makes ``get_array_module`` in the project's modules answer the
stand-in ``xp`` for such arrays (as chainer's answers ``cupy`` for CuPy arrays), and makes
the outputs of every function applied to device arrays, and the arrays and gradients of
parameters on the device, :class:`DeviceArray`s (Chainer's CPU kernels return plain NumPy
arrays, which would otherwise escape the check).

Each event is attributed to the frame that caused it: in the project's code (``'project'``)
or in Chainer's / NumPy's (``'library'``, counted, never raised). In strict mode
(``recorder.strict = True``) a project event raises :class:`HostSync` at the line that
caused it.

What it cannot see: a host conversion through ``numpy.asarray(device_array)`` (a subclass is
an ``ndarray`` already; CuPy would raise there), a host array mixed into device arithmetic
(CuPy raises ``TypeError``; Chainer's CPU kernels make plain temporaries, so here it cannot be
told from them), and anything that Chainer's CPU kernels do differently from its CUDA ones.
"""
import collections
import contextlib
import os
import sys
import types

import numpy as np

import chainer
from chainer.backends import _cpu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_THIS = os.path.abspath(__file__)
_CHAINER = os.path.dirname(chainer.__file__)
_PROJECT_DIRS = tuple(os.path.join(ROOT, d) + os.sep for d in (
    'aae', 'vae', 'gan', 'glo', 'datasets', 'evaluation', 'expkit')) + (
    os.path.join(ROOT, 'fused_updates.py'),)


class HostSync(AssertionError):
    """The project's code made a host round trip with a device array (strict mode)."""


class Recorder:
    """Counts host round trips by ``(where, kind)``; ``events`` keeps the project's."""

    def __init__(self):
        self.strict = False
        self.active = True           # count events (tests switch it off between updates)
        self.counts = collections.Counter()
        self.events = []

    def reset(self):
        self.counts.clear()
        del self.events[:]

    def project(self):
        """The number of the project's own round trips since the last reset."""
        return sum(n for (where, _), n in self.counts.items() if where == 'project')

    def hit(self, kind, through_chainer=False):
        """Count one event at the frame that caused it (``through_chainer``: the first frame
        outside chainer, for copies made through chainer's API)."""
        if not self.active:
            return
        frame = sys._getframe(1)
        while frame is not None and (os.path.abspath(frame.f_code.co_filename) == _THIS or
                                     through_chainer and frame.f_code.co_filename.startswith(
                                         _CHAINER)):
            frame = frame.f_back
        filename = os.path.abspath(frame.f_code.co_filename) if frame else '?'
        where = 'project' if filename.startswith(_PROJECT_DIRS) else 'library'
        self.counts[where, kind] += 1
        if where == 'project':
            site = '%s:%d' % (os.path.relpath(filename, ROOT), frame.f_lineno)
            self.events.append((kind, site))
            if self.strict:
                raise HostSync('%s at %s: a host round trip in a training step'
                               % (kind, site))


recorder = Recorder()


def _plain(a):
    return a.view(np.ndarray) if isinstance(a, DeviceArray) else a


def _wrap(result):
    if isinstance(result, DeviceArray):
        return result
    if isinstance(result, np.ndarray):
        return result.view(DeviceArray)
    if isinstance(result, np.generic):           # CuPy gives 0-d arrays, not scalars
        return np.asarray(result).view(DeviceArray)
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    if isinstance(result, list):
        return [_wrap(r) for r in result]
    return result


class DeviceArray(np.ndarray):
    """A NumPy array that stands for an array in GPU memory (see the module docstring)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get('out')
        if out is not None:
            kwargs['out'] = tuple(_plain(o) for o in out)
        result = getattr(ufunc, method)(*[_plain(i) for i in inputs], **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __getitem__(self, key):
        return _wrap(np.ndarray.__getitem__(self, key))

    def dot(self, other, out=None):
        return _wrap(np.dot(_plain(self), _plain(other)))

    def _host(kind):
        def read(self, *args):
            recorder.hit('device-to-host read (%s)' % kind)
            return getattr(self.view(np.ndarray), kind)(*args)
        return read

    __float__ = _host('__float__')
    __int__ = _host('__int__')
    __index__ = _host('__index__')
    __bool__ = _host('__bool__')
    item = _host('item')
    tolist = _host('tolist')
    del _host


def to_host(a):
    """A copy on the host, not counted (for the stand-in's own use)."""
    return np.array(_plain(a))


def _h2d(a):
    """``a`` on the device; a host array, list or number is a host-to-device copy."""
    if isinstance(a, DeviceArray):
        return a
    if isinstance(a, (np.ndarray, list, tuple, float, int, np.generic)):
        recorder.hit('host-to-device copy')
    return a


class _ArrayModule(types.ModuleType):
    """NumPy (or ``numpy.random``) whose functions return :class:`DeviceArray` results."""

    def __init__(self, name, base):
        super().__init__(name)
        self._base = base

    def __getattr__(self, name):
        attr = getattr(self._base, name)
        if callable(attr) and not isinstance(attr, type):
            def call(*args, **kwargs):
                return _wrap(attr(*[_plain(a) for a in args], **kwargs))
            call.__name__ = name
            return call
        return attr


class RandomState:
    """``cupy.random.RandomState``: draws :class:`DeviceArray` samples."""

    def __init__(self, state=None):
        self._rs = state if state is not None else np.random.mtrand._rand

    def __getattr__(self, name):
        method = getattr(self._rs, name)

        def draw(*args, **kwargs):
            for key in ('p', 'a'):
                if key in kwargs:
                    kwargs[key] = _plain(_h2d(kwargs[key]))
            return _wrap(method(*[_plain(a) for a in args], **kwargs))
        return draw


xp = _ArrayModule('standin_xp', np)
xp.ndarray = DeviceArray
xp.random = _ArrayModule('standin_xp.random', np.random)
xp.random.get_random_state = lambda: RandomState()
xp.random.RandomState = lambda seed=None: RandomState(np.random.RandomState(seed))
xp.asarray = lambda a, dtype=None: _wrap(np.asarray(_plain(_h2d(a)), dtype=dtype))
xp.array = lambda a, dtype=None, copy=True: _wrap(np.array(_plain(_h2d(a)), dtype=dtype))


class StandInDevice(_cpu.CpuDevice):
    """A chainer device whose arrays are :class:`DeviceArray` and whose ``xp`` is :data:`xp`.
    Sending a host array here (a minibatch, once per update) is the expected copy: counted
    under ``transfers``, not as a round trip."""

    name = '@standin'
    xp = xp
    transfers = 0

    def send_array(self, array):
        if isinstance(array, DeviceArray) or array is None:
            return array
        StandInDevice.transfers += 1
        return np.array(_cpu._array_to_cpu(array)).view(DeviceArray)

    def is_array_supported(self, array):
        return isinstance(array, DeviceArray)

    def __repr__(self):
        return '<StandInDevice (a CPU stand-in for a GPU)>'


def get_array_module(*args):
    """chainer's ``get_array_module`` that answers :data:`xp` for stand-in arrays."""
    for a in args:
        a = a.array if isinstance(a, chainer.Variable) else a
        if isinstance(a, DeviceArray):
            return xp
    return chainer.backend.get_array_module(*args)


def _backend_proxy(module):
    proxy = types.ModuleType(module.__name__)
    proxy.__dict__.update(module.__dict__)
    proxy.get_array_module = get_array_module
    return proxy


def _view(a):
    return a.view(DeviceArray) if type(a) is np.ndarray else a


def _project_modules():
    import importlib
    import pkgutil
    for package in ('aae', 'vae', 'gan', 'glo', 'datasets', 'evaluation', 'expkit'):
        for info in pkgutil.iter_modules([os.path.join(ROOT, package)]):
            importlib.import_module('%s.%s' % (package, info.name))
    for module in list(sys.modules.values()):
        filename = os.path.abspath(getattr(module, '__file__', None) or '')
        if filename.startswith(_PROJECT_DIRS):
            yield module


@contextlib.contextmanager
def installed():
    """Make the project's modules see :data:`xp` as the array module of stand-in arrays
    (chainer's own modules are left alone: they keep running their CPU kernels)."""
    from chainer import backend as chainer_backend
    from chainer.backends import cuda
    import datasets._random as random_mod
    patched = []
    proxies = {chainer_backend: _backend_proxy(chainer_backend), cuda: _backend_proxy(cuda)}
    for module in _project_modules():
        for attr, value in list(vars(module).items()):
            if value is chainer_backend.get_array_module or value is cuda.get_array_module:
                patched.append((module, attr, value))
                setattr(module, attr, get_array_module)
            elif isinstance(value, types.ModuleType) and value in proxies:
                patched.append((module, attr, value))
                setattr(module, attr, proxies[value])
    array_to_cpu = _cpu._array_to_cpu

    def to_cpu(array):                   # CuPy's ``.get()``: an explicit device-to-host copy
        if isinstance(array, DeviceArray):
            recorder.hit('device-to-host copy', through_chainer=True)
            return to_host(array)
        return array_to_cpu(array)
    patched.append((_cpu, '_array_to_cpu', array_to_cpu))
    _cpu._array_to_cpu = to_cpu
    rule_update = chainer.optimizer.UpdateRule.update_core

    def update_core(rule, param):        # chainer picks its kernels by ``device.xp``
        if isinstance(param.device, StandInDevice):
            return rule.update_core_cpu(param)
        return rule_update(rule, param)
    chainer.optimizer.UpdateRule.update_core = update_core
    for prop in ('array', 'data', 'grad'):        # of parameters on the stand-in device
        orig = getattr(chainer.Variable, prop)
        patched.append((chainer.Variable, prop, orig))
        setattr(chainer.Variable, prop, property(
            lambda v, _get=orig.fget: _view(_get(v)) if isinstance(
                getattr(v, '_device', None), StandInDevice) else _get(v), orig.fset))
    apply = chainer.FunctionNode.apply

    def apply_on_device(node, inputs):   # device inputs give device outputs
        outputs = apply(node, inputs)
        if any(isinstance(x._data[0] if isinstance(x, chainer.Variable) else x, DeviceArray)
               for x in inputs):
            for y in outputs:
                if type(y._data[0]) is np.ndarray:
                    y.array = y._data[0].view(DeviceArray)
        return outputs
    patched.append((chainer.FunctionNode, 'apply', apply))
    chainer.FunctionNode.apply = apply_on_device
    is_cupy, array_module = random_mod._is_cupy, random_mod.array_module
    replace = {is_cupy: lambda rng: isinstance(rng, RandomState) or is_cupy(rng),
               array_module: lambda rng: xp if isinstance(rng, RandomState)
               else array_module(rng)}
    for module in _project_modules():
        for attr, value in list(vars(module).items()):
            if callable(value) and value in replace:
                patched.append((module, attr, value))
                setattr(module, attr, replace[value])
    recorder.strict, recorder.active = False, True
    recorder.reset()
    try:
        yield recorder
    finally:
        chainer.optimizer.UpdateRule.update_core = rule_update
        for module, attr, value in reversed(patched):
            setattr(module, attr, value)
        recorder.strict, recorder.active = False, True
        recorder.reset()
