"""Networks of the VAE family.

* M1 (Kingma & Welling 2013, "Auto-Encoding Variational Bayes", Sec. 3 and App. C):
  a Gaussian encoder q(z|x) = N(mu(x), diag(sigma^2(x))) and a Bernoulli decoder p(x|z)
  whose output is the logit of each pixel.  K&W used one hidden layer of 500 tanh units on
  MNIST (App. C); Kingma et al. 2014 and their official code (dpkingma/nips14-ssl,
  ``models/mnist_z_x_50-500-500``) use two softplus layers of 500.  Both are options here.
* M2 (Kingma, Rezende, Mohamed & Welling 2014, "Semi-supervised learning with deep
  generative models", Sec. 2.2): q(z|x,y), p(x|y,z) and the classifier q(y|x).  The label
  enters the first layer as W_y onehot(y), exactly as ``anglepy/models/VAE_YZ_X.py`` does
  (``w0y``); an ``EmbedID`` row *is* W_y onehot(y), so no one-hot matrix is ever built.
* Completion CVAE and its regressor baseline (Doersch 2016, "Tutorial on Variational
  Autoencoders", Sec. 5.2; released code cdoersch/vae_tutorial ``mnist_cvae.prototxt`` and
  ``mnist_regressor.prototxt``).
"""
import numpy as np

import chainer
import chainer.functions as F
import chainer.links as L

from vae import functions as vae_functions

ACTIVATIONS = {'softplus': vae_functions.softplus, 'tanh': F.tanh, 'relu': F.relu}


def _activation(name):
    if name not in ACTIVATIONS:
        raise ValueError('unknown activation %r (choose from %s)'
                         % (name, ', '.join(sorted(ACTIVATIONS))))
    return ACTIVATIONS[name]


class MLP(chainer.Chain):
    """Hidden layers h_l = act(W_l h_{l-1} + b_l) of a fully connected net.

    If ``n_classes`` > 0 the first layer also adds W_y onehot(y) (``label_in``), the way
    nips14-ssl feeds y into q(z|x,y) and p(x|y,z).
    """

    def __init__(self, n_in, n_hidden, activation='softplus', n_classes=0):
        super().__init__()
        sizes = [n_in] + list(n_hidden)
        self.activation = _activation(activation)
        self.n_classes = n_classes
        with self.init_scope():
            self.layers = chainer.ChainList(*[L.Linear(n_from, n_to) for n_from, n_to
                                              in zip(sizes[:-1], sizes[1:])])
            if n_classes:
                # W_y onehot(y); scaled like a Linear layer on a one-hot input (LeCun)
                self.label_in = L.EmbedID(n_classes, n_hidden[0],
                                          initialW=chainer.initializers.Normal(
                                              n_classes ** -0.5))

    def first_preactivation(self, x):
        """W_x x + b of the first layer (shared by every y when y is summed out)."""
        return self.layers[0](x)

    def rest(self, a, y=None):
        """Finish the net from the first layer's pre-activation ``a``.

        ``a`` may carry extra leading axes; ``y`` (int labels) broadcasts against them.
        """
        if y is not None:
            a = a + self.label_in(y)                       # W_x x + W_y onehot(y) + b
        h = self.activation(a)
        if len(self.layers) > 1:
            lead = h.shape[:-1]
            if h.ndim != 2:                     # no reshape nodes for the usual (B, H) case
                h = F.reshape(h, (-1, h.shape[-1]))
            for layer in self.layers[1:]:
                h = self.activation(layer(h))
            if len(lead) != 1:
                h = F.reshape(h, lead + (h.shape[-1],))
        return h

    def forward(self, x, y=None):
        return self.rest(self.first_preactivation(x), y)


class GaussianEncoder(chainer.Chain):
    """q(z|x[,y]) = N(z; mu, diag(exp(ln_var)))  (K&W 2013 Eq. 9-10)."""

    def __init__(self, n_in, n_latent, n_hidden=(500, 500), activation='softplus',
                 n_classes=0):
        super().__init__()
        with self.init_scope():
            self.hidden = MLP(n_in, n_hidden, activation, n_classes)
            self.mu = L.Linear(n_hidden[-1], n_latent)
            self.ln_var = L.Linear(n_hidden[-1], n_latent)

    def from_hidden(self, h):
        if h.ndim == 2:
            return self.mu(h), self.ln_var(h)
        lead = h.shape[:-1]
        flat = F.reshape(h, (-1, h.shape[-1]))
        return (F.reshape(self.mu(flat), lead + (-1,)),
                F.reshape(self.ln_var(flat), lead + (-1,)))

    def forward(self, x, y=None):
        return self.from_hidden(self.hidden(x, y))


