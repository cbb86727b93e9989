"""Doersch's digit completion: a CVAE samples distinct digits from part of one, while a
deterministic regressor trained on the same task averages them into a blur (Doersch 2016,
"Tutorial on Variational Autoencoders", Sec. 5.2, Fig. 6).

As in the released code (cdoersch/vae_tutorial ``mnist_cvae.prototxt``,
``mnist_regressor.prototxt``, ``*_solver_adam.prototxt``): the condition is the centre column
(column 13, 28 pixels), binarised noisily at every use, and the other 27 columns are
generated; condition tower 1000-500-250-250 and encoder 1000-500-250 and decoder
250-500-1000 (ReLU), the condition added into the encoder's second and the decoder's first
layer; 30 latent dims with prior N(0, I); sigmoid cross-entropy on grey targets plus the KL;
Adam lr 1e-3 with weight decay 5e-4 on the weights, batch 100.  The regressor is the same
condition tower and decoder without z.  ``--condition left-half|right-half`` conditions on a
half instead (the tutorial text leaves this open).  The CVAE and the regressor are two
training stages ('main', then 'regressor'; each resumes from its own snapshot).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np
import chainer
from chainer import optimizers

from expkit import Experiment, make_parser, run_main
from expkit.validate import nonnegative_float, positive_float, positive_int
from vae import completion
from vae.loss import completion_bound, regressor_log_likelihood
from vae.net import CompletionCVAE, CompletionRegressor
from vae.updater import CompletionUpdater, add_weight_decay

PAPER = {'source': 'Doersch 2016, Sec. 5.2 and Fig. 6 (qualitative: the regressor blurs, '
                   'the CVAE samples distinct plausible digits); no numbers reported',
         'values': {}}


def make_optimizer(model, args):
    opt = optimizers.Adam(alpha=args.lr)
    opt.setup(model)
    add_weight_decay(model, args.weight_decay)            # weight_decay: 0.0005, W only
    return opt


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def evaluate(cvae, regressor, condition, target, n_samples, batch=500):
    """Test bound of the CVAE, cross-entropy of the regressor, and how the outputs differ."""
    to_cpu = chainer.backend.CpuDevice().send
    bounds, ces, spread, ent_cvae, ent_reg = [], [], [], [], []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for i in range(0, len(condition), batch):
            c, t = condition[i:i + batch], target[i:i + batch]
            log_p, kl = completion_bound(cvae, c, t)
            bounds.append(to_cpu((log_p - kl).array))
            ces.append(-to_cpu(regressor_log_likelihood(regressor, c, t).array))
            samples = np.stack([sigmoid(to_cpu(cvae.complete(c).array))
                                for _ in range(n_samples)])
            reg = sigmoid(to_cpu(regressor.complete(c).array))
            spread.append(samples.std(axis=0).mean(axis=1))
            ent_cvae.append(binary_entropy(samples).mean(axis=(0, 2)))
            ent_reg.append(binary_entropy(reg).mean(axis=1))
    return {
        'cvae_test_neg_bound': float(-np.concatenate(bounds).mean()),
        'regressor_test_cross_entropy': float(np.concatenate(ces).mean()),
        'cvae_sample_pixel_std': float(np.concatenate(spread).mean()),
        'cvae_mean_pixel_entropy_bits': float(np.concatenate(ent_cvae).mean()),
        'regressor_mean_pixel_entropy_bits': float(np.concatenate(ent_reg).mean()),
    }


def binary_entropy(p, eps=1e-7):
    p = np.clip(p, eps, 1 - eps)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


def completion_figure(truth, condition, mask, regressed, samples, pad=2):
    """Rows: one test digit each.  Columns: ground truth, regressor, CVAE samples.

    The conditioning pixels are drawn in colour, as in Doersch's figure: orange where the
    binarised condition is 1, blue where it is 0; generated pixels are grey.  One RGB canvas
    (a single ``imshow``) keeps this fast.
    """
    import matplotlib.pyplot as plt
    n_rows, n_cols = len(truth), samples.shape[0] + 2
    cond_rgb = np.where(condition[..., None] > 0.5, [1.0, 0.5, 0.0], [0.0, 0.0, 1.0])
    cond_rgb = cond_rgb * 0.5 + 0.5
    canvas = np.ones((n_rows * (28 + pad) + pad, n_cols * (28 + pad) + pad, 3))

    def rgb(row, generated):
        flat = np.repeat(completion.merge(condition[row:row + 1], generated[None], mask)
                         .reshape(-1, 1), 3, axis=1)
        flat[mask] = cond_rgb[row]
        return flat.reshape(28, 28, 3)

    for r in range(n_rows):
        images = [np.repeat(truth[r].reshape(28, 28, 1), 3, axis=2), rgb(r, regressed[r])]
        images += [rgb(r, samples[s, r]) for s in range(samples.shape[0])]
        for c, image in enumerate(images):
            y0, x0 = pad + r * (28 + pad), pad + c * (28 + pad)
            canvas[y0:y0 + 28, x0:x0 + 28] = image
    fig, ax = plt.subplots(figsize=(0.75 * n_cols + 0.5, 0.75 * n_rows + 0.6))
    ax.imshow(np.clip(canvas, 0, 1), interpolation='nearest')
    ax.set_xticks([pad + 14 + c * (28 + pad) for c in range(n_cols)])
    ax.set_xticklabels(['truth', 'regressor'] + ['CVAE %d' % (c + 1)
                                                 for c in range(n_cols - 2)], fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks([])
    ax.set_title('completion from the coloured pixels (orange = 1, blue = 0): the regressor '
                 'averages, the CVAE samples', fontsize=8, pad=18)
    return fig


def main(argv=None):
    parser = make_parser(__doc__, script=__file__, epoch=30, batchsize=100,
                         out='results/cvae_completion', quick=dict(n_train=300, n_test=200))
    parser.add_argument('--condition', choices=completion.CONDITIONS,
                        default='center-column',
                        help="pixels to condition on (default: Doersch's centre column)")
    parser.add_argument('--z-dim', type=positive_int, default=30,
                        help='latent dimensions (default %(default)s)')
    parser.add_setting('--lr', type=positive_float, default=1e-3,
                       help='Adam step size (default %(default)s)')
    parser.add_setting('--weight-decay', type=nonnegative_float, default=5e-4,
                       help='weight decay on the weights (default %(default)s)')
    parser.add_setting('--regressor-epoch', type=positive_int, default=None,
                       help='epochs of the regressor baseline (default: --epoch)')
    parser.default_from('regressor_epoch', lambda a: a.epoch, '--epoch')
    parser.more.add_argument('--samples', type=positive_int, default=6,
                             help='CVAE samples per digit (default %(default)s)')
    args = parser.parse_args(argv)
    exp = Experiment('cvae_completion', args, paper=PAPER, stages=['main', 'regressor'])
    data = exp.load_data()
    x_train, x_test = data.x_train, data.x_test

    mask = completion.condition_mask(args.condition, data.image_shape)
    n_cond = int(mask.sum())
    converter = completion.CompletionConverter(mask)
    cvae = CompletionCVAE(n_cond, mask.size - n_cond, args.z_dim)
    regressor = CompletionRegressor(n_cond, mask.size - n_cond)
    cvae.to_device(exp.device)
    regressor.to_device(exp.device)

    updater = CompletionUpdater(exp.iterator(x_train),
                                make_optimizer(cvae, args), converter=converter,
                                device=exp.device)
    exp.train(updater, models={'cvae': cvae}, report=['main/loss', 'main/rec', 'main/kl'],
              plots={'loss.png': ['main/loss', 'main/rec', 'main/kl']})

    reg_updater = CompletionUpdater(exp.iterator(x_train),
                                    make_optimizer(regressor, args), converter=converter,
                                    device=exp.device, regressor=True)
    exp.train(reg_updater, stage='regressor', models={'regressor': regressor},
              report=['main/loss'], stop=(args.regressor_epoch, 'epoch'))

    # Test conditions: one seeded noisy binarisation, shared by the CVAE and the regressor.
    cond_test, target_test = completion.split(x_test, mask)
    cond_test = (np.random.RandomState(1).uniform(size=cond_test.shape)
                 < cond_test).astype(np.float32)
    dev = exp.device.send
    measured = evaluate(cvae, regressor, dev(cond_test), dev(target_test), n_samples=10)
    print(measured)

    rows = np.array([int(np.flatnonzero(data.y_test == d)[0]) for d in range(10)])
    to_cpu = chainer.backend.CpuDevice().send
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        c = dev(cond_test[rows])
        regressed = sigmoid(to_cpu(regressor.complete(c).array))
        samples = np.stack([sigmoid(to_cpu(cvae.complete(c).array))
                            for _ in range(args.samples)])
    exp.savefig(completion_figure(x_test[rows], cond_test[rows], mask, regressed, samples),
                'completion.png')
    full = np.stack([completion.merge(cond_test[rows], s, mask) for s in samples])
    exp.save_npz('samples.npz', x=full.reshape(-1, mask.size),
                 regressor=completion.merge(cond_test[rows], regressed, mask),
                 condition=cond_test[rows], truth=x_test[rows])
    exp.finish(measured, config={
        'n_condition_pixels': n_cond,
        'protocol': 'train on %d grey images (condition binarised afresh per use); test on %d '
                    'test images with one seeded binarisation of the condition'
                    % (len(x_train), len(x_test)),
        'regressor_epoch': args.regressor_epoch})


if __name__ == '__main__':
    run_main(main)
