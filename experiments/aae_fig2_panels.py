"""Fig. 2 of Makhzani et al., "Adversarial Autoencoders" (arXiv:1511.05644) as the paper draws
it: the test codes of an AAE (top row) and of a VAE (bottom row) trained on MNIST, each with a
2-D Gaussian prior (left) and a mixture of 10 2-D Gaussians (right). The paper's point
(Sec. 3): the AAE's codes match both priors, while the VAE's leave gaps and miss the
mixture's shape.

It trains nothing: it reads the codes.npz and results.json of four finished runs of
``experiments/aae_gaussian.py`` (``--model aae|vae``, ``--prior gaussian|mixture``), by default
from their default output folders, and writes aae_vs_vae.png and results.json (each panel's
MMD² to its prior, beside the floor two prior samples score) to --out.

    python experiments/aae_gaussian.py --data-dir DIR
    python experiments/aae_gaussian.py --data-dir DIR --prior mixture
    python experiments/aae_gaussian.py --data-dir DIR --model vae
    python experiments/aae_gaussian.py --data-dir DIR --model vae --prior mixture
    python experiments/aae_fig2_panels.py
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import argparse
import json
import os

import matplotlib.pyplot as plt
import numpy as np

from expkit import plots, run_main
from expkit.cli import OneLineParser
from expkit.errors import UsageError
from expkit.outputs import atomic_write
from expkit.validate import readable_dir, writable_dir

from aae.priors import sample_prior

#: (row, column) of each panel: (model, prior) -> its aae_gaussian.py output folder
PANELS = {('aae', 'gaussian'): 'results/aae_gaussian',
          ('aae', 'mixture'): 'results/aae_gaussian_mixture',
          ('vae', 'gaussian'): 'results/aae_gaussian_vae',
          ('vae', 'mixture'): 'results/aae_gaussian_vae_mixture'}


def read_run(folder, model, prior):
    """(codes, labels, results) of one aae_gaussian.py run, checked to be the panel's."""
    paths = [os.path.join(folder, name) for name in ('codes.npz', 'results.json')]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise UsageError('%s: no %s; run experiments/aae_gaussian.py --model %s --prior %s '
                         'into it first' % (folder, ' or '.join(map(os.path.basename, missing)),
                                            model, prior))
    with open(paths[1]) as f:
        results = json.load(f)
    config = results.get('config', {})
    got = (config.get('model', 'aae'), config.get('prior'))
    if got != (model, prior):
        raise UsageError('%s holds a --model %s --prior %s run, not the --model %s --prior %s '
                         'panel; pass the right folder' % ((folder,) + got + (model, prior)))
    codes = np.load(paths[0])
    return codes['z'], codes['labels'], results


def main(argv=None):
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.script = __file__
    parser.validation_default = 0
    for (model, prior), folder in PANELS.items():
        parser.add_argument('--%s-%s' % (model, prior), type=readable_dir, metavar='DIR',
                            help='the --model %s --prior %s run (default %s)'
                                 % (model, prior, folder))
    parser.add_argument('--out', type=writable_dir, default='results/aae_fig2_panels',
                        help='output folder (default %(default)s)')
    args = parser.parse_args(argv)
    given = {('aae', 'gaussian'): args.aae_gaussian, ('aae', 'mixture'): args.aae_mixture,
             ('vae', 'gaussian'): args.vae_gaussian, ('vae', 'mixture'): args.vae_mixture}
    folders = {key: given[key] or default for key, default in PANELS.items()}
    runs = {key: read_run(folders[key], *key) for key in PANELS}

    fig, axes = plt.subplots(2, 2, figsize=(11, 11))
    summary = {}
    for (model, prior), (z, labels, results) in runs.items():
        ax = axes[int(model == 'vae'), int(prior == 'mixture')]
        m = results['measured']
        z_prior = sample_prior(prior, 20000, 2, rng=np.random.RandomState(0))[0]
        ax.scatter(z_prior[:, 0], z_prior[:, 1], s=1, color='lightgray', alpha=0.3)
        plots.scatter_codes(ax, z[:, :2], labels, title='%s, %s prior (grey: prior samples)\n'
                            'MMD² %.4f; prior vs prior %.4f ± %.4f' % (
                                model.upper(), prior, m['mmd2_codes_vs_prior'],
                                m['mmd2_prior_vs_prior'], m['mmd2_prior_vs_prior_sd']))
        ax.title.set_fontsize(10)
        lim = np.abs(np.percentile(z_prior, [0.5, 99.5])).max() * 1.4
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect('equal', adjustable='box')
        summary['%s_%s' % (model, prior)] = {
            'run': folders[model, prior], 'command': results.get('command'),
            'train_iterations': results.get('train_iterations'),
            **{k: m[k] for k in ('mmd2_codes_vs_prior', 'mmd2_prior_vs_prior',
                                 'mmd2_prior_vs_prior_sd', 'code_std',
                                 'test_reconstruction_mse_per_pixel')}}
    fig.suptitle('Fig. 2: test codes of the AAE (top) and the VAE (bottom), N(0, I) prior (left) '
                 'and 10-Gaussian mixture (right)')
    os.makedirs(args.out, exist_ok=True)
    atomic_write(os.path.join(args.out, 'aae_vs_vae.png'),
                 lambda f: fig.savefig(f, format='png', dpi=80, bbox_inches='tight'))
    plt.close(fig)
    text = json.dumps({'experiment': 'aae_fig2_panels', 'measured': summary}, indent=2)
    atomic_write(os.path.join(args.out, 'results.json'), lambda f: f.write(text.encode() + b'\n'))
    print('wrote %s' % os.path.join(args.out, 'aae_vs_vae.png'))
    return summary


if __name__ == '__main__':
    run_main(main)
