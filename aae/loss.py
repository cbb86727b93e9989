"""The adversarial autoencoder's objective (Makhzani et al., arXiv:1511.05644, Sec. 2).

Two phases per minibatch:

* reconstruction phase: minimise the Euclidean reconstruction cost ||x - p(x|z)||^2
  (Appendix: "the autoencoder is trained with a Euclidean cost function");
* regularization phase: the GAN game of Goodfellow et al. (2014), Eq. 1 of the AAE paper,
  ``min_G max_D E_{z~p(z)}[log D(z)] + E_{x~p_d}[log(1 - D(G(x)))]``
  played between the discriminator D and the encoder G = q(z|x). As in every GAN code base
  the generator maximises log D(G(x)) (the "non-saturating" form of Goodfellow et al. 2014,
  Sec. 3) instead of minimising log(1 - D(G(x))).

The discriminator emits either two logits (softmax over {fake, real}, the seed author's
choice; column ``REAL`` = 1 is "real") or one logit (P(real) = sigmoid). The two are the same
model: softmax([a_fake, a_real])[REAL] = sigmoid(a_real - a_fake) (tested in closed form).
"""
import chainer.functions as F
from chainer.backend import get_array_module

FAKE, REAL = 0, 1


def _is_softmax(logits):
    if logits.ndim != 2 or logits.shape[1] not in (1, 2):
        raise ValueError('discriminator logits must have shape (N, 2) or (N, 1), got %s'
                         % (logits.shape,))
    return logits.shape[1] == 2


def _cross_entropy(logits, target):
    """-log P(target | logits), averaged over the batch; target is REAL or FAKE."""
    xp = get_array_module(logits)
    n = logits.shape[0]
    if _is_softmax(logits):
        t = xp.full((n,), target, dtype='i')
        return F.softmax_cross_entropy(logits, t)      # two-unit softmax (seed)
    t = xp.full((n, 1), target, dtype='i')
    return F.sigmoid_cross_entropy(logits, t)          # single sigmoid unit


def p_real(logits):
    """D's probability that each input is a sample of the prior."""
    if _is_softmax(logits):
        return F.softmax(logits)[:, REAL]
    return F.sigmoid(logits)[:, 0]


def reconstruction_loss(x_rec, x):
    """Euclidean cost sum_i (x_i - x_rec_i)^2 per example, averaged over the batch."""
    return F.sum(F.squared_difference(x_rec, x)) / x.shape[0]


def discriminator_loss(d_real, d_fake):
    """-(log D(z_prior) + log(1 - D(z_code))): Eq. 1, maximised by D."""
    return _cross_entropy(d_real, REAL) + _cross_entropy(d_fake, FAKE)


def generator_loss(d_fake):
    """-log D(G(x)): the encoder tries to have its codes taken for prior samples."""
    return _cross_entropy(d_fake, REAL)


def supervised_loss(y_logits, labels):
    """Semi-supervised classification phase (Sec. 5): cross-entropy of q(y|x) on labels."""
    return F.softmax_cross_entropy(y_logits, labels)
