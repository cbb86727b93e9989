"""Networks of the adversarial autoencoder (Makhzani et al., arXiv:1511.05644).

Architecture, from the paper's appendix ("Experiment setup": MNIST likelihood and
semi-supervised experiments) as transcribed by its reproducers:

* encoder q(z|x), decoder p(x|z) and discriminator each have **two hidden layers of 1000
  ReLU units**;
* the encoder is **deterministic** (q(z|x) = delta(z - f(x))): every result in the paper
  uses it (Sec. 2, "Deterministic"), its last layer is linear;
* the decoder's last layer is a sigmoid on MNIST;
* weights are initialised from N(0, 0.01^2).

The discriminator ends in a **two-unit softmax** (real = prior sample, fake = code), the
choice of the seed article's author (musyoku/adversarial-autoencoder, which switched from a
single sigmoid unit that "did not work"); ``output='sigmoid'`` gives the single-unit form
for comparison.  Optional Gaussian noise on its input (``noise_std``; the seed author uses
0.3 and reports that it stabilises training where batch normalisation did not).  For the
label-conditioned regulariser of Fig. 4 (Sec. 2.3) it also takes a one-hot vector with K+1
slots, the last meaning "unlabelled" (see :func:`one_hot_with_unlabelled`).
"""
import numpy

import chainer
import chainer.functions as F
import chainer.links as L
from chainer import initializers
from chainer.backend import get_array_module

#: Appendix: "weights are initialized with a Gaussian distribution with std 0.01".
WEIGHT_STD = 0.01


def _linear(n_in, n_out, weight_std):
    return L.Linear(n_in, n_out, initialW=initializers.Normal(weight_std))


class MLP(chainer.Chain):
    """Two ReLU hidden layers then a linear output: the paper's 1000-1000 building block.

    ``batch_norm``: batch normalisation (Ioffe & Szegedy 2015) on each hidden layer's
    pre-activation, and ``output_batch_norm`` on the linear output, as the appendix's
    clustering model has them (see :func:`categorical_aae`); running statistics serve in
    test mode (``chainer.config.train = False``, :func:`evaluation.inference.predict`).
    """

    def __init__(self, n_in, n_out, n_hidden=1000, weight_std=WEIGHT_STD, batch_norm=False,
                 output_batch_norm=False):
        super().__init__()
        self.batch_norm, self.output_batch_norm = batch_norm, output_batch_norm
        with self.init_scope():
            self.l1 = _linear(n_in, n_hidden, weight_std)
            self.l2 = _linear(n_hidden, n_hidden, weight_std)
            self.l3 = _linear(n_hidden, n_out, weight_std)
            if batch_norm:
                self.bn1 = L.BatchNormalization(n_hidden)
                self.bn2 = L.BatchNormalization(n_hidden)
            if output_batch_norm:
                self.bn3 = L.BatchNormalization(n_out)

    def forward(self, x):
        h = self.l1(x)
        h = F.relu(self.bn1(h) if self.batch_norm else h)
        h = self.l2(h)
        h = F.relu(self.bn2(h) if self.batch_norm else h)
        h = self.l3(h)
        return self.bn3(h) if self.output_batch_norm else h


class Encoder(chainer.Chain):
    """Deterministic encoder z = f(x) (Sec. 2 "Deterministic"; used by every result).

    With ``n_y > 0`` it has a second, categorical head q(y|x) (Sec. 5 semi-supervised,
    Sec. 6 clustering, Fig. 8): ``forward`` then returns ``(y_logits, z)``; the softmax of
    the logits is the categorical code y.

    ``input_noise``: std of N(0, std^2) noise added to x in training mode only, the paper's
    placement for the semi-supervised and clustering experiments (Sec. 5: "Gaussian noise
    with standard deviation of 0.3 is added to the input of the encoder" as its
    reproducers transcribe the appendix; the seed code instead puts it on the
    discriminators' inputs, :class:`Discriminator`). ``input_dropout``: dropout with this
    rate on x in training mode, and ``batch_norm``: batch normalisation on every layer
    including the output (the pre-softmax logits of q(y|x) and the linear z), both as the
    appendix's clustering model has them (:func:`categorical_aae`).
    """

    def __init__(self, n_z, n_in=784, n_hidden=1000, n_y=0, weight_std=WEIGHT_STD,
                 input_noise=0.0, batch_norm=False, input_dropout=0.0):
        super().__init__()
        self.n_z, self.n_y, self.input_noise = n_z, n_y, input_noise
        self.input_dropout = input_dropout
        with self.init_scope():       # batch_norm: the hidden layers and the output (y, z)
            self.body = MLP(n_in, n_z + n_y, n_hidden, weight_std, batch_norm, batch_norm)

    def forward(self, x):
        if self.input_noise > 0 and chainer.config.train:
            xp = get_array_module(x)
            x = x + xp.random.normal(0, self.input_noise, x.shape).astype(x.dtype)
        if self.input_dropout > 0:    # F.dropout is the identity in test mode
            x = F.dropout(x, self.input_dropout)
        h = self.body(x)
        if self.n_y == 0:
            return h                                   # z = f(x), linear last layer
        return h[:, :self.n_y], h[:, self.n_y:]        # (logits of q(y|x), z)


