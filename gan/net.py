"""Generators and discriminators (chainer Chains) for the GAN reproductions.

* ``MLPGenerator`` / ``MLPDiscriminator``: the seed article's Keras MLP GAN (its ``gan.ipynb``).
* ``GoodfellowGenerator`` / ``GoodfellowDiscriminator``: Goodfellow et al. 2014, exactly as
  ``goodfeli/adversarial`` ``mnist.yaml`` (each number cites the yaml).
* ``ToyGenerator`` / ``ToyDiscriminator``: small MLPs for 1-D and 2-D toy densities.
* DCGAN (Radford et al. 2015) lives in ``gan/dcgan.py``.

Every discriminator returns the *logit* a(x); D(x) = sigmoid(a(x)). The losses in
``gan/loss.py`` work on logits (softplus form, numerically stable).
"""
import numpy

import chainer
import chainer.functions as F
import chainer.links as L

from evaluation.inference import predict
from gan.functions import leaky_relu


# --------------------------------------------------------------------------------------
# The seed article's Keras MLP GAN
# --------------------------------------------------------------------------------------
class MLPGenerator(chainer.Chain):
    """G: 100 -> 256 -> 512 -> 1024 -> 784, Dense + BatchNormalization + LeakyReLU(0.2),
    sigmoid output; noise z ~ U(0, 1)^100 (the seed article).

    Keras defaults are kept where the article relies on them: Dense weights Glorot-uniform,
    zero bias; BatchNormalization momentum 0.99 (chainer ``decay``), epsilon 1e-3.
    The article added BN because without it G "produced the same image for every z";
    ``batchnorm=False`` builds that failing variant. ``out_batchnorm=True`` is the
    notebook's (``gan.ipynb``) last block, BatchNormalization on the 784 output
    pre-activations before the sigmoid.
    """

    def __init__(self, n_hidden=100, n_out=784, units=(256, 512, 1024), batchnorm=True,
                 slope=0.2, out_batchnorm=False):
        super().__init__()
        self.n_hidden = n_hidden
        self.slope = slope
        self.batchnorm, self.out_batchnorm = batchnorm, out_batchnorm
        w = chainer.initializers.GlorotUniform()  # keras Dense default
        sizes = (n_hidden,) + tuple(units)
        with self.init_scope():
            self.hidden = chainer.ChainList(
                *[L.Linear(a, b, initialW=w) for a, b in zip(sizes[:-1], sizes[1:])])
            if batchnorm:
                self.bns = chainer.ChainList(
                    *[L.BatchNormalization(b, decay=0.99, eps=1e-3) for b in units])
            self.out = L.Linear(sizes[-1], n_out, initialW=w)
            if out_batchnorm:
                self.out_bn = L.BatchNormalization(n_out, decay=0.99, eps=1e-3)

    def make_hidden(self, batchsize, xp=numpy):
        """z ~ U(0, 1)^n_hidden (seed article)."""
        return xp.random.uniform(0, 1, (batchsize, self.n_hidden)).astype(numpy.float32)

    def forward(self, z):
        h = z
        for i, layer in enumerate(self.hidden):
            h = layer(h)
            if self.batchnorm:
                h = self.bns[i](h)
            h = leaky_relu(h, slope=self.slope)
        h = self.out(h)
        return F.sigmoid(self.out_bn(h) if self.out_batchnorm else h)


class MLPDiscriminator(chainer.Chain):
    """D: 784 -> 1024 -> 512 -> 256 -> 1, LeakyReLU(0.2), sigmoid output (returned as logit).

    The article's ``l1_l2(1e-5, 1e-5)`` kernel regulariser on every layer is not part of the
    Chain: it is the optimizer hook ``gan.optim.L1L2Regularizer`` (weights only, as Keras'
    ``kernel_regularizer``).
    """

    def __init__(self, n_in=784, units=(1024, 512, 256), slope=0.2):
        super().__init__()
        self.slope = slope
        w = chainer.initializers.GlorotUniform()
        sizes = (n_in,) + tuple(units)
        with self.init_scope():
            self.hidden = chainer.ChainList(
                *[L.Linear(a, b, initialW=w) for a, b in zip(sizes[:-1], sizes[1:])])
            self.out = L.Linear(sizes[-1], 1, initialW=w)

    def forward(self, x):
        h = F.reshape(x, (len(x), -1))
        for layer in self.hidden:
            h = leaky_relu(layer(h), slope=self.slope)
        return self.out(h)


# --------------------------------------------------------------------------------------
# Goodfellow et al. 2014 (goodfeli/adversarial, mnist.yaml)
# --------------------------------------------------------------------------------------
def sigmoid_bias_from_marginals(x, eps=1e-7):
    """logit of the per-pixel data mean, clipped to [eps, 1-eps].

    mnist.yaml: ``init_bias: !obj:pylearn2.models.dbm.init_sigmoid_bias_from_marginals``.
    """
    mean = numpy.clip(numpy.asarray(x, dtype=numpy.float64).mean(axis=0), eps, 1 - eps)
    return numpy.log(mean / (1 - mean)).astype(numpy.float32)


