"""What the Parzen-window number of GAN Table 1 and AAE Table 1 rewards, on real digits.
Papers: Goodfellow et al. 2014 (Sec. 5, Table 1) and Makhzani et al. 2015 (Sec. 3, Table 1)
score a generator by the mean log-likelihood of the MNIST test images under a Gaussian
Parzen window on its samples, the bandwidth chosen on a validation split.

This script gives the reference rows for those numbers (ours, a diagnostic): instead of a
model's samples, the window is put on --n-samples real training digits, on the same digits
blurred by a Gaussian of 0.7 and 1 pixel, and on their reconstructions from the first 32
principal components of the training set. Each row is scored twice: by the exact evaluator
(evaluation.parzen, the sum over every kernel) on all test images, and by scikit-learn's
KernelDensity (evaluation.parzen.sklearn_parzen_log_likelihood), the evaluator some public
reproductions report, on the first --n-sklearn test images, at the same bandwidth. Writes
samples.png (a row of each kind) and results.json.
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np

from expkit import Experiment, make_parser, plots, run_main
from expkit.validate import at_most, positive_int

from evaluation.parzen import parzen_evaluate, sklearn_parzen_log_likelihood
from evaluation.reference_samples import blurred, pca_reconstructions

PAPER = {'source': 'Goodfellow et al. 2014 Table 1 (GAN 225 +- 2 nats), Makhzani et al. 2015 '
                   'Table 1 (AAE 340 +- 2); the rows here are references, not models',
         'values': {}}


def main(argv=None):
    parser = make_parser(__doc__, script=__file__, epoch=1, batchsize=100,
                         out='results/parzen_reference', validation=10000, trainer=False,
                         quick=dict(n_samples=300, n_sklearn=50))
    parser.add_argument('--n-samples', type=positive_int, default=10000,
                        help='training digits the window is put on (default %(default)s, as '
                             'many as the papers\' model samples)')
    parser.more.add_argument('--n-sklearn', type=positive_int, default=1000,
                             help='test images scored by scikit-learn\'s KernelDensity (default '
                                  '%(default)s; it is slow)')
    args = parser.parse_args(argv)
    exp = Experiment('parzen_reference', args, paper=PAPER)
    data = exp.load_data()
    x_train, _, x_test, _ = exp.train_test()
    x_val = data.x_val if len(data.x_val) else x_train[-len(x_test):]
    at_most('--n-samples', args.n_samples, len(x_train), 'training images')
    digits = x_train[:args.n_samples]
    rows = {'real training digits': digits,
            'blurred by 0.7 px': blurred(digits, data.image_shape, 0.7),
            'blurred by 1 px': blurred(digits, data.image_shape, 1.0),
            'PCA-32 reconstructions': pca_reconstructions(x_train, digits, 32, args.seed)}
    measured, n_sk = {}, min(args.n_sklearn, len(x_test))
    for name, samples in rows.items():
        exact = parzen_evaluate(samples, x_val, x_test)
        sk = sklearn_parzen_log_likelihood(x_test[:n_sk], samples, exact['sigma'])
        measured[name] = {'parzen_test_ll_nats': exact['mean'],
                          'parzen_test_ll_std_error': exact['std_error'],
                          'sigma': exact['sigma'], 'valid_ll': exact['valid_ll'],
                          'sklearn_test_ll_nats': float(sk.mean()),
                          'sklearn_n_test': n_sk}
        print('%-24s exact %.1f +- %.1f (sigma %.3f)   sklearn KernelDensity %.1f' % (
            name, exact['mean'], exact['std_error'], exact['sigma'], sk.mean()))
    fig, _ = plots.image_grid(np.concatenate([r[:10] for r in rows.values()]), 10,
                              data.image_shape, title='rows: ' + '; '.join(rows))
    exp.savefig(fig, 'samples.png')
    exp.finish(measured={'rows': measured, 'n_samples': len(digits), 'n_test': len(x_test),
                         'n_validation': len(x_val)},
               config={'protocol': 'bandwidth by the mean validation log-likelihood over '
                                   'evaluation.parzen.DEFAULT_SIGMAS; exact evaluator on all '
                                   'test images; scikit-learn on the first %d' % n_sk})


if __name__ == '__main__':
    run_main(main)