class Decoder(chainer.Chain):
    """Decoder p(x|z) (or p(x|y,z) when ``n_cond > 0``, Fig. 6/7/8): sigmoid output."""

    def __init__(self, n_z, n_out=784, n_hidden=1000, n_cond=0, weight_std=WEIGHT_STD,
                 batch_norm=False):
        super().__init__()
        self.n_z, self.n_cond = n_z, n_cond
        with self.init_scope():       # batch_norm: hidden layers only (the output is a sigmoid)
            self.body = MLP(n_z + n_cond, n_out, n_hidden, weight_std, batch_norm)

    def logits(self, z, cond=None):
        if self.n_cond:
            if cond is None:
                raise ValueError('this decoder needs its one-hot/categorical input y')
            z = F.concat((cond, z), axis=1)            # decoder input [y, z]
        return self.body(z)

    def forward(self, z, cond=None):
        return F.sigmoid(self.logits(z, cond))        # MNIST: sigmoid last layer


class Discriminator(chainer.Chain):
    """Discriminator D(z) (or D(z, one-hot) when ``n_cond > 0``), returning logits.

    ``output='softmax'`` (default) returns 2 logits (column 1 = "real", i.e. a sample of
    the prior); ``output='sigmoid'`` returns 1 logit (P(real) = sigmoid(logit)).
    ``noise_std`` adds N(0, noise_std^2) to z in training mode only.
    """

    def __init__(self, n_z, n_hidden=1000, output='softmax', noise_std=0.0, n_cond=0,
                 weight_std=WEIGHT_STD):
        super().__init__()
        if output not in ('softmax', 'sigmoid'):
            raise ValueError('output must be softmax or sigmoid, got %r' % (output,))
        self.output, self.noise_std, self.n_cond = output, noise_std, n_cond
        with self.init_scope():
            self.body = MLP(n_z + n_cond, 2 if output == 'softmax' else 1, n_hidden,
                            weight_std)

    def forward(self, z, cond=None):
        if self.noise_std > 0 and chainer.config.train:
            xp = get_array_module(z)
            noise = xp.random.normal(0, self.noise_std, z.shape).astype(z.dtype)
            z = z + noise                              # seed: GaussianNoise(std=0.3)
        if self.n_cond:
            if cond is None:
                raise ValueError('this discriminator is label-conditioned: pass cond')
            z = F.concat((z, cond), axis=1)            # Fig. 3: one-hot label -> D
        return self.body(z)


class ClusterHeadDecoder(chainer.Chain):
    """Decoder of the dimensionality-reduction AAE (Sec. 7, Fig. 10): p(x | W y + z).

    The m-way categorical code y picks (a soft mixture of) the m learned *cluster heads*, the
    columns of ``heads.W`` (n x m); the n-D style code z is added to it, and the n-D sum is
    the final representation that the decoder reconstructs x from.  Heads start at N(0, 1)
    (seed code, ``run/unsupervised/dim_reduction/model.py``); the decoder body is
    :class:`Decoder`'s.  ``forward(z, y)`` keeps :class:`Decoder`'s call signature, so the
    categorical updater drives it unchanged.
    """

    def __init__(self, n_z, n_heads, n_out=784, n_hidden=1000, weight_std=WEIGHT_STD):
        super().__init__()
        self.n_z, self.n_cond = n_z, n_heads
        with self.init_scope():
            self.heads = L.Linear(n_heads, n_z, nobias=True, initialW=initializers.Normal(1.0))
            self.body = Decoder(n_z, n_out, n_hidden, weight_std=weight_std)

    def representation(self, z, y):
        """The n-D representation W y + z (Fig. 10)."""
        return self.heads(y) + z

    def head_positions(self):
        """The m cluster heads as an (m, n) array, in the representation space."""
        return self.heads.W.array.T

    def forward(self, z, cond=None):
        if cond is None:
            raise ValueError('this decoder needs its categorical input y')
        return self.body(self.representation(z, cond))


