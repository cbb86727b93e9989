"""Figures of the AAE paper (Makhzani et al., arXiv:1511.05644): what a trained AAE's codes
look like beside the prior (Figs. 2, 4, 11) and what its decoder does with them (Figs. 2e,
4, 9, 10 and Sec. 5's styles)."""
import numpy as np
import matplotlib.pyplot as plt

from aae.evaluate import box_grid, decode, gaussian_percentile_grid
from aae.net import one_hot
from aae.priors import sample_prior
from expkit import plots


def codes_beside_prior(z, labels, z_prior, k_prior, title, prior_title, axis_names=False):
    """Figs. 2a/2c and 4: the codes ``z`` of test images coloured by digit (left) beside
    samples ``z_prior`` of the imposed prior (right; coloured by component ``k_prior``, or
    grey without one), on the same square axes; the first two dimensions of each.
    ``axis_names``: label the axes z1, z2."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
    plots.scatter_codes(axes[0], z[:, :2], labels, title=title)
    if k_prior is None:
        axes[1].scatter(z_prior[:, 0], z_prior[:, 1], s=2, alpha=0.5, color='gray')
        axes[1].set_aspect('equal', adjustable='datalim')
        axes[1].set_title(prior_title)
    else:
        plots.scatter_codes(axes[1], z_prior[:, :2], k_prior, title=prior_title)
    lim = max(np.abs(np.percentile(z_prior[:, :2], [0.5, 99.5])).max(),
              np.abs(np.percentile(z[:, :2], [0.5, 99.5])).max()) * 1.1
    for ax in axes:
        ax.set_aspect('equal', adjustable='box')
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        if axis_names:
            ax.set_xlabel('z1')
            ax.set_ylabel('z2')
    return fig


def manifold(dec, prior, z_prior, image_shape, device, n_grid=20):
    """Fig. 2e: the decoder of a 2-D code on an ``n_grid`` x ``n_grid`` grid, for the
    Gaussian prior at evenly spaced percentiles (5 % to 95 %) of each axis, for another
    prior on an even grid over the central 98 % of its samples ``z_prior``."""
    if prior == 'gaussian':
        grid = gaussian_percentile_grid(n_grid)
        title = 'decoder on the N(0, I) percentiles 5%..95% of z1, z2 (Fig. 2e)'
    else:
        lo, hi = np.percentile(z_prior, [1, 99])
        grid = box_grid(n_grid, lo, hi)
        title = 'decoder on a grid over the %s prior (z in [%.1f, %.1f]^2)' % (prior, lo, hi)
    fig, _ = plots.image_grid(decode(dec, grid, device=device), n_grid, image_shape,
                              title=title)
    return fig


def component_samples(dec, prior, image_shape, device, n_classes=10, n_col=12):
    """Fig. 4: the decoder on ``n_col`` samples of each component (or slice) of the prior,
    row k = component k. Returns (figure, images, their component)."""
    comp = np.repeat(np.arange(n_classes), n_col)
    images = decode(dec, sample_prior(prior, len(comp), 2, labels=comp,
                                      n_classes=n_classes)[0], device=device)
    fig, _ = plots.image_grid(images, n_col, image_shape,
                              title='decoder(z), z from component k (row k)')
    return fig, images, comp


def styles(dec, z_dim, n_classes, image_shape, device, n_rows=10):
    """Sec. 5's disentanglement: row r = one style z ~ N(0, I), column c = one-hot y = c.
    Returns (figure, images, their y)."""
    z_rows = np.repeat(sample_prior('gaussian', n_rows, z_dim)[0], n_classes, axis=0)
    y_cols = one_hot(np.tile(np.arange(n_classes), n_rows), n_classes)
    images = decode(dec, z_rows, y_cols, device)
    fig, _ = plots.image_grid(images, n_classes, image_shape,
                              title='decoder(y, z): rows share z (style), columns share y')
    return fig, images, y_cols.argmax(1)


def cluster_heads(dec, z_dim, clusters, x_test, mapping, image_shape, device, seed,
                  n_show=8):
    """Fig. 9: top row = the cluster heads dec(z = 0, y = e_i); below each, test images of
    cluster i (``clusters``: each test image's cluster; ``mapping``: cluster -> label).
    Returns (figure, heads)."""
    k = len(mapping)
    heads = decode(dec, np.zeros((k, z_dim), np.float32), np.eye(k, dtype=np.float32), device)
    rng = np.random.RandomState(seed)
    columns = []
    for i in range(k):
        pick = rng.permutation(np.flatnonzero(clusters == i))[:n_show]
        col = np.ones((n_show + 1, x_test.shape[1]), np.float32)     # blank if too few
        col[0] = heads[i]
        col[1:1 + len(pick)] = x_test[pick]
        columns.append(col)
    grid = np.stack(columns, 1).reshape(-1, x_test.shape[1])        # row-major: row 0 = heads
    fig, ax = plt.subplots(figsize=(k * 0.45 + 0.5, (n_show + 1) * 0.45 + 0.8))
    plots.image_grid(grid, k, image_shape, ax=ax)
    ax.set_title('%d clusters: heads dec(z=0, y=e_i) (top row), test images of each cluster\n'
                 'cluster label (Sec. 6 rule): %s' % (
                     k, ' '.join(str(mapping[i]) for i in range(k))), fontsize=8)
    return fig, heads


def head_images(dec, n_heads, z_dim, image_shape, device):
    """Sec. 7 / Fig. 10: the decoder at each cluster head (z = 0, y = e_i), a row of at most
    10 images each. Returns (figure, images)."""
    images = decode(dec, np.zeros((n_heads, z_dim), np.float32),
                    np.eye(n_heads, dtype=np.float32), device)
    fig, _ = plots.image_grid(images, min(n_heads, 10), image_shape,
                              title='decoder at each cluster head (z = 0, y = e_i)')
    return fig, images


def representations(rep, labels, heads, subtitle):
    """Fig. 11: the 2-D representations W y + z of the test images coloured by digit, the
    cluster heads (the columns of W) as black crosses; ``subtitle``: the run in a line."""
    fig, ax = plt.subplots(figsize=(6.5, 6.2))
    plots.scatter_codes(ax, rep, labels, s=1.5)
    ax.scatter(heads[:, 0], heads[:, 1], marker='x', s=60, color='k', label='heads')
    ax.set_title('2-D AAE representation W y + z of %d test images\n%s' % (len(rep), subtitle),
                 fontsize=9)
    ax.set_xlabel('r1')
    ax.set_ylabel('r2')
    return fig
