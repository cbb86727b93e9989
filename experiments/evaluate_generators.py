"""One table for every generator here: the papers' Parzen number beside a feature-space
distance, precision/recall and digit coverage (docs/results/generators.md).

Each NAME=RUN_DIR is a run folder whose samples.npz holds at least --n-samples images in
[0, 1] (every generator script writes 10,000 at the end of its run). Every row is scored the
same way:
* the frozen MNIST classifier (evaluation/features.py, its 128-D fc1 layer, weights checked
  by MD5) maps the samples and the test images to features;
* Fréchet distance of the samples' features to the test images' (Heusel et al. 2017, Eq. 6;
  --n-samples against all test images);
* improved precision and recall, k = 3 (Kynkäänniemi et al. 2019), against as many test
  images as samples;
* digit coverage: digits drawn (at least 1 % of the samples), KL of the predicted-digit
  histogram from uniform, the classifier's mean confidence;
* the exact Parzen-window log-likelihood of the test images (Goodfellow et al. 2014, Sec. 5;
  evaluation/parzen.py), sigma chosen on the validation split.
Two reference rows come first: --n-samples real training digits (the floor of FD, what a
perfect generator reaches) and the same digits blurred by 0.7 px (what Parzen rewards).
Writes results.json (one row per name), samples.png (ten samples of each row) and
fd_vs_parzen.png (the two orderings side by side).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import json
import os

import numpy as np

from expkit import Experiment, UsageError, make_parser, run_main, plots
from expkit.validate import at_most, positive_int

from evaluation.features import WEIGHTS_MD5, WeightsError, load_feature_net, run_net
from evaluation.parzen import parzen_evaluate
from evaluation.reference_samples import blurred
from evaluation.sample_quality import digit_coverage, frechet_distance, precision_recall

PAPER = {'source': 'Goodfellow et al. 2014 Table 1 and Makhzani et al. 2015 Table 1 report '
                   'Parzen only; FD (Heusel et al. 2017) and improved precision/recall '
                   '(Kynkaanniemi et al. 2019) are later metrics, ours on every model',
         'values': {'parzen_gan_goodfellow2014': '225 +- 2', 'parzen_aae_makhzani2015':
                    '340 +- 2'}}
REFERENCES = ('real training digits', 'blurred by 0.7 px')


def named_run(text):
    """NAME=RUN_DIR, RUN_DIR holding samples.npz."""
    name, sep, folder = text.partition('=')
    if not sep or not name or not folder:
        raise UsageError('runs are given as NAME=RUN_DIR, got %r' % text)
    if not os.path.isfile(os.path.join(folder, 'samples.npz')):
        raise UsageError('%s has no samples.npz: run its experiment script, which writes it '
                         'at the end of the run' % folder)
    return name, folder


def load_samples(name, folder, n):
    x = np.load(os.path.join(folder, 'samples.npz'))['x']
    x = x.reshape(len(x), -1).astype(np.float32)
    if x.shape[1] != 784:
        raise UsageError('%s: samples of %d pixels, not 28x28' % (name, x.shape[1]))
    if len(x) < n:
        raise UsageError('%s holds %d samples: rerun its script (it writes 10,000) or pass '
                         '--n-samples %d' % (folder, len(x), len(x)))
    if x.min() < -1e-6 or x.max() > 1 + 1e-6:
        raise UsageError('%s: samples outside [0, 1] (%.3g..%.3g)' % (folder, x.min(), x.max()))
    return x[:n]


def run_info(folder):
    """What the run's results.json says about it (partial or not, its command)."""
    path = os.path.join(folder, 'results.json')
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        r = json.load(f)
    keys = ('experiment', 'command', 'partial', 'stopped_at_iteration', 'planned_iterations')
    return {k: r.get(k) for k in keys}


def score(net, x, real_features, x_valid, x_test):
    feats, probs = run_net(net, x)
    pr = precision_recall(real_features[:len(x)], feats)
    parzen = parzen_evaluate(x, x_valid, x_test)
    return dict(fd=frechet_distance(feats, real_features), precision=pr['precision'],
                recall=pr['recall'], **digit_coverage(probs),
                parzen_nats=parzen['mean'], parzen_std_error=parzen['std_error'],
                parzen_sigma=parzen['sigma'], n_samples=len(x))


