"""The discriminator as a density-ratio estimator, checked numerically on 1-D Gaussians.

Goodfellow et al. 2014, Proposition 1: for a fixed G the optimal discriminator is
    D*(x) = p_d(x) / (p_d(x) + p_g(x)),
and Theorem 1: at D*, V(D*, G) = -log 4 + 2 JSD(p_d || p_g)  (= 2 JSD - 2 ln 2).

Here p_g is *fixed* (a known Gaussian, no generator) and a free-form MLP D is trained alone
on fresh samples of both densities by minimising the BCE -V(D) (``gan.loss``). The trained
D is then compared with the closed form, and V(D) -- computed by quadrature on a grid from
D's logits, so no Monte-Carlo noise -- with 2 JSD - 2 ln 2, whose JSD comes from
``datasets.toy.GaussianPair1D.jsd`` (scipy numerical integration).
"""
import numpy
from scipy.integrate import trapezoid  # numpy.trapz: removed after NumPy 2.0

import chainer

from evaluation.inference import predict
from gan.loss import discriminator_loss
from gan.net import ToyDiscriminator

LN2 = numpy.log(2.0)


def fit_discriminator(pair, n_iter=3000, batchsize=512, units=(64, 64), lr=1e-3,
                      seed=0, device=None, log_every=0, trace_every=0):
    """Train D alone on x ~ p_d (label 1) vs x ~ p_g (label 0) with Adam.

    Returns (dis, losses, trace): losses is the per-iteration BCE -V(D) on the minibatch;
    trace (if ``trace_every``) is a list of (iteration, V(D) by quadrature) along training.
    """
    rng = numpy.random.default_rng(seed)
    numpy.random.seed(seed)  # chainer's default initializers draw from numpy.random
    dis = ToyDiscriminator(n_in=1, units=units, activation='tanh')
    if device is not None:
        dis.to_device(device)
    xp = dis.xp
    opt = chainer.optimizers.Adam(alpha=lr)
    opt.setup(dis)
    losses = numpy.empty(n_iter)
    trace = []
    grid = support_grid(pair) if trace_every else None
    for t in range(n_iter):
        if trace_every and t % trace_every == 0:
            trace.append((t, value_by_quadrature(pair, grid, logits_on(dis, grid))))
        x_d = xp.asarray(numpy.asarray(pair.sample_data(batchsize, rng), numpy.float32)
                         .reshape(-1, 1))
        x_g = xp.asarray(numpy.asarray(pair.sample_model(batchsize, rng), numpy.float32)
                         .reshape(-1, 1))
        # minimise -V(D) = -E_{p_d} log D - E_{p_g} log(1 - D)
        loss = discriminator_loss(dis(x_d), dis(x_g))
        dis.cleargrads()
        loss.backward()
        opt.update()
        losses[t] = float(loss.array)
        if log_every and (t + 1) % log_every == 0:
            print('  iter {:5d}  -V(D) {:.5f}'.format(t + 1, losses[t]))
    if trace_every:
        trace.append((n_iter, value_by_quadrature(pair, grid, logits_on(dis, grid))))
    return dis, losses, trace


def support_grid(pair, n=4001, n_sd=8.0):
    """A grid covering both densities to +-n_sd standard deviations."""
    lo = min(pair.mu_data - n_sd * pair.sd_data, pair.mu_model - n_sd * pair.sd_model)
    hi = max(pair.mu_data + n_sd * pair.sd_data, pair.mu_model + n_sd * pair.sd_model)
    return numpy.linspace(lo, hi, n)


def logits_on(dis, x):
    x = dis.xp.asarray(numpy.asarray(x, numpy.float32).reshape(-1, 1))
    return predict(dis, x, batchsize=len(x)).ravel().astype(numpy.float64)


def value_by_quadrature(pair, x, logit):
    """V(D) = int p_d log D + p_g log(1 - D) dx on grid x, from D's logits (float64)."""
    p_d, p_g = pair.pdf_data(x), pair.pdf_model(x)
    log_d = -numpy.logaddexp(0.0, -logit)          # log sigmoid(a)
    log_1md = -numpy.logaddexp(0.0, logit)         # log(1 - sigmoid(a))
    return float(trapezoid(p_d * log_d + p_g * log_1md, x))


def evaluate(pair, dis, n_grid=4001):
    """Compare a trained D with D* and V(D) with 2 JSD - 2 ln 2. Returns a dict."""
    x = support_grid(pair, n_grid)
    logit = logits_on(dis, x)
    d = 1.0 / (1.0 + numpy.exp(-logit))
    d_star = pair.optimal_discriminator(x)
    p_d, p_g = pair.pdf_data(x), pair.pdf_model(x)
    m = 0.5 * (p_d + p_g)                           # mixture the errors are weighted by
    jsd = float(pair.jsd())
    v_theory = 2.0 * jsd - 2.0 * LN2                # Theorem 1: V(D*) = 2 JSD - 2 ln 2
    with numpy.errstate(divide='ignore'):
        logit_star = numpy.log(p_d) - numpy.log(p_g)  # log p_d/p_g, -inf/inf allowed
    v_dstar = value_by_quadrature(pair, x, logit_star)
    v_reached = value_by_quadrature(pair, x, logit)
    where = m > 1e-3 * m.max()                      # where the data has non-negligible mass
    return {
        'jsd': jsd, 'jsd_over_ln2': jsd / LN2,
        'v_theory': v_theory, 'v_dstar_quadrature': v_dstar, 'v_reached': v_reached,
        'v_abs_error': abs(v_reached - v_theory),
        'v_rel_error': abs(v_reached - v_theory) / max(abs(v_theory), 1e-12),
        'd_mean_abs_error': float(trapezoid(m * numpy.abs(d - d_star), x)),
        'd_max_abs_error': float(numpy.abs(d - d_star)[where].max()),
        'grid': x, 'd': d, 'd_star': d_star, 'p_d': p_d, 'p_g': p_g,
    }
