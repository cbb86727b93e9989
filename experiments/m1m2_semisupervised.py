"""Semi-supervised MNIST with M1+M2 (Kingma et al. 2014, Sec. 3.2.3, Table 1): M1 is trained
on all training images (the training stage 'm1'), then M2 on M1's latent code (the stage
'main'); reports the test error of q(y|x) and the analogy figure.  The same experiment as
``m2_semisupervised.py --model m1m2`` (see there).
"""
import importlib.util
import os

import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
from expkit import run_main

_spec = importlib.util.spec_from_file_location(
    'm2_semisupervised', os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                      'm2_semisupervised.py'))
m2_semisupervised = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(m2_semisupervised)


def main(argv=None):
    return m2_semisupervised.main(argv, script=__file__, description=__doc__, model='m1m2')


if __name__ == '__main__':
    run_main(main)
