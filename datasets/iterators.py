"""Minibatch iterators that chainer's own do not provide."""
import numpy as np

import chainer


class ReplacementIterator(chainer.dataset.Iterator):
    """Minibatches of ``batch_size`` indices drawn uniformly **with replacement** (Keras
    notebooks' ``X[np.random.randint(0, N, size=batch_size)]``), repeating forever.

    An epoch is ``len(dataset) / batch_size`` minibatches, as for a SerialIterator, so
    Trainer stop triggers in epochs mean the same images seen. Draws come from NumPy's
    global RNG (seeded by ``--seed``); the state that matters for resuming (iteration count)
    is serialized.
    """

    def __init__(self, dataset, batch_size):
        if batch_size < 1:
            raise ValueError('batch_size must be positive, got %r' % (batch_size,))
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.current_position, self.epoch, self.is_new_epoch = 0, 0, False
        self._previous_epoch_detail = -1.

    def __next__(self):
        self._previous_epoch_detail = self.epoch_detail
        idx = np.random.randint(0, len(self.dataset), size=self.batch_size)
        self.current_position += self.batch_size
        self.is_new_epoch = self.current_position >= len(self.dataset)
        if self.is_new_epoch:
            self.epoch += 1
            self.current_position -= len(self.dataset)
        return [self.dataset[i] for i in idx]

    next = __next__

    @property
    def epoch_detail(self):
        return self.epoch + self.current_position / len(self.dataset)

    @property
    def previous_epoch_detail(self):
        return None if self._previous_epoch_detail < 0 else self._previous_epoch_detail

    def reset(self):
        self.current_position, self.epoch, self.is_new_epoch = 0, 0, False
        self._previous_epoch_detail = -1.

    def serialize(self, serializer):
        self.current_position = serializer('current_position', self.current_position)
        self.epoch = serializer('epoch', self.epoch)
        self.is_new_epoch = serializer('is_new_epoch', self.is_new_epoch)
        self._previous_epoch_detail = serializer('previous_epoch_detail',
                                                 self._previous_epoch_detail)
