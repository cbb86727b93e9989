"""Trainer extensions for the GAN experiments: samples from a fixed z over training."""
import numpy

import chainer

from evaluation.inference import predict


#: the seed article's grid iterations (0, 10k, 50k, 150k of 150k) as fractions of the run
SEED_GRID = (0.0, 10 / 150., 50 / 150., 1.0)


def snapshot_iterations(total, fractions=SEED_GRID):
    """The iterations at ``fractions`` of ``total`` (default: the seed article's grid)."""
    return sorted({int(round(f * total)) for f in fractions})


class SampleRecorder(chainer.training.Extension):
    """Keeps G(z_fixed) (test mode, NumPy) at chosen iterations, for grids and the GIF.

    ``iterations``: explicit iterations to record (0 is recorded by ``initialize``);
    ``every``: additionally record every this many iterations. The frames are saved in
    trainer snapshots, so a resumed run has those before the snapshot too.
    """
    trigger = (1, 'iteration')
    priority = chainer.training.PRIORITY_READER

    def __init__(self, gen, z_fixed, iterations=(), every=0):
        self.gen = gen
        self.z_fixed = z_fixed
        self.iterations = set(int(i) for i in iterations)
        self.every = int(every)
        self.frames = {}   # iteration -> (n, ...) float32 array

    def record(self, iteration):
        x = predict(self.gen, self.gen.xp.asarray(self.z_fixed), batchsize=len(self.z_fixed))
        self.frames[int(iteration)] = x.reshape(
            len(self.z_fixed), -1).astype(numpy.float32)

    def initialize(self, trainer):
        if trainer.updater.iteration == 0:
            self.record(0)

    def __call__(self, trainer):
        it = trainer.updater.iteration
        if it in self.iterations or (self.every and it % self.every == 0):
            self.record(it)

    def serialize(self, serializer):
        keys = sorted(self.frames)
        if isinstance(serializer, chainer.serializer.Serializer):       # saving
            serializer('frame_iterations', numpy.array(keys, numpy.int64))
            serializer('frames', numpy.stack([self.frames[k] for k in keys]) if keys
                       else numpy.zeros((0, 0), numpy.float32))
            return
        try:
            its = serializer('frame_iterations', None)
            frames = serializer('frames', None)
        except KeyError:                   # a snapshot written before frames were saved
            return
        self.frames = {int(i): numpy.asarray(f) for i, f in zip(its, frames)}

    def finish(self, iteration):
        """Record the last update's frame if it is missing (a run --time-limit stopped)."""
        if int(iteration) not in self.frames:
            self.record(iteration)

    def grid_keys(self, fractions=SEED_GRID):
        """The distinct recorded iterations nearest to ``fractions`` of the last recorded
        one: a run cut short by --time-limit gets its grid over what it trained, with no
        frame shown twice."""
        last = max(self.frames)
        return sorted({self.at(f * last)[0] for f in fractions})

    def at(self, iteration):
        """The recorded frame closest to ``iteration``."""
        key = min(self.frames, key=lambda k: abs(k - iteration))
        return key, self.frames[key]
