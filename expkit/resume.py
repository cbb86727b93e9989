"""The random state in the trainer snapshot, so that a resumed CPU run draws what the
uninterrupted run would have drawn (minibatch order, prior samples, noise).

The iterators, models and optimisers are serialised by chainer itself; the global NumPy and
Python generators are not. :class:`RandomStateSnapshot` stores them with every snapshot and
puts them back when the resumed run starts training (in ``initialize``, after every other
extension's initialiser, so the draws between the snapshot and the next update match). CuPy's
generator is not stored: on a GPU a resumed run continues from the snapshot's weights and data
order but draws different random numbers.
"""
import random
import warnings

import numpy as np

import chainer


class RandomStateSnapshot(chainer.training.Extension):
    """Serialise ``numpy.random``'s and ``random``'s global states with the trainer."""
    priority = -1000           # its initialize() runs after every other extension's
    name = 'random_state'

    def __init__(self):
        self.trigger = lambda trainer: False      # nothing to do during training
        self._loaded = None

    def __call__(self, trainer):
        pass

    def serialize(self, serializer):
        if isinstance(serializer, chainer.serializer.Serializer):      # saving
            _, keys, pos, has_gauss, gauss = np.random.get_state()
            version, internal, gauss_next = random.getstate()
            serializer('numpy_keys', np.asarray(keys, np.uint32))
            serializer('numpy_meta', np.array([pos, has_gauss, gauss], np.float64))
            serializer('python_state', np.array(internal, np.int64))
            serializer('python_meta', np.array(
                [version, gauss_next is not None, gauss_next or 0.0], np.float64))
            return
        try:
            keys = serializer('numpy_keys', np.zeros(624, np.uint32))
            meta = serializer('numpy_meta', np.zeros(3, np.float64))
            internal = serializer('python_state', np.zeros(625, np.int64))
            py_meta = serializer('python_meta', np.zeros(3, np.float64))
        except KeyError:
            warnings.warn('the snapshot holds no random state (written by an older version): '
                          'the resumed run draws other random numbers than the original')
            return
        self._loaded = (keys.copy(), meta.copy(), internal.copy(), py_meta.copy())

    def initialize(self, trainer):
        if self._loaded is None:
            return
        keys, meta, internal, py_meta = self._loaded
        np.random.set_state(('MT19937', keys, int(meta[0]), int(meta[1]), float(meta[2])))
        gauss_next = float(py_meta[2]) if py_meta[1] else None
        random.setstate((int(py_meta[0]), tuple(int(i) for i in internal), gauss_next))
        self._loaded = None
