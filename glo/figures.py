"""The GLO paper's figures as labelled rows of images (matplotlib).

Bojanowski et al., arXiv:1707.05776: Fig. 1 / Figs. 2-3 (originals above reconstructions,
d = 100 and 512, Lap1 vs MSE), Fig. 4 (samples), Fig. 5 (interpolation), Fig. 6 (code
arithmetic). Each figure here is a column of labelled rows, one row per image set.
"""
import numpy as np
import matplotlib.pyplot as plt

import chainer

from expkit.plots import tile
from glo.latent import class_means, decode, fit_gaussian, interpolate, sample_codes
from glo.net import project


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


def reconstruction_figures(x_train, x_held, rec_train, rec_held, loss, compare, dims, show):
    """reconstructions.png (Figs. 1-3: training images ``show`` and the first held-out ones
    above their reconstructions by the ``loss`` models and PCA at the first d) and, when a
    ``compare`` loss was trained at the first d, lap1_vs_mse.png: {file name: figure}."""
    glo = [(d, rec_train['%s_d%d' % (loss, d)], rec_held['%s_d%d' % (loss, d)])
           for d in dict.fromkeys(dims)]
    pca = 'pca_d%d' % dims[0]
    rows = ([('training\nimages', x_train[show])] +
            [('%s\nd=%d' % (loss, d), rec[show]) for d, rec, _ in glo] +
            [('PCA\nd=%d' % dims[0], rec_train[pca][show]), ('held-out\nimages', x_held[:10])] +
            [('%s\nd=%d' % (loss, d), rec[:10]) for d, _, rec in glo] +
            [('PCA\nd=%d' % dims[0], rec_held[pca][:10])])
    figures = {'reconstructions.png': rows_figure(
        rows, title='GLO reconstructions (%s loss)' % loss)}
    main, other = '%s_d%d' % (loss, dims[0]), '%s_d%d' % (compare, dims[0])
    if other in rec_train and other != main:
        rows = [('training\nimages', x_train[show]), (loss, rec_train[main][show]),
                (compare, rec_train[other][show]), ('held-out\nimages', x_held[:10]),
                (loss, rec_held[main][:10]), (compare, rec_held[other][:10])]
        figures['lap1_vs_mse.png'] = rows_figure(
            rows, title='%s vs %s, d=%d' % (loss, compare, dims[0]))
    return figures


def latent_figures(gen, z, x_train, y_train, samples, name, projection, seed):
    """The main model's code space: samples.png (Fig. 4), interpolation.png (Fig. 5),
    arithmetic.png (Fig. 6) and conditional.png (a Gaussian per class): {file name: figure}."""
    cpu = chainer.backend.CpuDevice()
    figures = {'samples.png': grid_figure(samples[:100], 10, title='GLO samples, %s' % name)}
    by_class = [np.flatnonzero(y_train == c) for c in range(10)]
    a = [idx[0] for idx in by_class[:8] if len(idx)]
    b = [by_class[(c + 1) % 10][1 % len(by_class[(c + 1) % 10])] for c in range(len(a))]
    path = interpolate(z[a], z[b], steps=10).reshape(-1, z.shape[1])   # (1 - a) z_1 + a z_2
    figures['interpolation.png'] = grid_figure(cpu.send(decode(gen, path)), 10,
                                               title='interpolation between training codes')
    means = class_means(z, y_train)                                 # mean(z | y = c)
    src = [idx[2 % len(idx)] for idx in by_class[:8] if len(idx)]
    rows = []
    for i in src:
        moved = project(z[i] - means[y_train[i]] + means, projection)  # z_i - mu_y + mu_c
        rows.append(np.concatenate([x_train[i:i + 1], cpu.send(decode(gen, moved))]))
    figures['arithmetic.png'] = grid_figure(
        np.concatenate(rows), 11, row_labels=[str(int(y_train[i])) for i in src],
        title='code arithmetic: x_i | decode(z_i - mean(z|y_i) + mean(z|c)), c = 0..9')
    conditional = []
    for c in range(10):
        mc, sc = fit_gaussian(z[by_class[c]])
        conditional.append(cpu.send(decode(gen, sample_codes(mc, sc, 10, projection,
                                                             seed + c))))
    figures['conditional.png'] = grid_figure(
        np.concatenate(conditional), 10, row_labels=[str(c) for c in range(10)],
        title='class-conditional samples, N(mean, cov) per class')
    return figures


__all__ = ['rows_figure', 'grid_figure', 'reconstruction_figures', 'latent_figures']
