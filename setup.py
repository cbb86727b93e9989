"""Chainer reproductions of classic deep generative models (AAE, VAE, GAN, GLO).

Chainer 7.8.1 is the last Chainer release; it ships as an sdist whose build imports
``pkg_resources`` (setuptools<74) and whose runtime needs numpy<2 and Python<3.12
(``numpy.distutils`` is gone on 3.12).  Install with the constraints file so the sdist
build sees the same pins::

    PIP_CONSTRAINT=constraints.txt PIP_BUILD_CONSTRAINT=constraints.txt pip install -e '.[test]'
"""
from setuptools import find_packages, setup

setup(
    name='chainer-generative-reproductions',
    version='0.1.0',
    description='Faithful Chainer reproductions of AAE, VAE (M1/M2/CVAE), GAN (MLP, '
                'Goodfellow, DCGAN, optimal D) and GLO',
    packages=find_packages(include=['aae', 'vae', 'gan', 'glo', 'datasets', 'evaluation',
                                    'expkit']),
    python_requires='>=3.8,<3.12',
    install_requires=[
        'chainer==7.8.1',
        'numpy<2',
        'setuptools<74',
        'matplotlib',
        'scikit-learn',
        'threadpoolctl',          # --threads (also a scikit-learn dependency)
        'scipy',
        'mlxtend',
        'pillow',
    ],
    extras_require={
        'test': ['pytest'],
        'gpu': ['cupy-cuda12x==13.6.0'],
    },
)
