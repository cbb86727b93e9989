"""GLO on MNIST (Bojanowski et al. 2017, "Optimizing the Latent Space of Generative Networks",
arXiv:1707.05776): a DCGAN generator and one free code per training image, trained jointly by
plain SGD (lr 1 for the generator, 10 for the codes) on the Laplacian-pyramid L1 loss, codes
initialised by PCA and kept in the unit ball.

Trains one model per --z-dim entry with the loss setting, plus one with compare-loss at the
first d, side by side on the same minibatches, and compares each with PCA of the same d (the
linear baseline: train and held-out MSE, a row in reconstructions.png). Figures: originals
vs reconstructions for each d (paper Figs. 1-3), Lap1 vs MSE reconstructions, samples from a
full-covariance Gaussian fitted to the codes (Fig. 4), interpolation (Fig. 5), code
arithmetic (Fig. 6) and class-conditional samples. Measured: reconstruction MSE / PSNR on
training images (their learned codes) and held-out test images (codes optimised with the
generator fixed).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np

import chainer

from expkit import Experiment, make_parser, run_main, UsageError
from expkit.validate import (at_most, int_at_least, nonnegative_int, positive_float,
                             positive_int, positive_int_list)
from gan.dcgan import Generator
from glo import evaluate, figures
from glo.initialization import INITS
from glo.loss import LOSSES, WEIGHTS
from glo.net import PROJECTIONS
from glo.updater import GLOUpdater, make_models

PAPER = {
    'source': 'Bojanowski et al. 2017, arXiv:1707.05776, §3-4 and Figs. 1-6 (the paper '
              'reports no MNIST reconstruction numbers that this run can be compared with; '
              'its claims are qualitative)',
    'values': {
        'optimizer': 'SGD, lr 1 (generator) and 10 (codes)',
        'lap1_vs_mse': 'Lap1 reconstructions are sharper than MSE ones (Figs. 2-3)',
        'init': 'PCA initialisation of the codes trains faster than random (public '
                'reproductions: crucial)',
        'samples': 'decoded samples of a full-covariance Gaussian fitted to the codes look '
                   'like data (Fig. 4); interpolation and code arithmetic work (Figs. 5-6)',
    },
}


#: per-image SGD rate for held-out codes, by loss: picked on 200 other test images with the
#: 15-epoch models (the squared loss has smaller gradients than Lap1)
INFER_LR = {'lap1': 0.5, 'mse': 3.0, 'lap1+mse': 0.5}

#: --recipe (explicit options and --set win): ``figures`` (default) trains the paper's
#: figure set, the Lap1 models at d = 100 and 512 and an MSE model beside the first, 15
#: epochs; ``d100`` trains the Lap1 model at d = 100 alone for 10 epochs, our full-MNIST run.
RECIPES = {'figures': {}, 'd100': dict(z_dim=(100,), compare_loss='none', epoch=10)}


def parse(argv):
    parser = make_parser(__doc__, script=__file__, epoch=15, batchsize=128,
                         out='results/glo_mnist', datasets=('mnist', 'fashion-mnist'),
                         quick=dict(n_train=256, z_dim=(8, 16), n_heldout=16, infer_steps=2,
                                    n_samples=100, ch=32))
    add, more, setting = parser.add_argument, parser.more.add_argument, parser.add_setting
    setting('--loss', choices=LOSSES, default='lap1', help='reconstruction loss (default lap1)')
    setting('--compare-loss', choices=LOSSES + ('none',), default='mse',
            help='second loss, trained at the first d for the side-by-side (default mse)')
    add('--z-dim', type=positive_int_list, default='100,512',
        help='code sizes d, comma-separated: one model each (default 100,512)')
    setting('--init', choices=INITS, default='pca', help='initial codes (default pca)')
    setting('--projection', choices=PROJECTIONS, default='ball',
            help='keep codes in the unit ball (seed, default) or on the sphere (paper text)')
    setting('--lr-gen', type=positive_float, default=1.0,
            help='SGD rate of the generator (paper: 1)')
    setting('--lr-codes', type=positive_float, default=10.0,
            help='SGD rate of the codes (paper: 10)')
    setting('--ch', type=int_at_least(2), default=128,
            help='channels of the DCGAN generator at 7x7, halved at each up-sampling (default '
                 '%(default)s: 7x7x128 -> 14x14x64 -> 28x28x1, the DCGAN widths of gan/dcgan.py '
                 'for 28x28; 64 was our earlier, narrower default)')
    setting('--lap1-levels', type=nonnegative_int, default=3,
            help='Laplacian band-pass levels (default 3)')
    setting('--lap1-sigma', type=positive_float, default=1.0,
            help='Gaussian blur sigma (default 1)')
    setting('--lap1-weights', choices=WEIGHTS, default='mean',
            help="per-level weights: 'mean' (public reproductions, default) or 'seed' "
                 "(2^-2j on the sums, finest level j=0); see glo/loss.py")
    more('--n-heldout', type=positive_int, default=500, help='test images to fit codes to (500)')
    setting('--infer-steps', type=nonnegative_int, default=20,
            help='SGD steps per held-out code (20)')
    setting('--infer-lr', type=positive_float, default=None,
            help='per-image SGD rate for held-out codes (default: %s by loss)' % INFER_LR)
    more('--n-samples', type=positive_int, default=10000,
         help='samples of the main model saved in samples.npz (default %(default)s)')
    parser.add_recipe(RECIPES, 'figures',
                      help='figures (default): Lap1 at d = 100 and 512 and MSE beside, 15 '
                           'epochs; d100: Lap1 at d = 100 alone, 10 epochs (explicit options '
                           'and --set win)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    dims = list(args.z_dim)
    exp = Experiment('glo_mnist', args, paper=PAPER)
    data = exp.load_data()
    if tuple(data.image_shape) != (28, 28):
        raise UsageError('GLO uses the 28x28 DCGAN generator; %s has %s images'
                         % (data.name, data.image_shape))
    rng = np.random.RandomState(args.seed)
    x_train, y_train = data.x_train, data.y_train
    at_most('--n-heldout', args.n_heldout, len(data.x_test), 'test images')
    x_held = data.x_test[rng.choice(len(data.x_test), args.n_heldout, replace=False)]
    lap1_options = dict(levels=args.lap1_levels, sigma=args.lap1_sigma,
                        weights=args.lap1_weights)

    # the models: (loss, d) pairs, each a generator + N codes + two SGD optimizers
    variants = [(args.loss, d) for d in dims]
    if args.compare_loss not in ('none', args.loss):
        variants.append((args.compare_loss, dims[0]))
    variants = list(dict.fromkeys(variants))     # --z-dim 100,100: one model
    try:
        models, loss_funcs, optimizers, start_codes = make_models(
            variants, x_train, init=args.init, projection=args.projection, seed=args.seed,
            lr_gen=args.lr_gen, lr_codes=args.lr_codes, device=exp.device,
            generator=lambda d: Generator(n_hidden=d, out_size=28, out_ch=1, ch=args.ch,
                                          out_activation='sigmoid'), **lap1_options)
    except ValueError as exc:
        raise UsageError(str(exc))
    names = list(models)
    index = np.arange(len(x_train), dtype=np.int32)
    updater = GLOUpdater(exp.iterator(chainer.datasets.TupleDataset(x_train, index)), models,
                         loss_funcs, optimizers, device=exp.device)
    trainer = exp.train(
        updater, models={'%s_%s' % (n, part): link for n, (gen, codes) in models.items()
                         for part, link in (('gen', gen), ('codes', codes))},
        report=['%s/loss' % n for n in names],
        plots={'loss.png': ['%s/loss' % n for n in names],
               'train_mse.png': ['%s/mse' % n for n in names]},
        images_per_iteration=args.batchsize * len(models))

    # reconstructions: training codes, held-out codes fitted with theta fixed, and PCA
    infer_lr = {n: args.infer_lr or INFER_LR[loss] for n, (loss, _) in zip(names, variants)}
    last_log = trainer.get_extension('LogReport').log[-1]
    measured, rec_train, rec_held = evaluate.reconstructions(
        models, loss_funcs, infer_lr, start_codes, x_train, x_held, args.infer_steps,
        args.projection, {n: last_log['%s/loss' % n] for n in names})
    evaluate.pca_baseline(dims, x_train, x_held, args.seed, args.loss, measured, rec_train,
                          rec_held)
    show = rng.choice(len(x_train), 10, replace=False)
    for filename, fig in figures.reconstruction_figures(
            x_train, x_held, rec_train, rec_held, args.loss, args.compare_loss, dims,
            show).items():
        exp.savefig(fig, filename)

    # the main model: samples (Fig. 4), interpolation, arithmetic, conditional samples
    gen, codes = models[names[0]]
    z = chainer.backend.CpuDevice().send(codes.W.array)
    samples = evaluate.samples(gen, z, args.n_samples, args.projection, args.seed)
    exp.save_npz('samples.npz', x=samples)
    exp.save_npz('codes.npz', z=z, labels=y_train)
    measured.update(evaluate.sample_mmd(samples, x_train, data.x_test))
    for filename, fig in figures.latent_figures(gen, z, x_train, y_train, samples, names[0],
                                                args.projection, args.seed).items():
        exp.savefig(fig, filename)

    exp.finish(measured, config={
        'dims': dims, 'variants': names, 'n_train_used': int(len(x_train)),
        'n_heldout': int(len(x_held)), 'infer_lr': infer_lr,
        'generator': 'gan.dcgan.Generator(out_size=28, '
        'ch=%d, sigmoid)' % args.ch, 'lap1': lap1_options,
        'protocol': 'codes and generator trained on the training split; held-out = a seeded '
                    'subset of the test split, codes fitted with the generator fixed '
                    '(start: code of the nearest training image); MSE per pixel, PSNR per '
                    'image then averaged; decoding in test mode (batch-norm running stats)'})


if __name__ == '__main__':
    run_main(main)
