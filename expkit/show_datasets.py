"""Draw what the datasets module provides, to check it by eye (it lives in expkit, beside the
other plotting, so that datasets/ imports nothing of the project above it):

    python -m expkit.show_datasets docs/figures/datasets_samplers.png [--data-dir DIR]

Top row: the AAE priors (Gaussian, 10-component mixture, swiss roll; colour = label) and the
GAN toy data (8-Gaussian ring, 25-Gaussian grid, 2-D swiss roll).  Bottom row: 50 MNIST
training digits as loaded, their static and dynamic binarizations, and 50 test digits.
"""
import argparse
import textwrap
import warnings

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from datasets import DataWarning, load  # noqa: E402
from datasets import toy  # noqa: E402
from datasets.binarize import binarize_dynamic, binarize_static  # noqa: E402
from datasets.priors import (sample_gaussian, sample_gaussian_mixture,  # noqa: E402
                             sample_swiss_roll)


def figure(data, seed=0):
    from expkit import plots
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(2, 6, figsize=(18, 6.4))
    n = 5000
    labels = rng.integers(0, 10, n)
    z = sample_gaussian(n, 2, rng=rng)
    plots.scatter_codes(axes[0, 0], z, labels, title='Gaussian prior N(0, I)')
    z, k = sample_gaussian_mixture(n, 10, labels=labels, rng=rng)
    plots.scatter_codes(axes[0, 1], z, k, title='mixture of 10 Gaussians (label = k)')
    z, k = sample_swiss_roll(n, 10, labels=labels, rng=rng)
    plots.scatter_codes(axes[0, 2], z, k, title='swiss-roll prior (label = slice)')
    for ax, (name, x) in zip(axes[0, 3:], [
            ('ring: 8 modes, std %.2f' % toy.RING_STD, toy.sample_ring(2500, rng)),
            ('grid: 25 modes, std %.2f' % toy.GRID_STD, toy.sample_grid(2500, rng)),
            ('2-D swiss roll (WGAN-GP toy)', toy.sample_swiss_roll_2d(2500, rng))]):
        ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.5, color='k')
        ax.set_title(name, fontsize=9)
        ax.set_aspect('equal')
    shape = data.image_shape
    x = data.x_train[:50]
    for ax, (name, images) in zip(axes[1, :4], [
            ('train (%s)' % data.info['name'], x),
            ('static threshold 0.5', binarize_static(x)),
            ('dynamic Bernoulli draw', binarize_dynamic(x, np.random.default_rng(seed))),
            ('test', data.x_test[:50])]):
        plots.image_grid(images, 10, shape, ax=ax)
        ax.set_title(name, fontsize=9)
    for ax in axes[1, 4:]:
        ax.axis('off')
    axes[1, 4].text(0, 0.5, '{}: {} train / {} test\n{}'.format(
        data.info['name'], data.info['n_train'], data.info['n_test'],
        textwrap.fill(data.info['protocol'], 50)), fontsize=9, va='center')
    for ax in axes[0, :3]:
        ax.set_aspect('equal')
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', help='PNG file to write')
    parser.add_argument('--dataset', default='mnist')
    parser.add_argument('--data-dir', default=None)
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DataWarning)              # printed on stderr anyway
        data = load(args.dataset, data_dir=args.data_dir)
    fig = figure(data)
    fig.savefig(args.out, dpi=60)
    print('wrote', args.out)


if __name__ == '__main__':
    main()
