"""Unsupervised clustering of MNIST with an adversarial autoencoder.
Paper: Makhzani et al., "Adversarial Autoencoders" (arXiv:1511.05644), Sec. 6, Fig. 9,
Table 3 (test error: 9.55 +- 2.05 % with 16 clusters, 4.10 +- 1.13 % with 30).

The semi-supervised architecture of Sec. 5 without the supervised phase: the encoder's
categorical head y (softmax over --clusters) is matched to Cat(K) by one discriminator, the
style z to N(0, I) by another; the decoder reconstructs x from [y, z]. ``--recipe``
(aae/options.py CLUSTERING_RECIPES): ``balanced`` (default, ours, our best recorded run: one
Adam per phase, noise 0.3 on the encoder's and the discriminators' inputs, a 10-D style
code), ``paper`` (the appendix's clustering model: 3000 units, batch normalisation in every
autoencoder layer, input dropout 0.2, SGD with one drop at epoch 50), ``noise`` (the paper's
SGD with N(0, 0.3^2) noise on the encoder's input, 1000 units), ``seed`` (the seed code's
Adam, noise on both discriminators' inputs, batch 64) or ``fast`` (one Adam per phase).
Evaluation as in Sec. 6: every cluster i takes the label of the *validation* image x_n that
maximises q(y_i|x_n) (the 10,000 held out of the official training set; without a
validation split, e.g. on a subset, the training images, as ``label_source`` records); a
test image gets the label of its cluster argmax q(y|x). The Hungarian (one-to-one) accuracy
is reported as well. Writes heads.png (the cluster heads: the decoder at z = 0 with one-hot
y, above test images of each cluster, as Fig. 9), test_error_updates.png (test error
against updates under the same rule, with Table 3's number, and, ours, under the majority
label of each cluster's validation images: the rule's single example can be atypical),
loss_rec.png, loss.png, codes.npz, samples.npz and results.json (with, ours, the least
error any labelling of K clusters of equal size, which the uniform prior asks for, could
reach on the test digits: evaluation.metrics.equal_clusters_error_floor, and whether either
discriminator is flat: aae.evaluate.discriminator_diagnostics on 2,000 prior samples and
2,000 test codes).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np

from expkit import Experiment, make_parser, run_main, plots
from expkit.extensions import TestError
from expkit.validate import positive_int

from evaluation.metrics import assign_cluster_labels
from aae.net import categorical_aae
from aae.priors import Prior, sample_prior
from aae.optim import LRDrops, make_optimizers
from aae.options import (AAE_QUICK, add_aae_options, add_appendix_options,
                         add_clustering_recipe_option, lr_drops, phase_lr)
from aae.updater import LOSSES, CategoricalAAEUpdater
from aae.evaluate import (cluster_classifier, clustering_scores, discriminator_diagnostics,
                          encode, label_clusters)
from aae import figures

PAPER_ERROR = {16: '9.55 +- 2.05', 30: '4.10 +- 1.13'}


def parse(argv):
    parser = make_parser(__doc__, script=__file__, epoch=50, batchsize=100,
                         out='results/aae_clustering', validation=10000,   # 50k/10k split
                         quick=dict(AAE_QUICK, dis_hidden=64), distributed=True)
    parser.default_from('out', lambda a: 'results/aae_clustering' + (
        '' if a.clusters == 16 else '_%d' % a.clusters), 'results/aae_clustering, or '
        'results/aae_clustering_30 with --clusters 30')
    parser.add_argument('--clusters', type=int, choices=[16, 30], default=16,
                        help='number of clusters K (default %(default)s)')
    parser.add_argument('--z-dim', type=positive_int, default=5,
                        help='style code size (default %(default)s)')
    add_aae_options(parser, dis_noise=0.0, enc_noise=0.3)
    add_appendix_options(parser)
    add_clustering_recipe_option(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    k = args.clusters
    exp = Experiment('aae_clustering', args, paper={
        'source': 'Makhzani et al. 2015, arXiv:1511.05644, Table 3 (MNIST test error %, '
                  'full 50k/10k MNIST)',
        'values': {'test_error_percent_%d_clusters' % c: v for c, v in PAPER_ERROR.items()}})
    data = exp.load_data()
    x_train, y_train, x_test, y_test = exp.train_test()
    x_val, y_val = exp.validation()
    # Sec. 6: "the validation example x_n that maximizes q(y_i|x_n)" labels cluster i
    label_source = 'validation' if len(x_val) else 'training'
    x_label, y_label = (x_val, y_val) if len(x_val) else (x_train, y_train)

    enc, dec, dis_z, dis_y = categorical_aae(
        k, args.z_dim, x_train.shape[1], args.n_hidden, args.dis_output, args.dis_noise,
        args.enc_noise, args.batch_norm, args.input_dropout, args.dis_hidden)
    for link in (enc, dec, dis_z, dis_y):
        link.to_device(exp.device)
    optimizers = exp.optimizers(make_optimizers(enc, dec, dis_z, args.optimizer,
                                                extra_dis={'dis_y': dis_y},
                                                lr=phase_lr(args)))
    it = exp.iterator(x_train)
    nets = {'enc': enc, 'dec': dec, 'dis_z': dis_z, 'dis_y': dis_y}
    updater = CategoricalAAEUpdater({'main': it}, optimizers, nets, Prior('gaussian', args.z_dim),
                                    device=exp.device, rec_loss=args.rec_loss)

    # test/error: the paper's rule; test/error_majority: each cluster takes the majority label
    # of its validation images (ours, a diagnostic: the rule's one example can be atypical)
    drops = LRDrops.for_run(updater, optimizers, lr_drops(args))
    exp.record('lr_schedule', drops.schedule)
    trainer = exp.train(updater, models=nets, plots=plots.loss_plots(LOSSES), report=LOSSES + [
        'main/d_fake', 'main/d_fake_y', 'test/error', 'test/error_majority'], extensions=[
        TestError(cluster_classifier(enc, x_label, y_label, k, exp.device), x_test[:2000],
                  y_test[:2000]),
        TestError(cluster_classifier(enc, x_label, y_label, k, exp.device, majority=True),
                  x_test[:2000], y_test[:2000], key='test/error_majority'), drops])

    q_label, mapping = label_clusters(enc, x_label, y_label, exp.device)     # Sec. 6 rule
    q_test, z_test = encode(enc, x_test, exp.device)
    clusters = q_test.argmax(1)
    measured = clustering_scores(clusters, y_test, mapping,
                                 assign_cluster_labels(q_label.argmax(1), y_label), k)
    fig = plots.error_curve(
        trainer, min(2000, len(y_test)), 'AAE clustering, %d clusters, recipe %s'
        % (k, args.recipe), paper=(float(PAPER_ERROR[k].split()[0]),
                                   'paper: Makhzani 2015 Table 3'),
        final=(measured['test_error_percent'], len(y_test)),
        extra=('test/error_majority', 'majority label of the validation images (ours)'))
    exp.savefig(fig, 'test_error_updates.png')

    # Fig. 9: top row = cluster heads dec(z = 0, y = e_i); below, test images of cluster i
    fig, heads = figures.cluster_heads(dec, args.z_dim, clusters, x_test, mapping,
                                       data.image_shape, exp.device, args.seed)
    exp.savefig(fig, 'heads.png')
    exp.save_npz('samples.npz', x=heads, cluster=np.arange(k))
    exp.save_npz('codes.npz', z=z_test, q_y=q_test, labels=y_test)

    # is either discriminator flat? (ours: P(real)'s spread, its input gradient, active units)
    rng = np.random.default_rng(args.seed)
    z_prior, _ = sample_prior('gaussian', 2000, args.z_dim, rng=rng)
    y_prior = np.eye(k, dtype=np.float32)[rng.integers(0, k, 2000)]
    exp.finish(measured={
        **measured, 'n_train_images': len(x_train), 'n_test_images': len(x_test),
        'n_validation_images': len(x_val), 'discriminators': {
            'z': discriminator_diagnostics(dis_z, z_prior, z_test[:2000], exp.device),
            'y': discriminator_diagnostics(dis_y, y_prior, q_test[:2000], exp.device)},
    }, config={'clusters': k, 'recipe': args.recipe,
               'label_source': '%s (%d images)' % (label_source, len(y_label)),
               'rule': "cluster i takes the label of the %s image maximising q(y_i|x) "
                       "(paper Sec. 6: validation); test image -> its cluster argmax q(y|x)"
                       % label_source})


if __name__ == '__main__':
    run_main(main)
