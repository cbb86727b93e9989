"""Fused CPU/GPU kernels for the VAE hot path.

Chainer's ``F.softplus`` and ``F.bernoulli_nll`` are correct but slow on CPU: NumPy's
float32 ``log1p`` is not vectorised (about 7x slower than ``log``), and ``bernoulli_nll``
is a chain of four graph nodes.  Here

    softplus(a) = max(a, 0) + log(1 + exp(-|a|))

is computed with ``log`` (absolute error < 1.2e-7 against ``log1p``, far below float32
resolution of the values it is added to), and the Bernoulli log-likelihood, summed over
pixels, is one graph node with the analytic gradient x - sigmoid(a). Likewise the Gaussian
KL, summed over the latent axis, is one node instead of chainer's seven (``exp``, three
arithmetic nodes, two scalings and a sum): on the small IWAE-recipe net, whose step is
mostly Python per graph node, that matters.
"""
import chainer
from chainer import function_node
from chainer.backend import get_array_module


def _softplus(a):
    xp = get_array_module(a)
    t = xp.abs(a)
    xp.negative(t, out=t)
    xp.exp(t, out=t)
    t += 1
    xp.log(t, out=t)                                    # log(1 + exp(-|a|))
    t += xp.maximum(a, 0)
    return t


def _sigmoid(a):
    xp = get_array_module(a)
    t = xp.negative(a)
    xp.exp(t, out=t)
    t += 1
    xp.reciprocal(t, out=t)                             # 1 / (1 + exp(-a))
    return t


class Softplus(function_node.FunctionNode):
    """y = log(1 + exp(a)); dy/da = sigmoid(a)."""

    def forward(self, inputs):
        a, = inputs
        self.retain_inputs((0,))
        return _softplus(a),

    def backward(self, indexes, grad_outputs):
        a, = self.get_retained_inputs()
        gy, = grad_outputs
        return gy * Sigmoid().apply((a,))[0],


class Sigmoid(function_node.FunctionNode):
    """sigmoid(a); used as softplus' derivative so double backprop also works."""

    def forward(self, inputs):
        a, = inputs
        y = _sigmoid(a)
        self.retain_outputs((0,))
        return y,

    def backward(self, indexes, grad_outputs):
        y, = self.get_retained_outputs()
        gy, = grad_outputs
        return gy * y * (1 - y),


def softplus(a):
    return Softplus().apply((a,))[0]


class BernoulliLogLikelihood(function_node.FunctionNode):
    """sum_i [x_i a_i - softplus(a_i)] over the last axis = sum_i log Bernoulli(x_i; sigmoid(a_i)).

    Gradient w.r.t. the logits a: x - sigmoid(a).  x is data (no gradient).
    """

    def forward(self, inputs):
        x, a = inputs
        self.retain_inputs((0, 1))
        ll = x * a
        ll -= _softplus(a)
        return ll.sum(axis=-1),

    def backward(self, indexes, grad_outputs):
        x, a = self.get_retained_inputs()
        gy, = grad_outputs
        xp = get_array_module(a.array)
        g = x.array - _sigmoid(a.array)
        g *= xp.expand_dims(gy.array, -1)
        return None, chainer.Variable(g)     # first-order only (no double backprop)


def bernoulli_log_likelihood(x, logits):
    """log p(x|z) = sum_i x_i log p_i + (1 - x_i) log(1 - p_i), p = sigmoid(logits)."""
    if isinstance(x, chainer.Variable):
        x = x.array
    xp = get_array_module(x)
    if x.dtype != logits.dtype:
        x = x.astype(logits.dtype)
    if x.shape != logits.shape:
        x = xp.broadcast_to(x, logits.shape)
    return BernoulliLogLikelihood().apply((x, logits))[0]



class GaussianKL(function_node.FunctionNode):
    """KL(N(mu, exp(ln_var)) || N(0, I)) summed over the last axis:
    1/2 sum_j (mu_j^2 + exp(ln_var_j) - ln_var_j - 1)  (K&W 2013 App. B).

    Gradients: d/dmu = mu, d/dln_var = (exp(ln_var) - 1) / 2 (first order only).
    """

    def forward(self, inputs):
        mu, ln_var = inputs
        self.retain_inputs((0, 1))
        xp = get_array_module(mu)
        t = xp.exp(ln_var)
        t -= ln_var
        t -= 1
        t += mu * mu
        return (t.sum(axis=-1) * 0.5).astype(mu.dtype, copy=False),

    def backward(self, indexes, grad_outputs):
        mu, ln_var = self.get_retained_inputs()
        gy, = grad_outputs
        xp = get_array_module(mu.array)
        g = xp.expand_dims(gy.array, -1)
        out = []
        if 0 in indexes:
            out.append(chainer.Variable(mu.array * g))
        if 1 in indexes:
            out.append(chainer.Variable((xp.exp(ln_var.array) - 1) * (0.5 * g)))
        return tuple(out)


def gaussian_kl(mu, ln_var):
    """KL(N(mu, diag(exp ln_var)) || N(0, I)) summed over the last axis, one graph node."""
    return GaussianKL().apply((mu, ln_var))[0]
