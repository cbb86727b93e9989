"""The frozen MNIST classifier whose features score every generator here (one network, so the
numbers compare across runs and machines).

Architecture (LeNet-class; LeCun et al. 1998, with ReLU, max pooling and dropout):
conv 5x5x20 -> ReLU -> max-pool 2 -> conv 5x5x50 -> ReLU -> max-pool 2 (Caffe's LeNet widths)
-> fc 800->128 ->
ReLU (**the feature layer**, 128-D, after the ReLU) -> dropout 0.5 -> fc 128->10.

Trained once by ``experiments/mnist_classifier.py`` (its record:
docs/results/runs/mnist_classifier_full); the weights are committed as
``evaluation/weights/mnist_cnn.npz`` and checked against :data:`WEIGHTS_MD5` on load.
Inputs are MNIST images with pixels in [0, 1], shape (n, 784) or (n, 1, 28, 28).
"""
import os

import numpy as np

import chainer
import chainer.functions as F
import chainer.links as L

from datasets.download import md5sum as file_md5

#: the committed weights and their MD5 (written by experiments/mnist_classifier.py)
WEIGHTS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'weights',
                            'mnist_cnn.npz')
WEIGHTS_MD5 = 'df70eff51935ff8db8cc50d5a08b2ede'
FEATURE_DIM = 128


class MnistCNN(chainer.Chain):
    """The classifier; ``features(x)`` is the 128-D layer every metric reads."""

    def __init__(self, n_features=FEATURE_DIM, n_classes=10):
        super().__init__()
        with self.init_scope():
            self.conv1 = L.Convolution2D(1, 20, 5)      # 28 -> 24, pooled to 12
            self.conv2 = L.Convolution2D(20, 50, 5)     # 12 -> 8, pooled to 4
            self.fc1 = L.Linear(4 * 4 * 50, n_features)
            self.fc2 = L.Linear(n_features, n_classes)

    def features(self, x):
        x = F.reshape(x, (-1, 1, 28, 28))
        h = F.max_pooling_2d(F.relu(self.conv1(x)), 2)
        h = F.max_pooling_2d(F.relu(self.conv2(h)), 2)
        return F.relu(self.fc1(h))

    def forward(self, x):
        """Class logits."""
        return self.fc2(F.dropout(self.features(x), 0.5))


class WeightsError(ValueError):
    """The committed weights are missing or do not match their MD5."""


def load_feature_net(path=WEIGHTS_PATH, md5=WEIGHTS_MD5):
    """The frozen classifier with the committed weights; raises :class:`WeightsError` (a
    one-line message naming the fix) when the file is missing or its MD5 differs."""
    if not os.path.isfile(path):
        raise WeightsError('no classifier weights at %s: train them with python '
                           'experiments/mnist_classifier.py' % os.path.relpath(path))
    if md5 is not None and file_md5(path) != md5:
        raise WeightsError('%s does not match its MD5 %s: restore it with git checkout -- '
                           '%s' % (os.path.relpath(path), md5, os.path.relpath(path)))
    net = MnistCNN()
    chainer.serializers.load_npz(path, net)
    return net


def run_net(net, x, batch=1000):
    """``(features, class probabilities)`` of images ``x`` (pixels in [0, 1]), float64 on the
    host, in test mode."""
    x = np.asarray(x, dtype=np.float32).reshape(-1, 1, 28, 28)
    feats, probs = [], []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for i in range(0, len(x), batch):
            h = net.features(net.xp.asarray(x[i:i + batch]))
            p = F.softmax(net.fc2(h))
            feats.append(chainer.backend.CpuDevice().send(h.array).astype(np.float64))
            probs.append(chainer.backend.CpuDevice().send(p.array).astype(np.float64))
    return np.concatenate(feats), np.concatenate(probs)
