"""Semi-supervised MNIST with M1+M2 (Kingma et al. 2014, Sec. 3.2.3, Table 1): M1 is trained
on all training images, then M2 on M1's latent code; reports the test error of q(y|x) and the
analogy figure.  The same as ``m2_semisupervised.py --model m1m2`` (see its --help)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import m2_semisupervised  # NOQA: E402
from expkit import run_main  # NOQA: E402


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    # '--model m1m2' goes into argv so results.json's command reproduces this run
    return m2_semisupervised.main(['--model', 'm1m2'] + argv,
                                  out_default='results/m1m2_semisupervised')


if __name__ == '__main__':
    run_main(main)
