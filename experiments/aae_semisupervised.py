"""Semi-supervised MNIST classification with an adversarial autoencoder.
Paper: Makhzani et al., "Adversarial Autoencoders" (arXiv:1511.05644), Sec. 5, Fig. 8,
Table 2 (MNIST: 1.90 +- 0.10 % error with 100 labels, 1.60 +- 0.08 % with 1000, 0.85 +-
0.02 % with all).

The encoder gives a categorical code y = softmax (10 classes) and a style code z; one
discriminator matches y to Cat(10) (one-hot samples), another matches z to N(0, I); the
decoder reconstructs x from [y, z]. ``--recipe`` (aae/options.py) picks the settings:
``balanced-bn`` (default, ours, our best recorded runs: ``balanced`` with batch
normalisation in the encoder, its (y logits, z) output included, and the decoder, as one
public transcription of the appendix's model has it), ``balanced`` (ours: one Adam per
phase with alpha 1e-3 for the adversarial phases too, every alpha / 10 after 25,000
updates, noise 0.3 on the encoder's and the discriminators' inputs), ``paper`` (the paper's SGD, N(0, 0.3^2) noise on
the encoder's input at training time), ``seed`` (the seed code's Adam, the noise on the
discriminators' inputs instead, batch 64, labelled reconstruction) or ``fast`` (ours: one
Adam per phase). Per minibatch:
reconstruction, regularization (both discriminators, then the encoder), and the
semi-supervised classification phase (cross-entropy of q(y|x) on a labelled minibatch).
Writes error.png (test error per epoch), test_error_updates.png (against updates, with
Table 2's number), loss_rec.png, loss.png, styles.png (decoder: rows = a z, columns = y),
samples.npz and results.json (test error of argmax q(y|x), and which digits it confuses).

--set supervised-only is the ablation baseline (not in the paper): the same encoder, optimiser,
labelled minibatches and number of updates, with the reconstruction and regularization
phases switched off (writes error.png, test_error_updates.png, loss.png, codes.npz and
results.json).
"""
import argparse

import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np

import chainer
from expkit import Experiment, UsageError, make_parser, run_main, plots
from expkit.extensions import TestError
from expkit.validate import positive_int

from datasets.semisup import split_labelled
from evaluation.metrics import classification_error
from aae import figures
from aae.net import categorical_aae
from aae.priors import Prior
from aae.optim import LRDrops, make_optimizers
from aae.options import (AAE_QUICK, add_aae_options, add_appendix_options, add_recipe_option,
                         lr_drops, phase_lr)
from aae.updater import LOSSES, CategoricalAAEUpdater
from aae.evaluate import classification_scores, encode, style_content_scores

N_CLASSES = 10
PAPER_ERROR = {'100': '1.90 +- 0.10', '1000': '1.60 +- 0.08', 'all': '0.85 +- 0.02'}


def parse(argv):
    parser = make_parser(__doc__, script=__file__, epoch=50, batchsize=100,
                         out='results/aae_semisupervised', validation=10000,   # 50k/10k split
                         quick=AAE_QUICK, distributed=True)
    parser.add_argument('--labels', choices=['100', '1000', 'all'], default='100',
                        help='number of labelled training images (default %(default)s), '
                             'balanced over the digits')
    parser.add_argument('--z-dim', type=positive_int, default=10,
                        help='style code size (default %(default)s)')
    parser.add_setting('--labelled-reconstruction', action=argparse.BooleanOptionalAction,
                       default=False,
                       help="seed code, not the paper: also reconstruct the labelled "
                            "minibatch from [one-hot label, z] in the reconstruction phase")
    parser.add_setting('--supervised-only', action='store_true',
                       help='baseline: train the classifier on the labelled images alone '
                            '(no reconstruction, no adversarial phases)')
    parser.add_setting('--y-prior', choices=['uniform', 'train-frequencies'],
                       default='uniform',
                       help="Cat(y)'s class probabilities: uniform (the paper, default) or "
                            "the digit frequencies of all training labels (ours, an "
                            "ablation: an oracle the semi-supervised setting does not have)")
    add_aae_options(parser, dis_noise=0.0, enc_noise=0.3)
    add_appendix_options(parser)    # for the ablation: one public reproduction of Table 2 has BN
    add_recipe_option(parser)
    args = parser.parse_args(argv)
    if args.supervised_only and args.labelled_reconstruction:
        raise UsageError('supervised-only trains no decoder: drop labelled-reconstruction '
                         '(--recipe seed sets it: add --set no-labelled-reconstruction)')
    return args


