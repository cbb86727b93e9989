"""Figures of the AAE paper (Makhzani et al., arXiv:1511.05644): what a trained AAE's codes
look like beside the prior (Figs. 2, 4, 11) and what its decoder does with them (Figs. 2e,
4, 9, 10 and Sec. 5's styles)."""
import numpy as np
import matplotlib.pyplot as plt

from aae.evaluate import decode
from aae.net import one_hot
from aae.priors import sample_prior
from expkit import plots


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
