"""Figure helpers shared by the experiments (matplotlib, Agg backend)."""
import io

import numpy as np
import matplotlib.pyplot as plt

import chainer


def _to_cpu(x):
    return chainer.backend.CpuDevice().send(x)


def tile(images, nrow, image_shape=(28, 28), pad=1, pad_value=1.0):
    """Arrange ``images`` (N, H*W) or (N, H, W) or (N, 1, H, W) into one (rows, cols) array."""
    images = np.asarray(_to_cpu(images), dtype=np.float32).reshape((-1,) + tuple(image_shape))
    n, h, w = images.shape
    ncol = nrow
    rows = int(np.ceil(n / float(ncol)))
    canvas = np.full((rows * (h + pad) + pad, ncol * (w + pad) + pad), pad_value, np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, ncol)
        canvas[pad + r * (h + pad):pad + r * (h + pad) + h,
               pad + c * (w + pad):pad + c * (w + pad) + w] = image
    return canvas


def image_grid(images, nrow, image_shape=(28, 28), ax=None, title=None):
    """Show images as a grid with ``nrow`` images per row; returns (fig, ax)."""
    canvas = tile(images, nrow, image_shape)
    if ax is None:
        scale = canvas.shape[1] / 80.0
        fig, ax = plt.subplots(figsize=(max(2.0, scale), max(2.0, scale * canvas.shape[0]
                                                             / canvas.shape[1])))
    else:
        fig = ax.figure
    ax.imshow(canvas, cmap='gray', vmin=0.0, vmax=1.0, interpolation='nearest')
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return fig, ax


def save_image_grid(path, images, nrow, image_shape=(28, 28), title=None):
    """Write a grid of images to ``path`` (PNG) and return the path."""
    from expkit.outputs import atomic_write
    fig, _ = image_grid(images, nrow, image_shape, title=title)
    atomic_write(path, lambda f: fig.savefig(f, format='png', dpi=100, bbox_inches='tight'))
    plt.close(fig)
    return path


def scatter_codes(ax, z, labels, title=None, n_classes=10, s=2, alpha=0.6):
    """2-D codes coloured by label (tab10), with a legend; the AAE/VAE latent figures."""
    z = np.asarray(_to_cpu(z))
    labels = np.asarray(_to_cpu(labels))
    cmap = plt.get_cmap('tab10' if n_classes <= 10 else 'tab20')
    for k in range(n_classes):
        sel = labels == k
        ax.scatter(z[sel, 0], z[sel, 1], s=s, alpha=alpha, color=cmap(k % cmap.N), label=str(k))
    ax.set_aspect('equal', adjustable='datalim')
    ax.legend(markerscale=4, fontsize=7, loc='upper right', ncol=2, framealpha=0.7)
    if title:
        ax.set_title(title)
    return ax


def save_gif(path, frames, duration_ms=300):
    """Animated GIF from a list of 2-D float arrays in [0, 1] (e.g. ``tile`` outputs)."""
    from PIL import Image
    from expkit.outputs import atomic_write
    images = [Image.fromarray((np.clip(f, 0, 1) * 255).astype(np.uint8)) for f in frames]

    def write(f):
        buf = io.BytesIO()
        images[0].save(buf, format='GIF', save_all=True, append_images=images[1:],
                       duration=duration_ms, loop=0)
        f.write(buf.getvalue())
    atomic_write(path, write)
    return path


def loss_plots(losses, own_scale=('main/loss_rec',)):
    """PlotReport files for the loss columns ``losses``: those in ``own_scale`` (a
    reconstruction cost, orders of magnitude above the adversarial ones) in loss_rec.png,
    the others in loss.png; a file with no column is left out."""
    plots = {'loss_rec.png': [k for k in losses if k in own_scale],
             'loss.png': [k for k in losses if k not in own_scale]}
    return {name: keys for name, keys in plots.items() if keys}


def log_points(trainer, key, scale=1.0):
    """``[(update, scale * value)]`` of the column ``key`` in the trainer's LogReport (the
    whole run: the log is part of a snapshot, so a resumed run keeps its earlier points)."""
    return [(e['iteration'], scale * e[key])
            for e in trainer.get_extension('LogReport').log if key in e]


def error_curve(trainer, n_curve, title, paper=None, final=None, marks=None, extra=None):
    """Test error (%) against updates, from the ``test/error`` column that
    :class:`expkit.extensions.TestError` writes on the first ``n_curve`` test images.
    ``paper`` ``(value %, label)``: the paper's number, a dashed line; ``final``
    ``(error %, n)``: the evaluation on all ``n`` test images at the last update, a dot;
    ``marks``: another run's points, as in :func:`metric_curve`; ``extra`` ``(key, label)``:
    a second error column of the same log (e.g. another labelling rule), a second line."""
    curve = log_points(trainer, 'test/error', 100)
    return metric_curve(
        curve, 'test error %% (first %d test images)' % n_curve, title=title,
        references=[paper] if paper else [],
        final=(curve[-1][0] if curve else 0, final[0], 'ours: all %d test images' % final[1])
        if final else None, marks=marks, logy=True,
        extra=(log_points(trainer, extra[0], 100), extra[1]) if extra else None)


def parzen_bandwidths(res, n_valid):
    """How the Gaussian Parzen window chose its bandwidth (the protocol of Goodfellow et al.
    2014, Table 1): the mean validation log-likelihood against sigma, the chosen sigma
    dashed; ``res``: :func:`evaluation.parzen.parzen_evaluate`'s result with ``n_valid``
    held-out images."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogx(res['sigmas'], res['valid_ll'], 'o-')
    ax.axvline(res['sigma'], color='gray', ls='--')
    ax.set_xlabel('Parzen bandwidth sigma')
    ax.set_ylabel('mean validation log-likelihood (nats)')
    ax.set_title('bandwidth selection on %d held-out training images' % n_valid)
    return fig


def metric_curve(points, ylabel, title=None, references=(), final=None, marks=None,
                 logy=False, extra=None):
    """A learning curve against updates: ``points`` [(update, value), ...]; ``references``
    [(value, label)] drawn as labelled horizontal lines (a paper's number, a baseline);
    ``final`` (update, value, label) as a marker (e.g. the final, more costly estimate);
    ``marks`` (label, [(update, value), ...]): another run's curve, as crosses; ``logy``: a
    log-scale y axis (errors from 90 % down to a few per cent); ``extra`` ([(update, value),
    ...], label): a second curve of the same run, a dotted line."""
    fig, ax = plt.subplots(figsize=(6, 4))
    if logy:                           # ticks at 1, 2, 5 x 10^k, written as plain numbers
        from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter
        ax.set_yscale('log')
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
    if points:
        x, y = zip(*points)
        ax.plot(x, y, '-', lw=1.2, label=ylabel)
    if extra and extra[0]:
        x, y = zip(*extra[0])
        ax.plot(x, y, ':', lw=1.2, color='C5', label=extra[1])
    for k, (value, label) in enumerate(references):
        ax.axhline(value, ls='--', lw=1, color='C%d' % (k + 1), label=label)
    if final is not None:
        ax.plot([final[0]], [final[1]], 'o', color='k', label=final[2])
    if marks:
        mx, my = zip(*marks[1])
        ax.plot(mx, my, 'x--', lw=0.8, ms=7, color='C4', label=marks[0])
    ax.set_xlabel('updates')
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig
