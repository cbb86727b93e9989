"""GAN objectives on discriminator logits a(x), D(x) = sigmoid(a(x)).

Goodfellow et al. 2014, Eq. (1): the minimax game
    min_G max_D V(D, G) = E_{x~p_d}[log D(x)] + E_{z~p_z}[log(1 - D(G(z)))].
With log sigmoid(a) = -softplus(-a) and log(1 - sigmoid(a)) = -softplus(a):
    D minimises  E softplus(-a(x)) + E softplus(a(G(z)))   (= binary cross-entropy,
                                                            labels 1 for data, 0 for G)
    G (minimax)  minimises  E log(1 - D(G(z))) = -E softplus(a(G(z)))
    G (non-saturating, §3 "rather than training G to minimize log(1 - D(G(z))) we can
      train G to maximize log D(G(z))")  minimises  -E log D(G(z)) = E softplus(-a(G(z)))
d/da of the minimax loss is -sigmoid(a) = -D: it vanishes when D rejects the samples
(D(G(z)) -> 0, early training); the non-saturating one's is -(1 - D), which does not.
"""
import chainer.functions as F

GEN_LOSSES = ('nonsaturating', 'minimax')


def _mean(v):
    return F.sum(v) / v.size


def discriminator_loss(y_real, y_fake):
    """Binary cross-entropy of D: -E log D(x) - E log(1 - D(G(z))) (mean over each batch).

    This is -V(D, G) of Eq. (1); the seed's Keras ``binary_crossentropy`` on the
    concatenated batch equals half of it when both halves have the same size.
    """
    # -E_{p_d} log D(x)  =  E softplus(-a(x))
    loss_real = _mean(F.softplus(-y_real))
    # -E_{p_g} log(1 - D(x))  =  E softplus(a(x))
    loss_fake = _mean(F.softplus(y_fake))
    return loss_real + loss_fake


def generator_loss(y_fake, kind='nonsaturating'):
    """The generator's loss on the logits of its samples."""
    if kind == 'nonsaturating':
        # -E log D(G(z))
        return _mean(F.softplus(-y_fake))
    if kind == 'minimax':
        # E log(1 - D(G(z)))
        return -_mean(F.softplus(y_fake))
    raise ValueError('gen_loss must be one of {}, got {!r}'.format(GEN_LOSSES, kind))


def value_function(y_real, y_fake):
    """V(D, G) of Eq. (1), estimated on a batch: E log D(x) + E log(1 - D(G(z)))."""
    return -discriminator_loss(y_real, y_fake)
