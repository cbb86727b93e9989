"""Semi-supervised MNIST with the generative model M2, or M1+M2 (``--model m1m2``): test
error of the classifier q(y|x) with 100/600/1000/3000 labels, and the analogy figure (fix z
from a test digit, vary y; Kingma, Rezende, Mohamed & Welling 2014, Table 1 and Fig. 1).

M2 (Sec. 2.2, Eq. 9, and dpkingma/nips14-ssl ``learn_yz_x_ss.py``): q(z|x,y), p(x|y,z) and
q(y|x), one softplus hidden layer (500 units; 300 for M1+M2 with 100 labels, as
``run_2layer_ssl.py``), 50 latent dims, p(y) uniform.  Labelled examples maximise
L(x,y) + beta log q(y|x) with beta = alpha N / N_l and alpha = 0.1; unlabelled examples
maximise U(x) with y summed out exactly over the 10 classes.  Weights start at
N(0, 1e-3^2) (``init_w(1e-3)``), a N(0, 1) prior on the weights (weight decay 1/N), labels
balanced per class, every other training image unlabelled.  Each step takes one unlabelled
and one labelled minibatch.  As nips14-ssl, the last 10,000 training images are the
validation set (``--validation``); the model with the lowest validation error is kept
(``model_m2_best.npz``) and its test error is reported beside the last model's.

``--recipe`` (vae/semisup.py ``RECIPES``; explicit options win):

* ``nips14`` (default of m1m2_semisupervised.py): nips14-ssl's own settings -- M1 as
  ``gpulearn_z_x.py`` (minibatch 1000, Adam 3e-4, a N(0, 1) prior on every parameter;
  1000 epochs, where the released M1 is its 10,000-epoch "longrun"); M2 as
  ``learn_yz_x_ss.py``: both sets cut into 100 minibatches with 100 labels (else 200), i.e.
  499 unlabelled + 1 labelled per step, 3000 passes (300,000 updates), and ``adam.py``'s Adam
  without bias correction or epsilon (``vae.optim.NIPS14Adam``).
* ``ours`` (default here): 100 unlabelled + 100 labelled per step, chainer's Adam(3e-4),
  30 epochs; for M1+M2 an M1 of 30 epochs at batch 100 and Adam 1e-3.  nips14-ssl has no
  pure-M2 script, so these settings are extrapolated from its M1+M2 script.

M1+M2 (Sec. 3.2.3; ``run_2layer_ssl.py``): M1 (784-500-500-50 softplus, Bernoulli) is
trained first on all training images; M2 is then trained on its latent code with a Gaussian
p(x|y,z), on the dimensions whose posterior mean varies (std > 0.1), the code resampled from
q(z|x) every minibatch; test digits are represented by their posterior mean.
``--m1-features mean`` feeds the posterior mean instead (a diagnostic, not the official
setting).  Before M2 starts, M1 is checked (``m1_feature_diagnostics`` in results.json: kept
dims, posterior sd, the signal-to-noise ratio of the sampled codes, test ELBO); with a
median ratio under 1.5 the run stops (``--m1-gate warn`` goes on).  ``test_error_updates.png``
plots the test error against updates with the paper's number and the points of a public
replication of the official recipe.
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
from expkit import run_main
from vae import semisup


def main(argv=None):
    return semisup.main(argv, script=__file__, description=__doc__)


if __name__ == '__main__':
    run_main(main)
