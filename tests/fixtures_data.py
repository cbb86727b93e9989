"""Helpers for the datasets tests: tiny MNIST-format IDX fixtures and a loopback HTTP server."""
import contextlib
import functools
import http.server
import os
import threading

import numpy as np

from datasets.idx import write_idx
from datasets.download import md5sum

TRAIN = ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz')
TEST = ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')


def make_split(folder, names, n, seed=0, shape=(28, 28), n_classes=10):
    """Write ``n`` random images and balanced labels in MNIST IDX format; return (x, y)."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n,) + tuple(shape), dtype=np.uint8)
    y = rng.permutation(np.arange(n) % n_classes).astype(np.uint8)   # balanced, seed-dependent
    write_idx(os.path.join(folder, names[0]), x)
    write_idx(os.path.join(folder, names[1]), y)
    return x, y


def md5_table(folder, names):
    return {name: md5sum(os.path.join(folder, name)) for name in names}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder):
    """Serve ``folder`` on 127.0.0.1 (port chosen by the OS); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:{}/'.format(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
