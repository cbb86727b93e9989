"""Objectives of the VAE family, one function per equation.

All bounds are returned *per example* (shape (batch,)), in nats, so callers can average,
weight or report them.  Sources:

* K&W 2013 = Kingma & Welling, "Auto-Encoding Variational Bayes" (Eq. 10, App. B).
* Kingma 2014 = Kingma, Rezende, Mohamed & Welling, "Semi-supervised Learning with Deep
  Generative Models" (Eq. 6, 7, 9) and its code dpkingma/nips14-ssl (``learn_yz_x_ss.py``).
* Doersch 2016 = "Tutorial on Variational Autoencoders", Eq. 10 (CVAE).
"""
import math

import chainer.functions as F
from chainer.backend import get_array_module

from datasets.priors import MIXTURE_RADIAL_STD, MIXTURE_RADIUS, MIXTURE_TANGENTIAL_STD
from vae import functions as vae_functions

LOG_2PI = math.log(2 * math.pi)


def gaussian_kl(mu, ln_var):
    """KL(N(mu, diag(exp ln_var)) || N(0, I)), summed over the last axis.

    Closed form (K&W 2013 App. B): -KL = 1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2).
    """
    return vae_functions.gaussian_kl(mu, ln_var)      # one fused node (vae.functions)


def bernoulli_log_likelihood(x, logits):
    """log p(x|z) = sum_i x_i log p_i + (1 - x_i) log(1 - p_i), p = sigmoid(logits).

    Same value as ``-F.sum(F.bernoulli_nll(x, logits, reduce='no'), axis=-1)``, fused into
    one node (``vae.functions``); x may have fewer leading axes than the logits.
    """
    return vae_functions.bernoulli_log_likelihood(x, logits)


def gaussian_log_likelihood(x, mean, ln_var):
    """log N(x; mean, diag(exp ln_var)), summed over the last axis (K&W 2013 App. C.2)."""
    return -F.sum(F.gaussian_nll(x, mean, ln_var, reduce='no'), axis=-1)


def vae_bound(vae, x):
    """M1 ELBO terms with one reparameterised sample (K&W 2013 Eq. 10).

    Returns ``(log_px, kl)``; the ELBO is ``log_px - kl``.
    """
    mu, ln_var = vae.encode(x)
    z = F.gaussian(mu, ln_var)          # z = mu + sigma * eps, eps ~ N(0, I)  (K&W Eq. 10)
    log_px = bernoulli_log_likelihood(x, vae.decode(z))  # log p(x|z)
    return log_px, gaussian_kl(mu, ln_var)               # ELBO = log p(x|z) - KL(q||p)


