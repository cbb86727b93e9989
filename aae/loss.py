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


REC_REDUCTIONS = ('sum', 'mean')


def reconstruction_loss(x_rec, x, reduce='sum'):
    """Euclidean cost of the reconstruction, averaged over the batch.

    ``reduce='sum'``: sum_i (x_i - x_rec_i)^2 per example (the paper's "Euclidean cost");
    ``reduce='mean'``: the same divided by the number of pixels, i.e. the seed code's
    ``F.mean_squared_error``.  The scale matters when one optimiser (the seed's Adam) serves
    the encoder in both the reconstruction and the generator phase.
    """
    sse = F.sum(F.squared_difference(x_rec, x)) / x.shape[0]
    if reduce == 'sum':
        return sse
    if reduce == 'mean':
        return sse / (x.size // x.shape[0])
    raise ValueError('reduce must be sum or mean, got %r' % (reduce,))


def discriminator_loss(d_real, d_fake):
    """-(log D(z_prior) + log(1 - D(z_code))): Eq. 1, maximised by D."""
    return _cross_entropy(d_real, REAL) + _cross_entropy(d_fake, FAKE)


def generator_loss(d_fake):
    """-log D(G(x)): the encoder tries to have its codes taken for prior samples."""
    return _cross_entropy(d_fake, REAL)


def cluster_head_loss(heads, threshold):
    """Sec. 7: sum over pairs i < j of max(0, eta - ||w_i - w_j||), ``heads`` (m, n).

    "if the Euclidean distance [of two cluster heads] is larger than a threshold eta, the
    cost function is zero, and if it is smaller than eta, the cost function linearly
    penalizes the distance" (the seed code minimises -sum min(d, eta), the same gradient).
    """
    m = heads.shape[0]
    i, j = [a for a in get_array_module(heads).triu_indices(m, 1)]
    diff = heads[i] - heads[j]
    dist = F.sqrt(F.sum(diff * diff, axis=1) + 1e-12)
    return F.sum(F.relu(threshold - dist))


def supervised_loss(y_logits, labels):
    """Semi-supervised classification phase (Sec. 5): cross-entropy of q(y|x) on labels."""
    return F.softmax_cross_entropy(y_logits, labels)