def one_hot_with_unlabelled(labels, n_classes, dtype='f'):
    """One-hot vectors with ``n_classes + 1`` slots; label ``n_classes`` = "unlabelled".

    Sec. 2.3 / Fig. 3: "the one-hot vector has an extra class for unlabeled examples".
    Works on NumPy and CuPy label arrays; the range is checked on NumPy only (on a GPU the
    check would wait for the device at every update; the labels were checked at loading).
    """
    xp = get_array_module(labels)
    labels = xp.asarray(labels)
    if xp is numpy and labels.size and (int(labels.min()) < 0
                                        or int(labels.max()) > n_classes):
        raise ValueError('labels must lie in 0..%d (%d = unlabelled)' % (n_classes, n_classes))
    return xp.eye(n_classes + 1, dtype=dtype)[labels]


def one_hot(labels, n_classes, dtype='f'):
    """Plain one-hot vectors (the decoder's label input, Fig. 6/7)."""
    xp = get_array_module(labels)
    labels = xp.asarray(labels)
    if xp is numpy and labels.size and (int(labels.min()) < 0
                                        or int(labels.max()) >= n_classes):
        raise ValueError('labels must lie in 0..%d' % (n_classes - 1))
    return xp.eye(n_classes, dtype=dtype)[labels]


def unsupervised_aae(n_z, n_in=784, n_hidden=1000, dis_output='softmax', dis_noise=0.0):
    """``enc, dec, dis``: the AAE of Sec. 2 with one continuous code z (Fig. 2, Table 1)."""
    return (Encoder(n_z, n_in, n_hidden), Decoder(n_z, n_in, n_hidden),
            Discriminator(n_z, n_hidden, output=dis_output, noise_std=dis_noise))


def categorical_aae(n_y, n_z, n_in=784, n_hidden=1000, dis_output='softmax', dis_noise=0.0,
                    enc_noise=0.0, batch_norm=False, input_dropout=0.0, dis_hidden=None):
    """``enc, dec, dis_z, dis_y``: the categorical AAE of Sec. 5 (Fig. 8) and Sec. 6.

    ``enc`` gives (logits of q(y|x), z); ``dec`` reconstructs x from [softmax(logits), z];
    ``dis_z`` tells N(0, I) samples from z, ``dis_y`` one-hot Cat(n_y) samples from q(y|x).
    **Both** discriminators get N(0, dis_noise^2) noise on their input, as in the seed code
    (musyoku/adversarial-autoencoder, ``run/unsupervised/clustering/model.py`` and
    ``run/semi-supervised/classification/model.py``: ``GaussianNoise(std=0.3)`` first in
    ``discriminator_z`` and ``discriminator_y``).  Without it D_y separates any softmax
    output, which is never exactly one-hot, from the one-hot prior samples and wins for
    good: the categorical code then collapses (2 of 16 clusters used in our runs).
    ``enc_noise``: the paper's N(0, enc_noise^2) noise on the encoder's input
    (:class:`Encoder`). The default ``dis_noise`` is 0, the paper's placement (no noise on
    the discriminators); the scripts' ``--recipe seed`` and ``fast`` set 0.3.

    The appendix's clustering model (Sec. 6, Table 3; as two public reproductions
    transcribe it: 1henrypage/adversarial-autoencoders ``src/config/unsupervised_clustering
    .yaml`` and ``src/unsupervised.py``, shaharazulay's ``source/_config.yml``):
    ``n_hidden=3000``, ``batch_norm=True`` (every encoder layer, including the pre-softmax
    logits of q(y|x) and the linear z, and the decoder's hidden layers),
    ``input_dropout=0.2`` and no noise; ``dis_hidden``: the discriminators' units (default
    ``n_hidden``; 1henrypage's config: 1000).
    """
    dis_hidden = dis_hidden or n_hidden
    enc = Encoder(n_z, n_in, n_hidden, n_y=n_y, input_noise=enc_noise, batch_norm=batch_norm,
                  input_dropout=input_dropout)
    dec = Decoder(n_z, n_in, n_hidden, n_cond=n_y, batch_norm=batch_norm)
    dis_z = Discriminator(n_z, dis_hidden, output=dis_output, noise_std=dis_noise)
    dis_y = Discriminator(n_y, dis_hidden, output=dis_output, noise_std=dis_noise)
    return enc, dec, dis_z, dis_y


def dim_reduction_aae(n_heads, n_z=2, n_in=784, n_hidden=1000, dis_output='softmax',
                      dis_noise=0.3):
    """``enc, dec, dis_z, dis_y`` of the dimensionality-reduction AAE (Sec. 7, Fig. 10):
    :func:`categorical_aae` whose decoder is a :class:`ClusterHeadDecoder`."""
    enc, _, dis_z, dis_y = categorical_aae(n_heads, n_z, n_in, n_hidden, dis_output,
                                           dis_noise)
    return enc, ClusterHeadDecoder(n_z, n_heads, n_in, n_hidden), dis_z, dis_y