def main(argv=None):
    parser = make_parser(__doc__, script=__file__, epoch=1, batchsize=100,
                         out='results/evaluate_generators', validation=10000, trainer=False,
                         datasets=('mnist',), quick=dict(n_samples=500))
    parser.add_argument('runs', nargs='*', type=named_run, metavar='NAME=RUN_DIR',
                        help='run folders to score, each with samples.npz')
    parser.add_argument('--n-samples', type=positive_int, default=10000,
                        help='samples scored per row (default %(default)s, the papers\' Parzen '
                             'protocol)')
    args = parser.parse_args(argv)
    names = [name for name, _ in args.runs]
    if len(set(names) | set(REFERENCES)) != len(names) + len(REFERENCES):
        raise UsageError('row names must be unique and differ from %s' % ', '.join(REFERENCES))
    try:
        net = load_feature_net()
    except WeightsError as exc:
        raise UsageError(str(exc))
    exp = Experiment('evaluate_generators', args, paper=PAPER)
    net.to_device(exp.device)
    data = exp.load_data()
    x_train, _, x_test, _ = exp.train_test()
    x_valid = data.x_val if len(data.x_val) else x_train[-len(x_test):]
    n = at_most('--n-samples', args.n_samples, len(x_train), 'training images')
    samples = {name: load_samples(name, folder, n) for name, folder in args.runs}
    digits = x_train[:n]
    rows = dict([(REFERENCES[0], digits),
                 (REFERENCES[1], blurred(digits, data.image_shape, 0.7))], **samples)
    real_features = run_net(net, x_test)[0]
    info = dict(args.runs)
    measured = {}
    for name, x in rows.items():
        measured[name] = dict(score(net, x, real_features, x_valid, x_test),
                              run=info.get(name), **run_info(info[name]) if name in info else {})
        m = measured[name]
        print('%-22s FD %7.2f  P %.3f  R %.3f  digits %2d  KL %.3f  conf %.3f  Parzen %.1f'
              % (name, m['fd'], m['precision'], m['recall'], m['classes_drawn'],
                 m['kl_from_uniform'], m['confidence'], m['parzen_nats']))
    exp.savefig(samples_figure(rows), 'samples.png')
    exp.savefig(orderings_figure(measured), 'fd_vs_parzen.png')
    exp.finish({'rows': measured, 'order_by_fd': sorted(measured, key=lambda k:
                                                        measured[k]['fd']),
                'order_by_parzen': sorted(measured, key=lambda k: -measured[k]['parzen_nats'])},
               config={'feature_net_md5': WEIGHTS_MD5, 'n_test': int(len(x_test)),
                       'n_validation': int(len(x_valid)),
                       'protocol': '{:,} samples per row; FD against all {:,} test images; '
                                   'precision/recall (k = 3) against the first {:,} test '
                                   'images; Parzen: sigma chosen on the {:,} validation '
                                   'images, all test images'.format(
                                       n, len(x_test), min(n, len(x_test)), len(x_valid))})


def samples_figure(rows):
    """The first ten images of each row, the row's name beside them."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 0.8 * len(rows) + 0.2), squeeze=False)
    for ax, (name, x) in zip(axes[:, 0], rows.items()):
        plots.image_grid(x[:10], 10, ax=ax)
        ax.set_ylabel(name, rotation=0, ha='right', va='center', fontsize=9)
    fig.tight_layout()
    return fig


def orderings_figure(measured):
    """FD (lower is better) against Parzen (higher is better), one labelled point per row."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 5))
    for name, m in measured.items():
        ax.scatter(m['fd'], m['parzen_nats'], color='C1' if name in REFERENCES else 'C0')
        ax.annotate(name, (m['fd'], m['parzen_nats']), fontsize=8, xytext=(4, 3),
                    textcoords='offset points')
    ax.set_xscale('symlog', linthresh=1.0)
    ax.set_xlabel('Fréchet distance in the classifier\'s features (lower is better)')
    ax.set_ylabel('Parzen log-likelihood, nats (higher is better)')
    ax.set_title('Two orderings of the same samples')
    fig.tight_layout()
    return fig


if __name__ == '__main__':
    run_main(main)
