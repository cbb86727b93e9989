"""A plain ``import chainer`` that works in this project's environment, lazily.

``chainer_compat.pth``, which ``pip install`` puts into site-packages (setup.py; setuptools
installs its own distutils shim the same way), calls :func:`install` at interpreter start.
That only puts a finder in front of ``sys.meta_path``: nothing is imported, and every other
import passes it by. When ``chainer`` is first imported the finder removes itself and, if a
gap that :mod:`chainer_compat` fills is open (``numpy.distutils`` absent, as on Python >=
3.12; ``numpy.sctypes`` absent, as with NumPy 2), imports chainer_compat before chainer.
Where nothing is missing nothing changes: chainer_compat is not imported.
"""
import importlib.util
import sys


class BeforeChainer:
    """The meta path finder: finds nothing, acts once, on the first import of chainer."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == 'chainer':
            uninstall()
            if 'chainer_compat' not in sys.modules and gap_open():
                import chainer_compat  # noqa: F401
        return None


def gap_open():
    """True when chainer 7.8.1's own import would fail without chainer_compat."""
    import numpy     # chainer imports it next anyway
    return (importlib.util.find_spec('numpy.distutils') is None or
            not hasattr(numpy, 'sctypes'))


def install():
    if BeforeChainer not in sys.meta_path and 'chainer' not in sys.modules:
        sys.meta_path.insert(0, BeforeChainer)


def uninstall():
    while BeforeChainer in sys.meta_path:
        sys.meta_path.remove(BeforeChainer)
