"""M1+M2 plumbing (Kingma 2014 Sec. 3.2.3; nips14-ssl ``learn_yz_x_ss.py``, 'mnist_2layer').

M2 is trained on the latent code of a trained M1.  The official code

1. encodes the data with M1's q(z|x) = N(mean, exp(logvar)),
2. keeps the latent dimensions whose posterior mean varies (std over 1,000 unlabelled
   examples > 0.1; the rest collapsed to the prior and carry no information),
3. feeds M2 a *fresh sample* x' ~ N(mean, exp(logvar)) at every minibatch, while the
   validation/test sets are represented by the posterior mean.
"""
import numpy as np
import chainer
from chainer.dataset import concat_examples

from evaluation.inference import predict


def encode_dataset(vae, x, batch_size=1000):
    """Posterior mean and log-variance of M1's q(z|x) for every row of x (NumPy)."""
    return predict(vae.encode, np.asarray(x, np.float32), device=vae.device,
                   batchsize=batch_size)


def active_dimensions(mean, threshold=0.1):
    """Boolean mask of latent dims whose posterior mean has std > threshold (nips14-ssl)."""
    return mean.std(axis=0) > threshold


class GaussianFeatureConverter(object):
    """Converter for datasets of (mean, ln_var[, y]): samples x' = mean + sigma * eps afresh."""

    def __call__(self, batch, device=None):
        arrays = concat_examples(batch, device)
        mean, ln_var = arrays[0], arrays[1]
        xp = chainer.backend.get_array_module(mean)
        x = mean + xp.exp(0.5 * ln_var) * xp.random.standard_normal(
            mean.shape).astype(mean.dtype)                       # x' ~ q(z|x) of M1
        return (x,) + tuple(arrays[2:]) if len(arrays) > 2 else x


def class_structure_gain(features, labels, n_classes=10):
    """How much class structure M2 can find in its input, in nats per example.

    Average log-likelihood of a class-conditional diagonal Gaussian mixture (true labels,
    p(y) uniform, y summed out) minus that of one diagonal Gaussian, both fitted by maximum
    likelihood to ``features``.  Using y in p(x|y,z) pays in U(x) only if it buys more than
    the entropy H(q(y|x)) <= log n_classes it costs (Kingma 2014 Eq. 7); a gain far below
    log 10 = 2.3 nats means the features carry too little class structure for M2 to use y.
    """
    def log_normal(x, mean, var):
        return -0.5 * (np.log(2 * np.pi * var) + (x - mean) ** 2 / var).sum(axis=-1)

    x = np.asarray(features, np.float64)
    single = log_normal(x, x.mean(0), x.var(0))
    per_class = np.stack([log_normal(x, x[labels == k].mean(0), x[labels == k].var(0))
                          for k in range(n_classes)], axis=1) - np.log(n_classes)
    peak = per_class.max(axis=1, keepdims=True)
    mixture = (peak + np.log(np.exp(per_class - peak).sum(1, keepdims=True)))[:, 0]
    return float(mixture.mean() - single.mean())