class BernoulliDecoder(chainer.Chain):
    """p(x|z[,y]) = prod_i Bernoulli(x_i; sigmoid(logit_i))  (K&W 2013 App. C.1)."""

    def __init__(self, n_latent, n_out, n_hidden=(500, 500), activation='softplus',
                 n_classes=0):
        super().__init__()
        with self.init_scope():
            self.hidden = MLP(n_latent, n_hidden, activation, n_classes)
            self.logit = L.Linear(n_hidden[-1], n_out)

    def forward(self, z, y=None):
        return self.logit(self.hidden(z, y))


class GaussianDecoder(chainer.Chain):
    """p(x|z[,y]) = N(x; mean, diag(exp(ln_var)))  (K&W 2013 App. C.2).

    Used by M1+M2, whose M2 models M1's latent code (nips14-ssl ``type_px='gaussian'``).
    """

    def __init__(self, n_latent, n_out, n_hidden=(500,), activation='softplus',
                 n_classes=0):
        super().__init__()
        with self.init_scope():
            self.hidden = MLP(n_latent, n_hidden, activation, n_classes)
            self.mean = L.Linear(n_hidden[-1], n_out)
            self.ln_var = L.Linear(n_hidden[-1], n_out)

    def forward(self, z, y=None):
        h = self.hidden(z, y)
        return self.mean(h), self.ln_var(h)


class VAE(chainer.Chain):
    """M1: q(z|x) and p(x|z) with prior p(z) = N(0, I).

    Default 784-500-500-20 (two softplus hidden layers of 500 as in nips14-ssl's M1, latent
    20 as in K&W 2013 Fig. 2); ``n_hidden=(500,), activation='tanh'`` is K&W 2013 App. C.
    """

    def __init__(self, n_in=784, n_latent=20, n_hidden=(500, 500), activation='softplus'):
        super().__init__()
        self.n_latent = n_latent
        with self.init_scope():
            self.encoder = GaussianEncoder(n_in, n_latent, n_hidden, activation)
            self.decoder = BernoulliDecoder(n_latent, n_in, tuple(reversed(n_hidden)),
                                            activation)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        """Pixel logits of p(x|z)."""
        return self.decoder(z)

    def init_output_bias(self, x_train):
        """Start the decoder's output bias at the logits of the training images' mean, each
        pixel clipped to [0.001, 0.999] (IWAE: ``get_train_bias_np`` in yburda/iwae)."""
        mean = np.clip(np.asarray(x_train, dtype=np.float64).mean(axis=0), 0.001, 0.999)
        bias = self.decoder.logit.b
        bias.array[...] = bias.device.send(np.log(mean / (1 - mean)).astype(bias.dtype))

    def sample_prior(self, n):
        """z ~ N(0, I), float32, on this link's device."""
        xp = self.xp
        return xp.random.standard_normal((n, self.n_latent)).astype(xp.float32)


class M2(chainer.Chain):
    """M2: p(y) p(z) p(x|y,z) with inference nets q(z|x,y) and q(y|x) (Kingma 2014 Eq. 2-3).

    nips14-ssl (``learn_yz_x_ss.py``) uses the same hidden sizes ``n_hidden`` for all three
    nets, softplus units, and p(y) uniform.  ``likelihood='bernoulli'`` models pixels (M2),
    ``'gaussian'`` models M1's latent code (M1+M2).
    """

    def __init__(self, n_in=784, n_latent=50, n_hidden=(500,), n_classes=10,
                 activation='softplus', likelihood='bernoulli', init_std=1e-3):
        super().__init__()
        self.n_latent = n_latent
        self.n_classes = n_classes
        self.likelihood = likelihood
        decoder = {'bernoulli': BernoulliDecoder, 'gaussian': GaussianDecoder}[likelihood]
        with self.init_scope():
            self.encoder = GaussianEncoder(n_in, n_latent, n_hidden, activation, n_classes)
            self.decoder = decoder(n_latent, n_in, tuple(reversed(n_hidden)), activation,
                                   n_classes)
            self.classifier_hidden = MLP(n_in, n_hidden, activation)
            self.classifier_out = L.Linear(n_hidden[-1], n_classes)
        if init_std:
            self.reinitialize(init_std)

    def reinitialize(self, std):
        """nips14-ssl ``init_w(1e-3)``: every weight ~ N(0, std^2) (biases stay 0).

        Small weights matter here: with y's embedding near 0, L(x, y) starts almost equal
        for every y, so the unlabelled term does not push q(y|x) towards arbitrary classes
        before the labelled term has taught it anything.  ``init_std=None`` keeps
        chainer's LeCun-normal initialisation.
        """
        for name, param in self.namedparams():
            if name.endswith('/W'):
                param.array[...] = self.xp.random.normal(0, std, param.shape)

    def classify(self, x):
        """Logits of q(y|x) (Kingma 2014 Eq. 3: q(y|x) = Cat(y; pi(x)))."""
        return self.classifier_out(self.classifier_hidden(x))

    def sample_prior(self, n):
        xp = self.xp
        return xp.random.standard_normal((n, self.n_latent)).astype(xp.float32)


