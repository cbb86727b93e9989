"""AAE whose regularisation uses label information (a fraction of MNIST is labelled).
Paper: Makhzani et al., "Adversarial Autoencoders" (arXiv:1511.05644), Sec. 2.3, Fig. 3-4.

The discriminator also gets a one-hot vector with 11 slots: the digit for a labelled image,
slot 11 ("unlabelled") otherwise. For a labelled image of digit k the "real" sample comes
from component k of the prior (a mixture of 10 2-D Gaussians, Fig. 4 top, or slice k of a
swiss roll, Fig. 4 bottom); unlabelled images are matched to the whole prior. About 20 % of
the training set is labelled (Fig. 4: 10K labelled, 40K unlabelled).

Settings: the paper gives none for this figure that we could find, so the defaults are the
seed code's (musyoku/adversarial-autoencoder, run/semi-supervised/regularize_z/train.py):
Adam(1e-4, beta1 = 0.5) with gradient clipping 5, the mean squared reconstruction error, and
N(0, 0.3^2) noise on the discriminator's input. ``--set optimizer=sgd`` gives the SGD settings
of the paper's likelihood experiments (on 5,000 digits, 6.3 % of test codes on their own
component against 74.3 % with the default; 93.8 % with the default on full MNIST;
docs/results/aae.md). ``--recipe mixture`` (default) runs Fig. 4 top for 20 epochs;
``--recipe swissroll`` runs Fig. 4 bottom with our best settings for it (no noise on D's
input, every step size / 10 after 20,000 and 40,000 updates, 100 epochs). Writes codes.png (test
codes by digit beside prior samples by component), samples.png (one row per component),
loss_rec.png, loss.png, codes.npz, samples.npz and results.json (the fraction of test codes
lying on their own digit's component/slice, the MMD² of the codes to the prior and of each
digit's codes to its own component, each beside the prior-against-prior floor, the distance
of the codes to the prior's support beside the same floor, reconstruction error; and,
under ``train_codes``, the same scores on as many training codes, labelled and unlabelled).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np

import chainer
from expkit import Experiment, make_parser, run_main, plots
from expkit.validate import probability

from datasets.semisup import split_labelled
from aae import figures
from aae.net import Decoder, Discriminator, Encoder
from aae.priors import Prior, sample_prior
from aae.optim import LRDrops, make_optimizers
from aae.options import AAE_QUICK, add_aae_options, lr_drops, phase_lr
from aae.updater import LOSSES, AAEUpdater
from aae.evaluate import (encode, own_component_scores, prior_distance, prior_mmd,
                          reconstruction_errors, training_code_scores)

DEFAULT_OUT = 'results/aae_label_prior'
N_CLASSES = 10

#: --recipe: the settings of our best run for each half of Fig. 4 (explicit options and --set
#: win)
#:
#: * ``mixture`` (default): the seed's regularize_z (Adam, noise 0.3 on D's input), 20
#:   epochs: 93.8 % of test codes on their own component (docs/results/aae.md);
#: * ``swissroll``: Fig. 4 bottom; no noise on D's input, every step size / 10 after 20,000
#:   and 40,000 updates (ours), 100 epochs: 82.1 % in their own slice.
RECIPES = {
    'mixture': dict(prior='mixture', epoch=20),
    'swissroll': dict(prior='swissroll', dis_noise=0.0, epoch=100,
                      lr_drop_updates=(20000, 40000)),
}

PAPER = {'source': 'Makhzani et al. 2015, arXiv:1511.05644, Sec. 2.3, Fig. 4 (qualitative: '
                   'no number is reported for this figure)', 'values': {}}


def parse(argv):
    parser = make_parser(__doc__, script=__file__, epoch=50, batchsize=100, out=DEFAULT_OUT,
                         quick=AAE_QUICK)
    parser.default_from('out', lambda a: DEFAULT_OUT + ('' if a.prior == 'mixture' else
                                                        '_' + a.prior),
                        DEFAULT_OUT + ', or ' + DEFAULT_OUT + '_swissroll with that --prior')
    parser.add_argument('--prior', choices=['mixture', 'swissroll'], default='mixture',
                        help='Fig. 4 top (mixture, default) or bottom (swissroll)')
    parser.add_setting('--labelled-fraction', type=probability, default=0.2, metavar='F',
                       help='fraction of training images with labels (default %(default)s)')
    # the seed's regularize_z: Adam(1e-4, beta1 0.5), clipping 5, GaussianNoise(0.3) on D
    add_aae_options(parser, dis_noise=0.3, optimizer='adam')
    parser.add_recipe(RECIPES, 'mixture',
                      help='mixture (default): Fig. 4 top, the seed\'s Adam with noise 0.3 on '
                           'D, 20 epochs; swissroll: Fig. 4 bottom, no D noise, lr / 10 after '
                           '20,000 and 40,000 updates, 100 epochs (explicit options and '
                           '--set win)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    exp = Experiment('aae_label_prior', args, paper=PAPER)
    data = exp.load_data()
    x_train, y_train, x_test, y_test = exp.train_test()

    # labelled images keep their digit, the others get label K = "unlabelled" (Fig. 3)
    n_labelled = int(round(args.labelled_fraction * len(x_train)))
    labelled_idx, _ = split_labelled(y_train, n_labelled, seed=args.seed)
    labels = np.full(len(x_train), N_CLASSES, dtype=np.int32)
    labels[labelled_idx] = y_train[labelled_idx]

    enc = Encoder(2, x_train.shape[1], args.n_hidden)
    dec = Decoder(2, x_train.shape[1], args.n_hidden)
    dis = Discriminator(2, args.n_hidden, output=args.dis_output, noise_std=args.dis_noise,
                        n_cond=N_CLASSES + 1)
    for link in (enc, dec, dis):
        link.to_device(exp.device)
    optimizers = make_optimizers(enc, dec, dis, args.optimizer, lr=phase_lr(args))

    it = exp.iterator(chainer.datasets.TupleDataset(x_train, labels))
    nets = {'enc': enc, 'dec': dec, 'dis': dis}
    # component = label; label K (unlabelled) -> a random component
    updater = AAEUpdater(it, optimizers, nets, Prior(args.prior, 2, n_classes=N_CLASSES),
                         device=exp.device, n_classes=N_CLASSES, label_prior=True,
                         rec_loss=args.rec_loss)
    drops = LRDrops.for_run(updater, optimizers, lr_drops(args))
    exp.record('lr_schedule', drops.schedule)
    exp.train(updater, models=nets, report=LOSSES + ['main/d_real', 'main/d_fake'],
              plots=plots.loss_plots(LOSSES), extensions=[drops])

    # --- Fig. 4: test codes by digit, beside the prior by component
    z = encode(enc, x_test, exp.device)
    z_prior, k_prior = sample_prior(args.prior, len(z), 2, n_classes=N_CLASSES)
    exp.savefig(figures.codes_beside_prior(
        z, y_test, z_prior, k_prior, 'codes of %d test images, by digit (%d %% of training '
        'labelled)' % (len(z), round(100 * args.labelled_fraction)),
        'prior samples, by component'), 'codes.png')
    # --- decoder on samples of each component: row k = component k
    fig, samples, comp = figures.component_samples(dec, args.prior, data.image_shape,
                                                   exp.device, N_CLASSES)
    exp.savefig(fig, 'samples.png')
    exp.save_npz('codes.npz', z=z, labels=y_test)
    exp.save_npz('samples.npz', x=samples, component=comp)
    mse, sse = reconstruction_errors(enc, dec, x_test, exp.device)

    # ours: the same scores on as many training codes, split by whether D saw the label
    idx = np.random.RandomState(args.seed).permutation(len(x_train))[:len(x_test)]
    train_codes = training_code_scores(encode(enc, x_train[idx], exp.device), y_train[idx],
                                       labels[idx] < N_CLASSES, args.prior, args.seed,
                                       N_CLASSES)
    exp.finish(measured={
        **own_component_scores(z, y_test, args.prior, N_CLASSES),
        'test_reconstruction_mse_per_pixel': mse,
        'test_reconstruction_sse_per_image': sse,
        # codes against the whole prior, and class k's codes against component/slice k
        **prior_mmd(z, args.prior, 2, seed=args.seed, labels=y_test, n_classes=N_CLASSES),
        # ours: codes off the prior's support (e.g. between the roll's turns) vs the floor
        **prior_distance(z, args.prior, 2, seed=args.seed, n_classes=N_CLASSES),
        'train_codes': train_codes,
        'n_labelled': int(n_labelled), 'n_train_images': len(x_train),
        'n_test_images': len(x_test),
    }, config={'prior': args.prior,
               'component_rule': 'mixture: nearest component by angle; swissroll: slice by '
                                 'radius (u = (r/3)^2)'})


if __name__ == '__main__':
    run_main(main)
