"""Dimensionality reduction of MNIST to 2-D with an adversarial autoencoder and cluster heads.
Paper: Makhzani et al., "Adversarial Autoencoders" (arXiv:1511.05644), Sec. 7, Fig. 10-11.

Fig. 10: the encoder gives an m-way categorical code y (softmax; matched to Cat(m) by D_y)
and a 2-D style code z (matched to N(0, I) by D_z; both discriminators get the seed's
N(0, 0.3^2) input noise). The 2-D representation is W y + z, where the columns of W are m
learned *cluster heads*; the decoder reconstructs x from it. A fourth phase pushes apart
every two heads closer than eta (--set head-threshold=ETA; Sec. 7: the cost is zero above eta and
linear in the distance below it). With --labels N (semi-supervised, m = 10) the encoder's y
also gets the cross-entropy phase of Sec. 5 on N labelled images; --labels 0 is the
unsupervised variant (m = --clusters, 20 by default as in the seed code).
Writes codes.png (Fig. 11: the 2-D representations of the test images by digit, with the
heads), heads.png (the decoder at each head), loss_rec.png, loss.png, codes.npz,
samples.npz and results.json (test error: argmax q(y|x) for the semi-supervised model, the
Sec. 6 cluster rule for the unsupervised one; the Hungarian accuracy).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np

import chainer
from expkit import Experiment, UsageError, make_parser, run_main, plots
from expkit.validate import int_at_least, nonnegative_int, positive_float

from datasets.semisup import split_labelled
from evaluation.metrics import classification_error, cluster_accuracy, hungarian_accuracy
from aae import figures
from aae.net import dim_reduction_aae
from aae.priors import Prior
from aae.optim import LRDrops, make_optimizers
from aae.options import AAE_QUICK, add_aae_options, lr_drops, phase_lr
from aae.updater import LOSSES, DimReductionUpdater
from aae.evaluate import encode, label_clusters, reconstruction_errors

N_CLASSES = 10
N_Z = 2                       # Fig. 11: 2-D representations


def parse(argv):
    parser = make_parser(__doc__, script=__file__, epoch=50, batchsize=100,
                         out='results/aae_dim_reduction', validation=10000,   # 50k/10k split
                         quick=dict(AAE_QUICK, labels=100))
    parser.default_from('out', lambda a: 'results/aae_dim_reduction' + (
        '_unsupervised' if a.labels == 0 else ''), 'results/aae_dim_reduction, or '
        'results/aae_dim_reduction_unsupervised with --labels 0')
    parser.add_argument('--labels', type=nonnegative_int, default=1000, metavar='N',
                        help='labelled training images, balanced (default %(default)s); 0: '
                             'unsupervised')
    parser.add_argument('--clusters', type=int_at_least(2), default=None, metavar='M',
                        help='number of cluster heads (semi-supervised: 10; unsupervised '
                             'default 20, the seed code)')
    parser.default_from('clusters', lambda a: N_CLASSES if a.labels else 20, '10 or 20')
    parser.add_setting('--head-threshold', type=positive_float, default=2.0, metavar='ETA',
                       help='heads closer than ETA are pushed apart (default %(default)s, '
                            'the seed code; the paper gives no value)')
    add_aae_options(parser, dis_noise=0.3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    semi, m = args.labels > 0, args.clusters
    if semi and m != N_CLASSES:
        raise UsageError('the semi-supervised model has one head per digit: use --clusters '
                         '10 or --labels 0')
    exp = Experiment('aae_dim_reduction', args, paper={
        'source': 'Makhzani et al. 2015, arXiv:1511.05644, Sec. 7, Fig. 11 (2-D MNIST '
                  'representations; the error rates in its caption could not be checked '
                  'on this offline machine and are not quoted)',
        'values': {}})
    data = exp.load_data()
    x_train, y_train, x_test, y_test = exp.train_test()
    if args.labels > len(x_train):
        raise UsageError('--labels %d exceeds the %d training images' % (args.labels,
                                                                         len(x_train)))

    enc, dec, dis_z, dis_y = dim_reduction_aae(m, N_Z, x_train.shape[1], args.n_hidden,
                                               args.dis_output, args.dis_noise)
    for link in (enc, dec, dis_z, dis_y):
        link.to_device(exp.device)
    optimizers = make_optimizers(enc, dec.body, dis_z, args.optimizer,
                                 extra_dis={'dis_y': dis_y}, supervised=semi, heads=dec.heads,
                                 lr=phase_lr(args))
    iters = {'main': exp.iterator(x_train)}
    if semi:
        labelled_idx, _ = split_labelled(y_train, args.labels, seed=args.seed)
        iters['labelled'] = exp.iterator(
            chainer.datasets.TupleDataset(x_train[labelled_idx], y_train[labelled_idx]),
            min(args.batchsize, args.labels), what='the labelled minibatch (the smaller of '
            '--batchsize and --labels)')
    nets = {'enc': enc, 'dec': dec, 'dis_z': dis_z, 'dis_y': dis_y}
    updater = DimReductionUpdater(iters, optimizers, nets, Prior('gaussian', N_Z),
                                  args.head_threshold, device=exp.device, rec_loss=args.rec_loss)
    losses = LOSSES + ['main/loss_heads'] + (['main/loss_sup'] if semi else [])
    drops = LRDrops.for_run(updater, optimizers, lr_drops(args))
    exp.record('lr_schedule', drops.schedule)
    exp.train(updater, models=nets, report=losses + ['main/d_fake', 'main/d_fake_y'],
              plots=plots.loss_plots(losses), extensions=[drops])

    q_test, z_test = encode(enc, x_test, exp.device)
    heads = chainer.backend.CpuDevice().send(dec.head_positions())
    rep = q_test @ heads + z_test                        # Fig. 10: W y + z
    clusters = q_test.argmax(1)
    if semi:
        error = classification_error(clusters, y_test)
    else:                                   # Sec. 6 rule on the training images
        error = 1 - cluster_accuracy(clusters, y_test, mapping=label_clusters(
            enc, x_train, y_train, exp.device)[1])

    # --- Fig. 11: representations of the test images by digit, heads as black crosses
    exp.savefig(figures.representations(rep, y_test, heads, '%s, %d heads; error %.2f %%' % (
        '%d labels' % args.labels if semi else 'unsupervised', m, 100 * error)), 'codes.png')
    fig, head_images = figures.head_images(dec, m, N_Z, data.image_shape, exp.device)
    exp.savefig(fig, 'heads.png')
    exp.save_npz('codes.npz', representation=rep, z=z_test, q_y=q_test, heads=heads,
                 labels=y_test)
    exp.save_npz('samples.npz', x=head_images, head=np.arange(m))

    mse, _ = reconstruction_errors(enc, dec, x_test, exp.device)
    dist = np.sqrt(((heads[:, None] - heads[None]) ** 2).sum(-1))[np.triu_indices(m, 1)]
    sizes = np.bincount(clusters, minlength=m)
    exp.finish(measured={
        'test_error_percent': 100 * error,
        'test_hungarian_accuracy': hungarian_accuracy(clusters, y_test),
        'test_reconstruction_mse_per_pixel': mse,
        'min_head_distance': float(dist.min()),
        'n_empty_test_clusters': int((sizes == 0).sum()),
        'n_labelled': int(args.labels), 'n_train_images': len(x_train),
        'n_test_images': len(x_test),
    }, config={'clusters': m, 'z_dim': N_Z,
               'error_rule': 'semi-supervised: argmax q(y|x) vs label; unsupervised: Sec. 6 '
                             'rule (cluster i <- label of argmax_n q(y_i|x_n))'})


if __name__ == '__main__':
    run_main(main)
