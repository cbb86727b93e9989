"""GLO on MNIST (Bojanowski et al. 2017, "Optimizing the Latent Space of Generative Networks",
arXiv:1707.05776): a DCGAN generator and one free code per training image, trained jointly by
plain SGD (lr 1 for the generator, 10 for the codes) on the Laplacian-pyramid L1 loss, codes
initialised by PCA and kept in the unit ball.

Trains one model per --z-dim entry with --loss, plus one with --compare-loss at the first d,
side by side on the same minibatches, and compares each with PCA of the same d (the linear
baseline: train and held-out MSE, a row in reconstructions.png). Figures: originals vs reconstructions for each d
(paper Figs. 1-3), Lap1 vs MSE reconstructions, samples from a full-covariance Gaussian
fitted to the codes (Fig. 4), interpolation (Fig. 5), code arithmetic (Fig. 6) and
class-conditional samples. Measured: reconstruction MSE / PSNR on training images (their
learned codes) and held-out test images (codes optimised with the generator fixed).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np

import chainer

from expkit import Experiment, make_parser, run_main, UsageError
from expkit.validate import (at_most, int_at_least, nonnegative_int, positive_float,
                             positive_int, positive_int_list)
from evaluation.metrics import mmd
from gan.dcgan import Generator
from glo import figures
from glo.initialization import INITS, initial_codes
from glo.latent import (class_means, decode, fit_gaussian, infer_codes, interpolate,
                        pca_reconstructions, sample_codes)
from glo.loss import LOSSES, WEIGHTS, make_loss, psnr
from glo.net import PROJECTIONS, LatentCodes, ProjectCodes, project
from glo.updater import GLOUpdater

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


def main(argv=None):
    parser = make_parser(__doc__, script=__file__, epoch=15, batchsize=128,
                         out='results/glo_mnist', datasets=('mnist', 'fashion-mnist'),
                         quick=dict(n_train=256, z_dim=(8, 16), n_heldout=16, infer_steps=2,
                                    n_samples=100, ch=32))
    add = parser.add_argument
    add('--loss', choices=LOSSES, default='lap1', help='reconstruction loss (default lap1)')
    add('--compare-loss', choices=LOSSES + ('none',), default='mse',
        help='second loss, trained at the first d for the side-by-side (default mse)')
    add('--z-dim', type=positive_int_list, default='100,512',
        help='code sizes d, comma-separated: one model each (default 100,512)')
    parser.add_alias('--dims', '--z-dim')
    add('--init', choices=INITS, default='pca', help='initial codes (default pca)')
    add('--projection', choices=PROJECTIONS, default='ball',
        help='keep codes in the unit ball (seed, default) or on the sphere (paper text)')
    add('--lr-gen', type=positive_float, default=1.0, help='SGD rate of the generator (paper: 1)')
    add('--lr-codes', type=positive_float, default=10.0, help='SGD rate of the codes (paper: 10)')
    add('--ch', type=int_at_least(2), default=128,
        help='channels of the DCGAN generator at 7x7, halved at each up-sampling (default '
             '%(default)s: 7x7x128 -> 14x14x64 -> 28x28x1, the DCGAN widths of gan/dcgan.py '
             'for 28x28; 64 was our earlier, narrower default)')
    add('--lap1-levels', type=nonnegative_int, default=3,
        help='Laplacian band-pass levels (default 3)')
    add('--lap1-sigma', type=positive_float, default=1.0, help='Gaussian blur sigma (default 1)')
    add('--lap1-weights', choices=WEIGHTS, default='mean',
        help="per-level weights: 'mean' (public reproductions, default) or 'seed' "
             "(2^-2j on the sums, finest level j=0); see glo/loss.py")
    add('--n-heldout', type=positive_int, default=500, help='test images to fit codes to (500)')
    add('--infer-steps', type=nonnegative_int, default=20, help='SGD steps per held-out code (20)')
    add('--infer-lr', type=positive_float, default=None,
        help='per-image SGD rate for held-out codes (default: %s by loss)' % INFER_LR)
    add('--n-samples', type=positive_int, default=1000,
        help='samples of the main model saved in samples.npz (default %(default)s)')
    args = parser.parse_args(argv)
    dims = list(args.z_dim)
    exp = Experiment('glo_mnist', args, paper=PAPER)
    data = exp.load_data()
    if tuple(data.image_shape) != (28, 28):
        raise UsageError('GLO uses the 28x28 DCGAN generator; %s has %s images'
                         % (data.name, data.image_shape))
    rng = np.random.RandomState(args.seed)
    x_train, y_train = data.x_train, data.y_train
    at_most('--n-heldout', args.n_heldout, len(data.x_test), 'test images')
    held = rng.choice(len(data.x_test), args.n_heldout, replace=False)
    x_held = data.x_test[held]
    lap1_options = dict(levels=args.lap1_levels, sigma=args.lap1_sigma,
                        weights=args.lap1_weights)

    # -- the models: (loss, d) pairs, each a generator + N codes + two SGD optimizers ----
    variants = [(args.loss, d) for d in dims]
    if args.compare_loss not in ('none', args.loss):
        variants.append((args.compare_loss, dims[0]))
    variants = list(dict.fromkeys(variants))     # --z-dim 100,100: one model
    models, loss_funcs, optimizers, start_codes = {}, {}, {}, {}
    for loss_name, d in variants:
        name = '%s_d%d' % (loss_name, d)
        try:
            z0, _ = initial_codes(args.init, x_train, d, args.projection, args.seed)
        except ValueError as exc:
            raise UsageError(str(exc))
        gen = Generator(n_hidden=d, out_size=28, out_ch=1, ch=args.ch,
                        out_activation='sigmoid')
        codes = LatentCodes(len(x_train), d, z0, projection=args.projection)
        start_codes[name] = z0
        gen.to_device(exp.device)
        codes.to_device(exp.device)
        optimizers[name + '/gen'] = chainer.optimizers.SGD(lr=args.lr_gen)     # lr 1
        optimizers[name + '/gen'].setup(gen)
        optimizers[name + '/codes'] = chainer.optimizers.SGD(lr=args.lr_codes)  # lr 10
        optimizers[name + '/codes'].setup(codes)
        optimizers[name + '/codes'].add_hook(ProjectCodes())   # z <- z / max(|z|, 1)
        models[name] = (gen, codes)
        loss_funcs[name] = make_loss(loss_name, **lap1_options)
    names = list(models)
    main_name = names[0]

    dataset = chainer.datasets.TupleDataset(x_train, np.arange(len(x_train), dtype=np.int32))
    iterator = exp.iterator(dataset)
    updater = GLOUpdater(iterator, models, loss_funcs, optimizers, device=exp.device)
    trainer = exp.train(
        updater, models={'%s_%s' % (n, part): link for n, (gen, codes) in models.items()
                         for part, link in (('gen', gen), ('codes', codes))},
        report=['%s/loss' % n for n in names],
        plots={'loss.png': ['%s/loss' % n for n in names],
               'train_mse.png': ['%s/mse' % n for n in names]},
        images_per_iteration=args.batchsize * len(models))

    # -- reconstructions: training codes, and held-out codes fitted with theta fixed ------
    cpu = chainer.backend.CpuDevice()
    d2 = ((x_held ** 2).sum(1)[:, None] - 2 * x_held @ x_train.T
          + (x_train ** 2).sum(1)[None, :])
    nearest = d2.argmin(axis=1)              # held-out codes start at the nearest training code
    last_log = trainer.get_extension('LogReport').log[-1]
    measured, rec_train, rec_held = {}, {}, {}
    for (loss_name, _), (name, (gen, codes)) in zip(variants, models.items()):
        z_train = cpu.send(codes.W.array)
        rec_train[name] = cpu.send(decode(gen, z_train))
        z_held = infer_codes(gen, x_held, loss_funcs[name], z_train[nearest],
                             steps=args.infer_steps, lr=args.infer_lr or INFER_LR[loss_name],
                             projection=args.projection)
        rec_held[name] = cpu.send(decode(gen, z_held))
        start = cpu.send(decode(gen, z_train[nearest]))
        z0 = start_codes[name]
        cosine = (z_train * z0).sum(1) / np.maximum(
            np.linalg.norm(z_train, axis=1) * np.linalg.norm(z0, axis=1), 1e-12)
        measured[name] = {
            'train_mse': float(((rec_train[name] - x_train) ** 2).mean()),
            'train_psnr_db': float(psnr(rec_train[name], x_train).mean()),
            'heldout_mse': float(((rec_held[name] - x_held) ** 2).mean()),
            'heldout_psnr_db': float(psnr(rec_held[name], x_held).mean()),
            'heldout_mse_before_fit': float(((start - x_held) ** 2).mean()),
            'final_epoch_objective': float(last_log['%s/loss' % name]),
            'code_move_from_init': float(np.linalg.norm(z_train - z0, axis=1).mean()),
            'code_cosine_to_init': float(cosine.mean()),
        }
        print('%-12s train MSE %.4f (PSNR %.2f dB)  held-out MSE %.4f (PSNR %.2f dB; '
              '%.4f at the nearest training code)' % (
                  name, measured[name]['train_mse'], measured[name]['train_psnr_db'],
                  measured[name]['heldout_mse'], measured[name]['heldout_psnr_db'],
                  measured[name]['heldout_mse_before_fit']))

    # -- the linear baseline with the same code sizes: PCA (training MSE is what GLO's
    #    codes optimise; PCA's is the best any rank-d affine map reaches)
    for d in dims:
        rec_train['pca_d%d' % d], rec_held['pca_d%d' % d] = pca_reconstructions(
            x_train, x_held, d, args.seed)
        measured['pca_d%d' % d] = {
            'train_mse': float(((rec_train['pca_d%d' % d] - x_train) ** 2).mean()),
            'train_psnr_db': float(psnr(rec_train['pca_d%d' % d], x_train).mean()),
            'heldout_mse': float(((rec_held['pca_d%d' % d] - x_held) ** 2).mean()),
            'heldout_psnr_db': float(psnr(rec_held['pca_d%d' % d], x_held).mean())}
        glo_name = '%s_d%d' % (args.loss, d)
        measured[glo_name]['train_mse_below_pca'] = bool(
            measured[glo_name]['train_mse'] < measured['pca_d%d' % d]['train_mse'])
        print('%-12s train MSE %.4f (PSNR %.2f dB)  held-out MSE %.4f (PSNR %.2f dB)' % (
            'pca_d%d' % d, measured['pca_d%d' % d]['train_mse'],
            measured['pca_d%d' % d]['train_psnr_db'], measured['pca_d%d' % d]['heldout_mse'],
            measured['pca_d%d' % d]['heldout_psnr_db']))

    show = rng.choice(len(x_train), 10, replace=False)
    rows = [('training\nimages', x_train[show])]
    rows += [('%s\nd=%d' % (loss, d), rec_train['%s_d%d' % (loss, d)][show])
             for loss, d in variants if loss == args.loss]
    rows += [('PCA\nd=%d' % dims[0], rec_train['pca_d%d' % dims[0]][show])]
    rows += [('held-out\nimages', x_held[:10])]
    rows += [('%s\nd=%d' % (loss, d), rec_held['%s_d%d' % (loss, d)][:10])
             for loss, d in variants if loss == args.loss]
    rows += [('PCA\nd=%d' % dims[0], rec_held['pca_d%d' % dims[0]][:10])]
    exp.savefig(figures.rows_figure(rows, title='GLO reconstructions (%s loss)' % args.loss),
                'reconstructions.png')
    compare = '%s_d%d' % (args.compare_loss, dims[0])
    if compare in models and compare != main_name:
        rows = [('training\nimages', x_train[show]),
                (args.loss, rec_train[main_name][show]),
                (args.compare_loss, rec_train[compare][show]),
                ('held-out\nimages', x_held[:10]),
                (args.loss, rec_held[main_name][:10]),
                (args.compare_loss, rec_held[compare][:10])]
        exp.savefig(figures.rows_figure(rows, title='%s vs %s, d=%d' % (
            args.loss, args.compare_loss, dims[0])), 'lap1_vs_mse.png')

    # -- the main model: samples, interpolation, arithmetic, conditional samples ---------
    gen, codes = models[main_name]
    z = cpu.send(codes.W.array)
    mean, cov = fit_gaussian(z)                                     # z ~ N(mu, Sigma)
    samples = cpu.send(decode(gen, sample_codes(mean, cov, args.n_samples, args.projection,
                                                args.seed)))
    exp.save_npz('samples.npz', x=samples)
    exp.save_npz('codes.npz', z=z, labels=y_train)
    exp.savefig(figures.grid_figure(samples[:100], 10, title='GLO samples, %s' % main_name),
                'samples.png')
    n_mmd = min(1000, len(samples), len(data.x_test), len(x_train))
    measured['sample_mmd_vs_test'] = float(mmd(samples[:n_mmd], data.x_test[:n_mmd]))
    measured['train_mmd_vs_test'] = float(mmd(x_train[:n_mmd], data.x_test[:n_mmd]))

    by_class = [np.flatnonzero(y_train == c) for c in range(10)]
    a = [idx[0] for idx in by_class[:8] if len(idx)]
    b = [by_class[(c + 1) % 10][1 % len(by_class[(c + 1) % 10])] for c in range(len(a))]
    path = interpolate(z[a], z[b], steps=10).reshape(-1, z.shape[1])   # (1 - a) z_1 + a z_2
    exp.savefig(figures.grid_figure(cpu.send(decode(gen, path)), 10,
                                    title='interpolation between training codes'),
                'interpolation.png')

    means = class_means(z, y_train)                                 # mean(z | y = c)
    src = [idx[2 % len(idx)] for idx in by_class[:8] if len(idx)]
    rows = []
    for i in src:
        moved = project(z[i] - means[y_train[i]] + means, args.projection)  # z_i - mu_y + mu_c
        rows.append(np.concatenate([x_train[i:i + 1], cpu.send(decode(gen, moved))]))
    exp.savefig(figures.grid_figure(np.concatenate(rows), 11, row_labels=[
        str(int(y_train[i])) for i in src],
        title='code arithmetic: x_i | decode(z_i - mean(z|y_i) + mean(z|c)), c = 0..9'),
        'arithmetic.png')

    conditional = []
    for c in range(10):
        zc = z[by_class[c]]
        mc, sc = fit_gaussian(zc)
        conditional.append(cpu.send(decode(gen, sample_codes(mc, sc, 10, args.projection,
                                                             args.seed + c))))
    exp.savefig(figures.grid_figure(np.concatenate(conditional), 10,
                                    row_labels=[str(c) for c in range(10)],
                                    title='class-conditional samples, N(mean, cov) per class'),
                'conditional.png')

    exp.finish(measured, config={
        'dims': dims, 'variants': names, 'n_train_used': int(len(x_train)),
        'n_heldout': int(len(x_held)),
        'infer_lr': {n: args.infer_lr or INFER_LR[v[0]] for n, v in zip(names, variants)},
        'generator': 'gan.dcgan.Generator(out_size=28, '
        'ch=%d, sigmoid)' % args.ch, 'lap1': lap1_options,
        'protocol': 'codes and generator trained on the training split; held-out = a seeded '
                    'subset of the test split, codes fitted with the generator fixed '
                    '(start: code of the nearest training image); MSE per pixel, PSNR per '
                    'image then averaged; decoding in test mode (batch-norm running stats)'})


if __name__ == '__main__':
    run_main(main)
