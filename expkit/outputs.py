"""A run's output folder: every file is written atomically (a temporary file, then
``os.replace``), by rank 0 alone in a distributed run, and the folder is made on first use,
so a run that fails early leaves nothing behind."""
import os
import tempfile

import numpy as np

import chainer

from expkit import cli

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path, write):
    """Write via a temporary file in the same folder, then ``os.replace``."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix=os.path.basename(path), dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_npz_uncompressed(file, obj):
    """``chainer.serializers.save_npz`` without zlib: snapshots of 1000-unit MLPs compress
    poorly and zlib cost more than the training step of a ``--quick`` run."""
    chainer.serializers.save_npz(file, obj, compression=False)


class Outputs:
    """The files of one run under ``out``; ``is_root`` False (ranks > 0) writes nothing."""

    def __init__(self, out, is_root=True):
        self.out, self.is_root = out, is_root

    def path(self, filename):
        """``out/filename``; creates ``out`` on first use (so a failed run leaves nothing)."""
        if not os.path.isdir(self.out):
            try:
                os.makedirs(self.out)
            except FileExistsError:    # made meanwhile (the Trainer of another MPI rank)
                pass
            else:
                cli._created_dirs.append(self.out)
        return os.path.join(self.out, filename)

    def savefig(self, fig, filename, dpi=100):
        """A matplotlib figure as ``out/filename`` (PNG); the figure is closed."""
        import matplotlib.pyplot as plt
        if not self.is_root:
            plt.close(fig)
            return None
        path = self.path(filename)
        atomic_write(path, lambda f: fig.savefig(f, format='png', dpi=dpi,
                                                 bbox_inches='tight'))
        plt.close(fig)
        return path

    def save_npz(self, filename, **arrays):
        """Arrays (on any device) as one compressed ``.npz``."""
        if not self.is_root:
            return None
        arrays = {k: chainer.backend.CpuDevice().send(v) for k, v in arrays.items()}
        path = self.path(filename)
        atomic_write(path, lambda f: np.savez_compressed(f, **arrays))
        return path

    def save_model(self, filename, link):
        """A link's parameters, as chainer's ``save_npz`` (uncompressed)."""
        if not self.is_root:
            return None
        path = self.path(filename)
        atomic_write(path, lambda f: save_npz_uncompressed(f, link))
        return path