class ConditionNet(chainer.Chain):
    """Doersch's ``input1..input4`` tower on the (binarised) conditioning pixels.

    input1 (1000, ReLU) -> input2 (500) -> ReLU -> input3 (250, ReLU) -> input4 (250).
    input2 is added to the encoder's second layer and input4 to the decoder's first layer
    before their ReLUs (``encode2sum``, ``decode4sum`` in mnist_cvae.prototxt).
    """

    def __init__(self, n_cond):
        super().__init__()
        with self.init_scope():
            self.input1 = L.Linear(n_cond, 1000)
            self.input2 = L.Linear(1000, 500)
            self.input3 = L.Linear(500, 250)
            self.input4 = L.Linear(250, 250)

    def forward(self, c):
        input2 = self.input2(F.relu(self.input1(c)))
        input4 = self.input4(F.relu(self.input3(F.relu(input2))))
        return input2, input4


class CompletionDecoder(chainer.Chain):
    """decode4 (250, + input4) -> 500 -> 1000 -> logits of the generated pixels (ReLU)."""

    def __init__(self, n_latent, n_target):
        super().__init__()
        with self.init_scope():
            self.decode4 = L.Linear(n_latent, 250) if n_latent else None
            self.decode3 = L.Linear(250, 500)
            self.decode2 = L.Linear(500, 1000)
            self.decode1 = L.Linear(1000, n_target)

    def forward(self, input4, z=None):
        a = input4 if z is None else self.decode4(z) + input4       # decode4sum
        h = F.relu(self.decode3(F.relu(a)))
        return self.decode1(F.relu(self.decode2(h)))


class CompletionCVAE(chainer.Chain):
    """Doersch 2016 Sec. 5.2 CVAE: q(z|target, c), p(target|z, c), p(z) = N(0, I).

    Encoder: encode1 (1000, ReLU) -> encode2 (500, + input2, ReLU) -> encode3 (250);
    mu reads ReLU(encode3) while the log-sd layer reads encode3 *before* its ReLU, as in the
    released prototxt.  That prototxt predicts log sd; we predict ln_var = 2 log sd (the same
    family).  Latent 30.  Note the prior is N(0, I), not conditioned on c (test-time ``mu``
    and ``sd`` are constant DummyData in the prototxt).
    """

    def __init__(self, n_cond, n_target, n_latent=30):
        super().__init__()
        self.n_latent = n_latent
        with self.init_scope():
            self.condition = ConditionNet(n_cond)
            self.encode1 = L.Linear(n_target, 1000)
            self.encode2 = L.Linear(1000, 500)
            self.encode3 = L.Linear(500, 250)
            self.mu = L.Linear(250, n_latent)
            self.ln_var = L.Linear(250, n_latent)
            self.decoder = CompletionDecoder(n_latent, n_target)

    def encode(self, target, input2):
        h = F.relu(self.encode2(F.relu(self.encode1(target))) + input2)   # encode2sum
        encode3 = self.encode3(h)
        return self.mu(F.relu(encode3)), self.ln_var(encode3)

    def complete(self, c, z=None):
        """Logits of the generated pixels given the condition ``c`` (z ~ N(0,I) if None)."""
        _, input4 = self.condition(c)
        if z is None:
            xp = self.xp
            z = xp.random.standard_normal((len(c), self.n_latent)).astype(xp.float32)
        return self.decoder(input4, z)


class CompletionRegressor(chainer.Chain):
    """Doersch's deterministic baseline: the CVAE's condition tower and decoder, no z.

    ``mnist_regressor.prototxt``: input4 -> ReLU -> decode3 -> decode2 -> decode1, trained
    with the same sigmoid cross-entropy.  It predicts the mean completion (a blur).
    """

    def __init__(self, n_cond, n_target):
        super().__init__()
        with self.init_scope():
            self.condition = ConditionNet(n_cond)
            self.decoder = CompletionDecoder(0, n_target)

    def complete(self, c):
        _, input4 = self.condition(c)
        return self.decoder(input4)
