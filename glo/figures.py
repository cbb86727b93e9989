"""The GLO paper's figures as labelled rows of images (matplotlib).

Bojanowski et al., arXiv:1707.05776: Fig. 1 / Figs. 2-3 (originals above reconstructions,
d = 100 and 512, Lap1 vs MSE), Fig. 4 (samples), Fig. 5 (interpolation), Fig. 6 (code
arithmetic). Each figure here is a column of labelled rows, one row per image set.
"""
import numpy as np
import matplotlib.pyplot as plt

from expkit.plots import tile


def rows_figure(rows, image_shape=(28, 28), title=None, scale=0.55):
    """``rows``: list of (label, images (n, H*W)) -> a figure with one labelled row each.

    A row with more images than the widest row's count wraps onto several lines.
    """
    ncol = max(len(images) for _, images in rows)
    canvases = [(label, tile(images, min(ncol, len(images)), image_shape))
                for label, images in rows]
    heights = [c.shape[0] for _, c in canvases]
    width = max(c.shape[1] for _, c in canvases)
    fig_w = scale * ncol + 1.6
    fig_h = fig_w * sum(heights) / float(width) * (scale * ncol) / fig_w + 0.25 * len(rows)
    fig, axes = plt.subplots(len(rows), 1, figsize=(fig_w, fig_h + (0.4 if title else 0)),
                             gridspec_kw={'height_ratios': heights}, squeeze=False)
    for ax, (label, canvas) in zip(axes[:, 0], canvases):
        ax.imshow(canvas, cmap='gray', vmin=0.0, vmax=1.0, interpolation='nearest')
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha='right', va='center', fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def grid_figure(images, nrow, image_shape=(28, 28), title=None, row_labels=None,
                scale=0.45):
    """A plain grid of images (``nrow`` per row), optionally with one label per row."""
    images = np.asarray(images)
    canvas = tile(images, nrow, image_shape)
    n_rows = int(np.ceil(len(images) / float(nrow)))
    fig_w = scale * nrow + (1.0 if row_labels else 0.2)
    fig, ax = plt.subplots(figsize=(fig_w, scale * n_rows + (0.4 if title else 0.1)))
    ax.imshow(canvas, cmap='gray', vmin=0.0, vmax=1.0, interpolation='nearest')
    ax.set_xticks([])
    if row_labels:
        h = image_shape[0] + 1
        ax.set_yticks([1 + h * i + image_shape[0] / 2.0 for i in range(len(row_labels))])
        ax.set_yticklabels(row_labels, fontsize=8)
    else:
        ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


__all__ = ['rows_figure', 'grid_figure']