def main(argv=None):
    args = parse(argv)
    exp = Experiment('aae_semisupervised', args, paper={
        'source': 'Makhzani et al. 2015, arXiv:1511.05644, Table 2 (MNIST, test error %, '
                  'full 50k/10k MNIST)',
        'values': {'test_error_percent_%s_labels' % k: v for k, v in PAPER_ERROR.items()}})
    data = exp.load_data()
    x_train, y_train, x_test, y_test = exp.train_test()
    n_labelled = len(x_train) if args.labels == 'all' else int(args.labels)
    labelled_idx, _ = split_labelled(y_train, n_labelled, seed=args.seed)

    enc, dec, dis_z, dis_y = categorical_aae(
        N_CLASSES, args.z_dim, x_train.shape[1], args.n_hidden, args.dis_output, args.dis_noise,
        args.enc_noise, args.batch_norm, args.input_dropout, args.dis_hidden)
    for link in (enc, dec, dis_z, dis_y):
        link.to_device(exp.device)
    optimizers = exp.optimizers(make_optimizers(enc, dec, dis_z, args.optimizer,
                                                extra_dis={'dis_y': dis_y}, supervised=True,
                                                lr=phase_lr(args)))
    iters = {
        'main': exp.iterator(x_train),                                        # all images
        'labelled': exp.iterator(
            chainer.datasets.TupleDataset(x_train[labelled_idx], y_train[labelled_idx]),
            min(args.batchsize, n_labelled),
            what='the labelled minibatch (the smaller of --batchsize and --labels)'),
    }
    nets = {'enc': enc, 'dec': dec, 'dis_z': dis_z, 'dis_y': dis_y}
    y_probs = None if args.y_prior == 'uniform' else \
        np.bincount(y_train, minlength=N_CLASSES) / len(y_train)
    updater = CategoricalAAEUpdater(iters, optimizers, nets, Prior('gaussian', args.z_dim),
                                    device=exp.device,
                                    labelled_reconstruction=args.labelled_reconstruction,
                                    rec_loss=args.rec_loss, supervised_only=args.supervised_only,
                                    y_probs=y_probs)
    if args.supervised_only:                 # the baseline trains (and saves) the encoder only
        models, losses = {'enc': enc}, ['main/loss_sup']
    else:
        models, losses = nets, LOSSES + ['main/loss_sup']
    x_val, y_val = exp.validation()

    def classify(x):
        return encode(enc, x, exp.device)[0].argmax(1)
    select = dict(name='error', models={'enc': enc}, evaluate=lambda: classification_error(
        classify(x_val), y_val)) if len(x_val) else None
    errors = ['test/error'] + (['validation/error'] if select else [])
    drops = LRDrops.for_run(updater, optimizers, lr_drops(args))
    exp.record('lr_schedule', drops.schedule)
    trainer = exp.train(updater, models=models, report=losses + ['main/acc_sup'] + errors,
                        plots=dict(plots.loss_plots(losses), **{'error.png': errors}),
                        select=select,
                        extensions=[TestError(classify, x_test[:2000], y_test[:2000]), drops])

    q_y, z = encode(enc, x_test, exp.device)
    measured = classification_scores(q_y, y_test, N_CLASSES)    # Table 2, and ours
    fig = plots.error_curve(
        trainer, min(2000, len(y_test)), 'AAE, %s labels, recipe %s' % (args.labels, args.recipe),
        paper=(float(PAPER_ERROR[args.labels].split()[0]), 'paper: Makhzani 2015 Table 2'),
        final=(measured['test_error_percent'], len(y_test)))
    exp.savefig(fig, 'test_error_updates.png')
    config = {'labels': args.labels, 'recipe': args.recipe, 'y_prior': args.y_prior,
              'y_prior_probs': None if y_probs is None else [float(p) for p in y_probs],
              'supervised_only': args.supervised_only,
              'protocol': '%d labelled (balanced, seed %d) of %d training images; %s' % (
                  n_labelled, args.seed, len(x_train),
                  'the labelled images alone (baseline)' if args.supervised_only else
                  'every training image is also used unlabelled')}
    measured.update(n_labelled=int(n_labelled), n_train_images=len(x_train),
                    n_test_images=len(x_test), n_validation_images=len(x_val))
    if not args.supervised_only:             # the baseline trains no decoder: no styles, no MSE
        # styles: row r = one z ~ N(0, I), column c = one-hot y = c (content)
        fig, styles, y_styles = figures.styles(dec, args.z_dim, N_CLASSES, data.image_shape,
                                               exp.device)
        exp.savefig(fig, 'styles.png')
        exp.save_npz('samples.npz', x=styles, y=y_styles)
        measured.update(style_content_scores(enc, dec, x_test, z, args.z_dim, exp.device,
                                             args.seed))
    exp.save_npz('codes.npz', z=z, q_y=q_y, labels=y_test)
    best_on_validation(exp, enc, x_test, y_test, measured)
    exp.finish(measured=measured, config=config)


def best_on_validation(exp, enc, x_test, y_test, measured):
    """The test error of the encoder with the lowest validation error (``--validation``),
    beside the last one's; the live encoder is left with the best weights."""
    selector = exp.selectors.get('error')
    if selector is not None and selector.load_best():
        q_y, _ = encode(enc, x_test, exp.device)
        measured['test_error_percent_best_on_validation'] = \
            100 * classification_error(q_y.argmax(1), y_test)
        measured['validation_error_percent_best'] = 100 * selector.best_value


if __name__ == '__main__':
    run_main(main)
