"""Disentangling style and content with a supervised adversarial autoencoder on MNIST.
Paper: Makhzani et al., "Adversarial Autoencoders" (arXiv:1511.05644), Sec. 4, Fig. 6-7.

The decoder gets the one-hot label y (content) and a 15-D code z = enc(x) (style); z is
matched to N(0, I) by the discriminator, so the label is the only place the digit identity
can come from. Writes styles.png (Fig. 7: each row takes the style z of the test image on
its left, each column is one digit y), samples.png (z ~ N(0, I) per row), loss_rec.png,
loss.png, codes.npz, samples.npz and results.json (reconstruction error with the true label
vs. a wrong one, MMD(z, prior)).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np

import chainer
from expkit import Experiment, make_parser, run_main, plots
from expkit.validate import positive_int

from aae.net import Decoder, Discriminator, Encoder, one_hot
from aae.priors import Prior, sample_prior
from aae.optim import LRDrops, make_optimizers
from aae.options import AAE_QUICK, add_aae_options, lr_drops, phase_lr
from aae.updater import LOSSES, AAEUpdater
from aae.evaluate import decode, encode, prior_mmd

N_CLASSES = 10


def main(argv=None):
    parser = make_parser(__doc__, script=__file__, epoch=50, batchsize=100,
                         out='results/aae_style', quick=AAE_QUICK)
    parser.add_argument('--z-dim', type=positive_int, default=15,
                        help='style code size (paper: 15)')
    add_aae_options(parser)
    args = parser.parse_args(argv)
    exp = Experiment('aae_style', args, paper={
        'source': 'Makhzani et al. 2015, arXiv:1511.05644, Sec. 4, Fig. 7 (qualitative: no '
                  'number is reported for this figure)',
        'values': {}})
    data = exp.load_data()
    x_train, y_train, x_test, y_test = exp.train_test()

    enc = Encoder(args.z_dim, x_train.shape[1], args.n_hidden)
    dec = Decoder(args.z_dim, x_train.shape[1], args.n_hidden, n_cond=N_CLASSES)
    dis = Discriminator(args.z_dim, args.n_hidden, output=args.dis_output,
                        noise_std=args.dis_noise)
    for link in (enc, dec, dis):
        link.to_device(exp.device)
    optimizers = make_optimizers(enc, dec, dis, args.optimizer, lr=phase_lr(args))
    it = exp.iterator(chainer.datasets.TupleDataset(x_train, y_train))
    nets = {'enc': enc, 'dec': dec, 'dis': dis}
    updater = AAEUpdater(it, optimizers, nets, Prior('gaussian', args.z_dim),
                         device=exp.device, n_classes=N_CLASSES, decoder_labels=True,
                         rec_loss=args.rec_loss)
    drops = LRDrops.for_run(updater, optimizers, lr_drops(args))
    exp.record('lr_schedule', drops.schedule)
    exp.train(updater, models=nets, report=LOSSES + ['main/d_real', 'main/d_fake'],
              plots=plots.loss_plots(LOSSES), extensions=[drops])

    z = encode(enc, x_test, exp.device)
    # Fig. 7: row r = style of test image r (first column), columns = y = 0..9
    rows = [int(np.flatnonzero(y_test == d)[0]) for d in range(N_CLASSES)]
    z_rows = np.repeat(z[rows], N_CLASSES, axis=0)
    y_cols = one_hot(np.tile(np.arange(N_CLASSES), len(rows)), N_CLASSES)
    styled = decode(dec, z_rows, y_cols, exp.device).reshape(len(rows), N_CLASSES, -1)
    grid = np.concatenate([x_test[rows][:, None], np.ones_like(x_test[rows])[:, None],
                           styled], 1).reshape(-1, x_test.shape[1])
    fig, _ = plots.image_grid(grid, N_CLASSES + 2, data.image_shape,
                              title='left: test image; right: dec(y, z_left) for y = 0..9')
    exp.savefig(fig, 'styles.png')
    z_prior = sample_prior('gaussian', 10, args.z_dim)[0]
    samples = decode(dec, np.repeat(z_prior, N_CLASSES, 0),
                     one_hot(np.tile(np.arange(N_CLASSES), 10), N_CLASSES), exp.device)
    fig, _ = plots.image_grid(samples, N_CLASSES, data.image_shape,
                              title='dec(y, z): rows share z ~ N(0, I), columns share y')
    exp.savefig(fig, 'samples.png')
    exp.save_npz('codes.npz', z=z, labels=y_test)
    exp.save_npz('samples.npz', x=samples, y=np.tile(np.arange(N_CLASSES), 10))

    # does the decoder use the label? error with the true label vs. a shifted (wrong) one
    err_true = ((decode(dec, z, one_hot(y_test, N_CLASSES), exp.device) - x_test) ** 2)
    wrong = (y_test + 1 + np.arange(len(y_test)) % (N_CLASSES - 1)) % N_CLASSES
    err_wrong = ((decode(dec, z, one_hot(wrong, N_CLASSES), exp.device) - x_test) ** 2)
    exp.finish(measured={
        'test_reconstruction_mse_per_pixel_true_label': float(err_true.mean()),
        'test_reconstruction_mse_per_pixel_wrong_label': float(err_wrong.mean()),
        **prior_mmd(z, 'gaussian', args.z_dim, seed=args.seed),
        'n_train_images': len(x_train), 'n_test_images': len(x_test),
    }, config={})


if __name__ == '__main__':
    run_main(main)