def gaussian_mixture_log_prior(z, n_classes=10, radius=MIXTURE_RADIUS,
                               radial_std=MIXTURE_RADIAL_STD,
                               tangential_std=MIXTURE_TANGENTIAL_STD):
    """log p(z) of the AAE paper's mixture of ``n_classes`` 2-D Gaussians (Fig. 2c,
    :func:`datasets.priors.sample_gaussian_mixture`: component k centred at angle 2πk/K on a
    circle of ``radius``, std ``radial_std`` along the radius and ``tangential_std`` across
    it; for dim > 2 one component shared by every pair of dimensions), differentiable in z:

        log p(z) = logsumexp_k [ sum_pairs log N(pair; mu_k, R_k diag(s_r², s_t²) R_k^T) ] - log K
    """
    xp = get_array_module(z)
    n, dim = z.shape
    angle = 2.0 * math.pi * xp.arange(n_classes, dtype=z.dtype) / n_classes
    cos, sin = xp.cos(angle), xp.sin(angle)                         # (K,)
    pairs = F.reshape(z, (n, 1, dim // 2, 2))
    dx = F.broadcast_to(pairs[..., 0], (n, n_classes, dim // 2)) - (radius * cos)[None, :, None]
    dy = F.broadcast_to(pairs[..., 1], (n, n_classes, dim // 2)) - (radius * sin)[None, :, None]
    along = dx * cos[None, :, None] + dy * sin[None, :, None]      # rotate back by -2πk/K
    across = -dx * sin[None, :, None] + dy * cos[None, :, None]
    log_norm = -LOG_2PI - math.log(radial_std) - math.log(tangential_std)
    log_pk = F.sum(-0.5 * (along / radial_std) ** 2 - 0.5 * (across / tangential_std) ** 2,
                   axis=2) + (dim // 2) * log_norm                    # (n, K)
    return F.logsumexp(log_pk, axis=1) - math.log(n_classes)


def vae_bound_mc(vae, x, log_prior):
    """The ELBO of a VAE whose prior has no closed-form KL (AAE paper, Sec. 3, the VAE of
    Fig. 2d: "the KL divergence ... approximated by Monte Carlo sampling"), with one
    reparameterised sample z ~ q(z|x) (K&W 2013 Eq. 7, the generic estimator):

        ELBO ~= log p(x|z) - [log q(z|x) - log p(z)]

    ``log_prior``: z -> log p(z) per example (e.g. :func:`gaussian_mixture_log_prior`).
    Returns ``(log_px, kl_estimate)`` like :func:`vae_bound`.
    """
    mu, ln_var = vae.encode(x)
    z = F.gaussian(mu, ln_var)
    log_px = bernoulli_log_likelihood(x, vae.decode(z))
    log_qz = gaussian_log_likelihood(z, mu, ln_var)
    return log_px, log_qz - log_prior(z)


def autoencoder_log_likelihood(vae, x):
    """Plain-autoencoder pretraining objective: log p(x | z = mu(x)) (no noise, no KL)."""
    mu, _ = vae.encode(x)
    return bernoulli_log_likelihood(x, vae.decode(mu))


def _m2_log_px(model, x, z, y):
    """log p(x|y,z) for M2's Bernoulli or Gaussian likelihood."""
    if model.likelihood == 'bernoulli':
        return bernoulli_log_likelihood(x, model.decoder(z, y))
    mean, ln_var = model.decoder(z, y)
    return gaussian_log_likelihood(x, mean, ln_var)


def m2_labelled_bound(model, x, y):
    """-L(x, y) of Kingma 2014 Eq. 6, negated to a bound:

    log p(x, y) >= E_q(z|x,y)[log p(x|y,z) + log p(y) + log p(z) - log q(z|x,y)],
    with p(y) uniform (nips14-ssl ``uniform_y=True``) and the KL in closed form.
    """
    mu, ln_var = model.encoder(x, y)
    z = F.gaussian(mu, ln_var)
    log_py = -math.log(model.n_classes)
    return _m2_log_px(model, x, z, y) + log_py - gaussian_kl(mu, ln_var)


def m2_bound_all_classes(model, x):
    """L(x, y) for every class y at once: shape (batch, n_classes).

    One batched pass over n_classes * batch rows, no Python loop over y.  The first layer's
    W_x x + b of q(z|x,y) is computed once and shared by all y.
    """
    xp = get_array_module(x)
    n_classes, batch = model.n_classes, len(x)
    a = model.encoder.hidden.first_preactivation(x)                   # (B, H)
    a = F.broadcast_to(a, (n_classes,) + a.shape)                      # (K, B, H)
    y = xp.repeat(xp.arange(n_classes, dtype=xp.int32), batch).reshape(n_classes, batch)
    mu, ln_var = model.encoder.from_hidden(model.encoder.hidden.rest(a, y))   # (K, B, Z)
    z = F.gaussian(mu, ln_var)
    flat_z = F.reshape(z, (n_classes * batch, -1))
    flat_y = y.reshape(-1)
    x_all = xp.broadcast_to(x, (n_classes,) + x.shape)
    if model.likelihood == 'bernoulli':
        logits = F.reshape(model.decoder(flat_z, flat_y), x_all.shape)
        log_px = bernoulli_log_likelihood(x, logits)                   # (K, B)
    else:
        mean, ln_var_x = model.decoder(flat_z, flat_y)
        log_px = gaussian_log_likelihood(x_all, F.reshape(mean, x_all.shape),
                                         F.reshape(ln_var_x, x_all.shape))
    bound = log_px - math.log(n_classes) - gaussian_kl(mu, ln_var)    # L(x, y)  Eq. 6
    return F.transpose(bound)


def m2_unlabelled_bound(model, x, log_qy=None):
    """-U(x) of Kingma 2014 Eq. 7 with y summed out exactly over the classes:

    log p(x) >= sum_y q(y|x) L(x, y) + H(q(y|x)).
    """
    if log_qy is None:
        log_qy = F.log_softmax(model.classify(x))
    qy = F.exp(log_qy)
    bound_y = m2_bound_all_classes(model, x)                           # L(x, y), (B, K)
    return F.sum(qy * (bound_y - log_qy), axis=1)         # sum_y q(y|x)(L(x,y) - log q(y|x))


def m2_objective(model, x_l, y_l, x_u, n_labelled, n_unlabelled, alpha=0.1):
    """Minibatch estimate of Kingma 2014 Eq. 9, per datapoint, as nips14-ssl computes it.

    J^alpha = sum_{labelled} [L(x,y) + beta log q(y|x)] + sum_{unlabelled} U(x), divided by
    N = n_labelled + n_unlabelled, with beta = alpha * N / n_labelled (``learn_yz_x_ss.py``:
    ``beta = alpha * (1. * n_tot / n_labeled)``, alpha = 0.1; the paper: "alpha = 0.1 N").
    Each minibatch sum is scaled up to its whole set.  Returns the loss to minimise and a
    dict of per-example means to report.
    """
    n_total = n_labelled + n_unlabelled
    beta = alpha * n_total / n_labelled
    bound_l = m2_labelled_bound(model, x_l, y_l)                       # L(x, y)  Eq. 6
    logits_l = model.classify(x_l)
    log_qy_l = -F.softmax_cross_entropy(logits_l, y_l, reduce='no')    # log q(y|x)
    bound_u = m2_unlabelled_bound(model, x_u)                          # U(x)  Eq. 7
    labelled_sum = F.sum(bound_l + beta * log_qy_l) * (n_labelled / len(x_l))
    unlabelled_sum = F.sum(bound_u) * (n_unlabelled / len(x_u))
    loss = -(labelled_sum + unlabelled_sum) / n_total                  # -J^alpha / N  Eq. 9
    stats = {'bound_l': F.mean(bound_l), 'bound_u': F.mean(bound_u),
             'loss_cls': -F.mean(log_qy_l),
             'accuracy_l': F.accuracy(logits_l, y_l)}
    return loss, stats


def completion_bound(cvae, condition, target):
    """Doersch 2016 Eq. 10 CVAE bound: log p(target|c) >= E_q[log p(target|z,c)] - KL.

    The target keeps grey values (Doersch's SigmoidCrossEntropyLoss on the raw pixels).
    Returns ``(log_p_target, kl)`` per example.
    """
    input2, input4 = cvae.condition(condition)
    mu, ln_var = cvae.encode(target, input2)
    z = F.gaussian(mu, ln_var)
    logits = cvae.decoder(input4, z)
    return bernoulli_log_likelihood(target, logits), gaussian_kl(mu, ln_var)


def regressor_log_likelihood(regressor, condition, target):
    """The regressor's objective: sigmoid cross-entropy of its single prediction."""
    return bernoulli_log_likelihood(target, regressor.complete(condition))
