"""Which pixels condition Doersch's completion CVAE, and how they are fed.

Doersch 2016 Sec. 5.2 (Fig. 6) completes a digit from part of it.  The released code
(cdoersch/vae_tutorial ``mnist_cvae.prototxt``) slices the 28x28 image at columns 13 and 14
(``slice_point: 13, 14``): the centre column 13 (28 pixels) is the condition and the other
27 columns (756 pixels) are generated.  The condition is binarised noisily at every use:
``ArgMax`` over [uniform(0, 1), pixel] gives 1 exactly when pixel > u, a Bernoulli(pixel)
draw.  The tutorial text is ambiguous about halves, so left/right halves are options.
"""
import numpy as np
from chainer import backend
from chainer.backend import get_array_module
from chainer.dataset import concat_examples

CONDITIONS = ('center-column', 'left-half', 'right-half')


def condition_mask(condition='center-column', image_shape=(28, 28)):
    """Boolean (H*W,) mask of the conditioning pixels (row-major flattening)."""
    height, width = image_shape
    columns = np.arange(width)
    if condition == 'center-column':
        keep = columns == width // 2 - 1            # column 13 of 28 (Doersch's slice 13:14)
    elif condition == 'left-half':
        keep = columns < width // 2                 # columns 0..13
    elif condition == 'right-half':
        keep = columns >= width // 2                # columns 14..27
    else:
        raise ValueError('unknown condition %r (choose from %s)'
                         % (condition, ', '.join(CONDITIONS)))
    return np.broadcast_to(keep, (height, width)).reshape(-1).copy()


def split(x, mask):
    """(condition pixels, target pixels) of images x (N, H*W)."""
    mask = get_array_module(x).asarray(mask)
    return x[:, mask], x[:, ~mask]


def merge(condition, target, mask):
    """Inverse of :func:`split`: full images (N, H*W) from their two parts."""
    xp = get_array_module(condition, target)
    mask = xp.asarray(mask)
    out = xp.empty((len(condition), mask.size), dtype=target.dtype)
    out[:, mask] = condition
    out[:, ~mask] = target
    return out


def noisy_binarize(x):
    """Bernoulli(x) draw, fresh at every call (Doersch's ArgMax-over-uniform trick)."""
    xp = get_array_module(x)
    return (xp.random.uniform(0, 1, x.shape) < x).astype(x.dtype)


class CompletionConverter(object):
    """Minibatch converter: images -> (binarised condition pixels, grey target pixels)."""

    def __init__(self, mask):
        self.mask = mask
        self._on_device = {}       # the mask on each device it was used on, copied once

    def device_mask(self, x):
        """:attr:`mask` as an array on ``x``'s device (copied there on first use only)."""
        xp = get_array_module(x)
        key = (xp.__name__, str(backend.get_device_from_array(x)))
        if key not in self._on_device:
            self._on_device[key] = xp.asarray(self.mask)
        return self._on_device[key]

    def __call__(self, batch, device=None):
        x = concat_examples(batch, device)
        if isinstance(x, tuple):                    # (x, y) datasets: keep the images
            x = x[0]
        condition, target = split(x, self.device_mask(x))
        return noisy_binarize(condition), target
