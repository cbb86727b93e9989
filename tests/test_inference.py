"""evaluation.inference.predict: the one batched test-mode inference helper."""
import numpy as np
import pytest

import chainer
import chainer.functions as F
import chainer.links as L

from evaluation.inference import predict


class BNNet(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.fc = L.Linear(3, 4)
            self.bn = L.BatchNormalization(4)

    def forward(self, x, cond=None):
        h = self.bn(self.fc(x))
        if cond is not None:
            h = h + cond
        return F.dropout(h, 0.5)


def test_batched_equals_one_call_in_test_mode():
    net = BNNet()
    net.bn.avg_mean[:] = 3.0            # test mode must use these running statistics
    x = np.random.RandomState(0).randn(23, 3).astype(np.float32)
    with chainer.using_config('train', False):
        expected = net(x).array
    got = predict(net, x, batchsize=5)
    assert isinstance(got, np.ndarray) and got.shape == (23, 4)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # in training mode BN would use batch statistics and dropout would zero units
    with chainer.using_config('train', True):
        assert not np.allclose(net(x).array, expected)


def test_tuple_outputs_none_inputs_and_no_graph():
    net = BNNet()
    x = np.ones((7, 3), np.float32)
    cond = np.arange(28, dtype=np.float32).reshape(7, 4)
    seen = []

    def fn(xb, cb, nothing):
        assert nothing is None
        out = net(xb, cb)
        seen.append(out.creator)
        return out, F.sum(out, axis=1)

    a, b = predict(fn, x, cond, None, batchsize=3)
    assert a.shape == (7, 4) and b.shape == (7,)
    np.testing.assert_allclose(b, a.sum(1), rtol=1e-5)
    assert seen and all(c is None for c in seen)     # no computational graph was kept
    assert chainer.config.train


def test_errors():
    with pytest.raises(ValueError, match='different numbers of rows'):
        predict(lambda a, b: a, np.zeros((3, 1)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match='no rows'):
        predict(lambda a: a, np.zeros((0, 1), np.float32))
