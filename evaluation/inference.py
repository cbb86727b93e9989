"""Batched inference, once: run a network over arrays in test mode, in chunks, on a device.

Every evaluation in the project (encoding a test set, decoding a grid, scoring with a
discriminator, generating samples, ELBOs) goes through :func:`predict`, so test mode
(``chainer.config.train = False``: BatchNorm running statistics, no dropout), no graph
(``no_backprop_mode``), batching and device transfers are written in one place.
"""

import chainer


def _to_array(out):
    return out.array if isinstance(out, chainer.Variable) else out


def predict(fn, *arrays, device=None, batchsize=1000, to_host=True):
    """``fn(*batch)`` over the rows of ``arrays``, concatenated along axis 0.

    Args:
        fn: called with one chunk of each array (sent to ``device``); returns a Variable or
            an array, or a tuple of them.
        arrays: NumPy/CuPy arrays with the same number of rows, or None (passed as None).
        device: a chainer device (``exp.device``); None keeps the arrays where they are.
        batchsize: rows per call.
        to_host: return NumPy (default) rather than arrays on ``device``.

    Returns an array, or a tuple of arrays when ``fn`` returns a tuple.
    """
    n = next(len(a) for a in arrays if a is not None)
    if any(a is not None and len(a) != n for a in arrays):
        raise ValueError('predict: arrays have different numbers of rows')
    send = device.send if device is not None else (lambda a: a)
    outputs = []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for start in range(0, n, batchsize):
            chunk = [None if a is None else send(a[start:start + batchsize]) for a in arrays]
            out = fn(*chunk)
            out = tuple(map(_to_array, out)) if isinstance(out, tuple) else (_to_array(out),)
            if to_host:
                out = tuple(chainer.backend.CpuDevice().send(o) for o in out)
            outputs.append(out)
    if not outputs:
        raise ValueError('predict: no rows to run')
    xp = chainer.backend.get_array_module(outputs[0][0])
    joined = tuple(xp.concatenate([o[i] for o in outputs]) for i in range(len(outputs[0])))
    return joined if len(joined) > 1 else joined[0]


def blas_threads():
    """The threads NumPy's BLAS may use now (``--threads``, ``OMP_NUM_THREADS``, threadpoolctl
    limits); 1 when threadpoolctl cannot tell. Elementwise work split by hand uses as many."""
    try:
        import threadpoolctl
        counts = [i['num_threads'] for i in threadpoolctl.threadpool_info()
                  if i.get('user_api') == 'blas' and 'numpy' in i.get('filepath', '')]
        return max(1, counts[0]) if counts else 1
    except ImportError:
        return 1
