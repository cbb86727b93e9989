"""DCGAN generator and discriminator (Radford, Metz & Chintala 2015, arXiv:1511.06434).

The architecture guidelines of §3 ("Approach and model architecture"), applied here:

* no pooling: the generator up-samples with fractionally-strided convolutions
  (``Deconvolution2D``, kernel 4, stride 2, pad 1), the discriminator down-samples with
  strided convolutions (``Convolution2D``, kernel 4, stride 2, pad 1);
* batch normalisation in both networks, except at the generator output layer and the
  discriminator input layer;
* no fully connected hidden layers: G's first layer is a matrix multiplication of z
  reshaped into a (ch, w, w) tensor (§3, Fig. 1); D's last convolution is flattened and
  fed to a single output unit;
* ReLU in G except the output, LeakyReLU(0.2) in D (§3, §4);
* all weights from N(0, 0.02) (§4 "Details of adversarial training").

Sizes: ``out_size`` 64 follows Fig. 1 (4x4x1024 -> 8x8x512 -> 16x16x256 -> 32x32x128 -> 64x64);
32 starts at 4x4 and uses three up-samplings (channels as chainer's ``examples/dcgan``,
ch=512); 28 (MNIST) starts at 7x7 and uses two (7 -> 14 -> 28), ch=128.

Output activation: the paper uses tanh with images scaled to [-1, 1]; chainer's
``examples/dcgan`` uses a sigmoid with images in [0, 1]. This project's data is in [0, 1],
so ``'sigmoid'`` is the default and ``'tanh'`` is the paper's option.

``Discriminator.forward`` returns the pre-sigmoid logit (N, 1), as in chainer's example;
the losses apply the sigmoid through ``softplus`` (see ``gan/loss.py``).
"""
import numpy

import chainer
import chainer.functions as F
import chainer.links as L

from gan.functions import leaky_relu

#: out_size -> (bottom width, number of stride-2 layers, default channels at the bottom)
_LAYOUTS = {28: (7, 2, 128), 32: (4, 3, 512), 64: (4, 4, 1024)}

_OUT_ACTIVATIONS = {'sigmoid': F.sigmoid, 'tanh': F.tanh, 'linear': lambda h: h}


def _layout(out_size, ch):
    if out_size not in _LAYOUTS:
        raise ValueError('out_size must be one of {}, got {!r}'.format(
            sorted(_LAYOUTS), out_size))
    bottom_width, n_up, default_ch = _LAYOUTS[out_size]
    ch = default_ch if ch is None else int(ch)
    if ch % (2 ** (n_up - 1)) != 0:
        raise ValueError('ch={} must be divisible by {}'.format(ch, 2 ** (n_up - 1)))
    # channel widths from the bottom (coarsest) layer up: ch, ch/2, ch/4, ...
    widths = [ch // (2 ** i) for i in range(n_up)]
    return bottom_width, widths


class Generator(chainer.Chain):
    """DCGAN generator: z (N, n_hidden) -> images (N, out_ch, out_size, out_size).

    Radford et al. 2015, §3 and Fig. 1. ``ch`` is the channel count of the first
    (bottom_width x bottom_width) feature map; it halves at every up-sampling.
    """

    def __init__(self, n_hidden=100, out_size=28, out_ch=1, ch=None,
                 out_activation='sigmoid', wscale=0.02):
        super().__init__()
        if out_activation not in _OUT_ACTIVATIONS:
            raise ValueError('out_activation must be one of {}, got {!r}'.format(
                sorted(_OUT_ACTIVATIONS), out_activation))
        self.n_hidden = n_hidden
        self.out_size = out_size
        self.out_ch = out_ch
        self.out_activation = out_activation
        self.bottom_width, self.widths = _layout(out_size, ch)
        self.ch = self.widths[0]
        w = chainer.initializers.Normal(wscale)  # §4: weights ~ N(0, 0.02)
        with self.init_scope():
            # "project and reshape" (Fig. 1): a matrix multiplication, BN, ReLU
            self.l0 = L.Linear(n_hidden, self.bottom_width ** 2 * self.ch, initialW=w)
            self.bn0 = L.BatchNormalization(self.bottom_width ** 2 * self.ch)
            self.ups = chainer.ChainList()
            self.bns = chainer.ChainList()
            for c_in, c_out in zip(self.widths[:-1], self.widths[1:]):
                self.ups.append(L.Deconvolution2D(c_in, c_out, 4, 2, 1, initialW=w))
                self.bns.append(L.BatchNormalization(c_out))
            # output layer: no batch norm (§3)
            self.out = L.Deconvolution2D(self.widths[-1], out_ch, 4, 2, 1, initialW=w)

    def make_hidden(self, batchsize, xp=numpy):
        """z ~ U(-1, 1)^n_hidden (§4 uses uniform noise; range as chainer's example)."""
        return xp.random.uniform(-1, 1, (batchsize, self.n_hidden)).astype(numpy.float32)

    def forward(self, z):
        z = F.reshape(z, (len(z), self.n_hidden))
        h = F.relu(self.bn0(self.l0(z)))
        h = F.reshape(h, (len(z), self.ch, self.bottom_width, self.bottom_width))
        for up, bn in zip(self.ups, self.bns):
            h = F.relu(bn(up(h)))
        return _OUT_ACTIVATIONS[self.out_activation](self.out(h))


class Discriminator(chainer.Chain):
    """DCGAN discriminator: images (N, in_ch, in_size, in_size) -> logits (N, 1).

    Mirror of :class:`Generator` (Radford et al. 2015, §3): strided convolutions,
    LeakyReLU(0.2), batch norm on every layer but the input one, the last feature map
    flattened into one output unit. Flat (N, in_size**2 * in_ch) input is reshaped.
    """

    def __init__(self, in_size=28, in_ch=1, ch=None, wscale=0.02, slope=0.2):
        super().__init__()
        self.in_size = in_size
        self.in_ch = in_ch
        self.slope = slope
        self.bottom_width, widths = _layout(in_size, ch)
        self.widths = widths[::-1]  # from the input side down: ..., ch/2, ch
        w = chainer.initializers.Normal(wscale)
        with self.init_scope():
            # input layer: no batch norm (§3)
            self.c0 = L.Convolution2D(in_ch, self.widths[0], 4, 2, 1, initialW=w)
            self.convs = chainer.ChainList()
            self.bns = chainer.ChainList()
            for c_in, c_out in zip(self.widths[:-1], self.widths[1:]):
                self.convs.append(L.Convolution2D(c_in, c_out, 4, 2, 1, initialW=w))
                self.bns.append(L.BatchNormalization(c_out))
            self.out = L.Linear(self.bottom_width ** 2 * self.widths[-1], 1, initialW=w)

    def forward(self, x):
        x = F.reshape(x, (len(x), self.in_ch, self.in_size, self.in_size))
        h = leaky_relu(self.c0(x), slope=self.slope)
        for conv, bn in zip(self.convs, self.bns):
            h = leaky_relu(bn(conv(h)), slope=self.slope)
        return self.out(h)  # logit; D(x) = sigmoid(logit)
