"""Synthetic MNIST-shaped data shared by the benchmarks (the content does not change the
cost of a step): grey images in [0, 1], integer labels, and batch feeders for each side."""
import numpy as np

N_PIXELS = 784


def images(n=5000, d=N_PIXELS, seed=0):
    return np.random.RandomState(seed).uniform(0, 1, (n, d)).astype(np.float32)


def labels(n=5000, n_classes=10, seed=1):
    return np.random.RandomState(seed).randint(0, n_classes, n).astype(np.int32)


def dataset_size(tiny):
    return 500 if tiny else 5000


class TorchBatches:
    """Shuffled minibatches of tensors, an epoch at a time, like chainer's SerialIterator."""

    def __init__(self, batchsize, *arrays, seed=0):
        import torch
        self.tensors = [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]
        self.batchsize, self.n = batchsize, len(arrays[0])
        self.generator = torch.Generator().manual_seed(seed)
        self.order, self.pos = None, self.n

    def next(self):
        import torch
        if self.pos + self.batchsize > self.n:
            self.order, self.pos = torch.randperm(self.n, generator=self.generator), 0
        idx = self.order[self.pos:self.pos + self.batchsize]
        self.pos += self.batchsize
        out = [t[idx] for t in self.tensors]
        return out if len(out) > 1 else out[0]