class GoodfellowGenerator(chainer.Chain):
    """G: z (100) -> ReLU 1200 -> ReLU 1200 -> sigmoid 784.

    mnist.yaml: ``nvis: 100``; ``RectifiedLinear dim: 1200, irange: .05`` (twice);
    ``Sigmoid dim: 784, irange: .05, init_bias: init_sigmoid_bias_from_marginals``.
    ``irange: r`` is pylearn2's U(-r, r) weight init; biases start at 0.

    Noise: the paper's Parzen experiments use uniform noise on
    [-sqrt(3), sqrt(3)] (unit variance), ``adversarial.Generator.get_noise('uniform')``; the
    repository's later default is ``'gaussian'`` N(0, 1), available as ``noise='gaussian'``.
    """

    def __init__(self, n_hidden=100, n_units=1200, n_out=784, out_bias=None,
                 noise='uniform', irange=0.05):
        super().__init__()
        if noise not in ('uniform', 'gaussian'):
            raise ValueError("noise must be 'uniform' or 'gaussian', got {!r}".format(noise))
        self.n_hidden = n_hidden
        self.noise = noise
        w = chainer.initializers.Uniform(irange)  # U(-irange, irange)
        b_out = 0 if out_bias is None else numpy.asarray(out_bias, numpy.float32)
        with self.init_scope():
            self.h0 = L.Linear(n_hidden, n_units, initialW=w)
            self.h1 = L.Linear(n_units, n_units, initialW=w)
            self.y = L.Linear(n_units, n_out, initialW=w, initial_bias=b_out)

    def make_hidden(self, batchsize, xp=numpy):
        shape = (batchsize, self.n_hidden)
        if self.noise == 'uniform':
            # U(-sqrt 3, sqrt 3): zero mean, unit variance
            return xp.random.uniform(-numpy.sqrt(3), numpy.sqrt(3), shape).astype(numpy.float32)
        return xp.random.standard_normal(shape).astype(numpy.float32)

    def forward(self, z):
        h = F.relu(self.h0(z))
        h = F.relu(self.h1(h))
        return F.sigmoid(self.y(h))


class GoodfellowDiscriminator(chainer.Chain):
    """D: x (784) -> maxout 240x5 -> maxout 240x5 -> sigmoid 1, with dropout.

    mnist.yaml: ``Maxout num_units: 240, num_pieces: 5, irange: .005`` (twice);
    ``Sigmoid dim: 1, irange: .005``. Dropout (``AdversaryCost2``):
    ``discriminator_input_include_probs: {'h0': .8}`` with ``input_scales: {'h0': 1.25}`` and
    ``discriminator_default_input_include_prob: .5`` with scale 2, i.e. inverted dropout
    that keeps the pixels with p=0.8 and each hidden layer's input with p=0.5 -- exactly
    ``F.dropout(ratio=0.2)`` / ``F.dropout(ratio=0.5)``. Dropout is on only under
    ``chainer.config.train``.
    """

    def __init__(self, n_in=784, n_units=240, n_pieces=5, irange=0.005,
                 input_keep=0.8, hidden_keep=0.5):
        super().__init__()
        self.input_drop = 1.0 - input_keep
        self.hidden_drop = 1.0 - hidden_keep
        w = chainer.initializers.Uniform(irange)
        with self.init_scope():
            self.h0 = L.Maxout(n_in, n_units, n_pieces, initialW=w)
            self.h1 = L.Maxout(n_units, n_units, n_pieces, initialW=w)
            self.y = L.Linear(n_units, 1, initialW=w)

    def forward(self, x):
        h = F.reshape(x, (len(x), -1))
        h = self.h0(F.dropout(h, self.input_drop))
        h = self.h1(F.dropout(h, self.hidden_drop))
        return self.y(F.dropout(h, self.hidden_drop))


# --------------------------------------------------------------------------------------
# Toy densities (1-D optimal-discriminator experiment, 2-D mixtures)
# --------------------------------------------------------------------------------------
class ToyGenerator(chainer.Chain):
    """z ~ N(0, I) -> ReLU MLP -> linear 2-D output.

    Shape as the 2-D mixture experiments of Metz et al. 2017 (Unrolled GAN, App. A) and
    VEEGAN (Srivastava et al. 2017, §5.1): two hidden ReLU layers of 128 units.
    """

    def __init__(self, n_hidden=256, n_out=2, units=(128, 128)):
        super().__init__()
        self.n_hidden = n_hidden
        sizes = (n_hidden,) + tuple(units)
        with self.init_scope():
            self.hidden = chainer.ChainList(
                *[L.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
            self.out = L.Linear(sizes[-1], n_out)

    def make_hidden(self, batchsize, xp=numpy):
        return xp.random.standard_normal((batchsize, self.n_hidden)).astype(numpy.float32)

    def forward(self, z):
        h = z
        for layer in self.hidden:
            h = F.relu(layer(h))
        return self.out(h)


class ToyDiscriminator(chainer.Chain):
    """x (n_in) -> MLP (ReLU by default) -> logit. Used for 2-D mixtures and, with
    ``n_in=1``, as the free-form D of the optimal-discriminator experiment."""

    def __init__(self, n_in=2, units=(128, 128), activation='relu'):
        super().__init__()
        self.activation = {'relu': F.relu, 'tanh': F.tanh,
                           'leaky_relu': leaky_relu}[activation]
        sizes = (n_in,) + tuple(units)
        with self.init_scope():
            self.hidden = chainer.ChainList(
                *[L.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
            self.out = L.Linear(sizes[-1], 1)

    def forward(self, x):
        h = F.reshape(x, (len(x), -1))
        for layer in self.hidden:
            h = self.activation(layer(h))
        return self.out(h)


def discriminator_probability(dis, x, batchsize=10000):
    """D(x) = sigmoid(a(x)) as a NumPy array, in test mode, without a graph."""
    return predict(lambda xb: F.sigmoid(dis(xb)), x, batchsize=batchsize).ravel()


def generate(gen, n, batchsize=1000):
    """n samples of G in test mode (BN running statistics), as a NumPy (n, ...) array."""
    return predict(lambda idx: gen(gen.xp.asarray(gen.make_hidden(len(idx)))),
                   numpy.arange(n), batchsize=batchsize)
