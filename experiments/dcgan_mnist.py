"""DCGAN (Radford, Metz & Chintala 2015) on MNIST: sample grids over training, loss curves,
and the Parzen-window log-likelihood of Goodfellow et al. 2014 (Table 1 protocol).

Networks from gan/dcgan.py (§3 guidelines: strided (de)convolutions, batch norm, ReLU in G,
LeakyReLU(0.2) in D, N(0, 0.02) weights); 28x28 layout 7x7xch -> 14x14x(ch/2) -> 28x28x1.
Adam lr 2e-4, beta1 0.5 (§4); non-saturating G loss, one D step per G step, as chainer's
examples/dcgan. Minibatch 64 by default (the paper's is 128, --batchsize 128): on the CPU
budget twice as many updates helped more (docs/results/gan.md). Images in [0, 1] with a
sigmoid output (chainer's example; the paper's tanh on [-1, 1] is
gan.dcgan.Generator(out_activation='tanh')).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np

import chainer

from expkit import Experiment, make_parser, run_main, plots, UsageError
from expkit.validate import at_most, int_at_least, positive_int
from gan import dcgan, net
from gan.evaluate import evaluate_samples, parzen_splits
from gan.extensions import SampleRecorder, snapshot_iterations
from gan.loss import GEN_LOSSES
from gan.updater import GANUpdater

PAPER = {
    'source': 'Radford et al. 2015 report no MNIST likelihood; reference numbers are '
              'Goodfellow et al. 2014, Table 1 (MNIST Parzen log-likelihood, nats)',
    'values': {'adversarial_nets_goodfellow2014': '225 +- 2', 'deep_GSN': '214 +- 1.1',
               'DBN': '138 +- 2', 'stacked_CAE': '121 +- 1.6'},
}


def main(argv=None):
    parser = make_parser(__doc__, script=__file__, epoch=14, batchsize=64,
                         out='results/dcgan_mnist', validation=10000,   # as gan_goodfellow
                         quick=dict(n_train=256, n_test=200, batchsize=32, ch=8,
                                    parzen_samples=500))
    parser.add_setting('--ch', type=int_at_least(2, even=True), default=64,
                       help='channels of the 7x7 feature map of G (and of the last one of D; '
                            'default %(default)s, small for the CPU budget)')
    parser.add_argument('--z-dim', type=positive_int, default=100,
                        help='z dimension (paper: 100)')
    parser.add_argument('--gen-loss', choices=GEN_LOSSES, default='nonsaturating')
    parser.more.add_argument('--parzen-samples', type=positive_int, default=10000,
                             help='samples for the Parzen window (Goodfellow et al.: 10,000)')
    parser.more.add_argument('--parzen-test', type=positive_int, default=None, metavar='N',
                             help='evaluate on the first N test images (default: all)')
    parser.more.add_argument('--parzen-valid', type=positive_int, default=None, metavar='N',
                             help='choose sigma on the first N validation images (default: all)')
    args = parser.parse_args(argv)
    exp = Experiment('dcgan_mnist', args, paper=PAPER)
    data = exp.load_data()
    if data.image_shape != (28, 28):
        raise UsageError('dcgan_mnist needs 28x28 images; --dataset %s has %s'
                         % (args.dataset, data.image_shape))
    x_train, x_valid, y_train = parzen_splits(data, args.seed, args.parzen_valid)
    x_test, y_test = data.x_test, data.y_test
    if args.parzen_test:
        x_test = x_test[:at_most('--parzen-test', args.parzen_test, len(x_test), 'test images')]
        y_test = y_test[:len(x_test)]
    x_img = x_train.reshape(-1, 1, 28, 28)

    gen = dcgan.Generator(n_hidden=args.z_dim, out_size=28, out_ch=1, ch=args.ch)
    dis = dcgan.Discriminator(in_size=28, in_ch=1, ch=args.ch)
    gen.to_device(exp.device)
    dis.to_device(exp.device)
    opts = {}
    for key, link in (('gen', gen), ('dis', dis)):
        opts[key] = chainer.optimizers.Adam(alpha=2e-4, beta1=0.5)   # §4
        opts[key].setup(link)
    it = exp.iterator(x_img)
    # chainer's examples/dcgan: loss_dis = sum of the two means (dis_loss_scale=1)
    updater = GANUpdater(it, opts, n_dis=1, gen_loss=args.gen_loss, dis_loss_scale=1.0,
                         device=exp.device)
    total = args.epoch * len(x_img) // args.batchsize
    grid = (0.0, 0.1, 0.4, 1.0)
    recorder = SampleRecorder(gen, gen.make_hidden(100),
                              iterations=snapshot_iterations(total, grid),
                              every=max(1, total // 40))
    trainer = exp.train(updater, models={'gen': gen, 'dis': dis}, extensions=[recorder],
                        report=['gen/loss', 'dis/loss', 'dis/d_real', 'dis/d_fake'],
                        plots={'loss.png': ['gen/loss', 'dis/loss']})

    import matplotlib.pyplot as plt
    recorder.finish(trainer.updater.iteration)
    grid_its = recorder.grid_keys(grid)
    fig, axes = plt.subplots(1, len(grid_its), figsize=(3.2 * len(grid_its), 3.6))
    for ax, i in zip(np.atleast_1d(axes), grid_its):
        plots.image_grid(recorder.frames[i], 10, ax=ax, title='iteration %d' % i)
    fig.suptitle('DCGAN samples, fixed z')
    exp.savefig(fig, 'samples_grid.png')

    samples = net.generate(gen, args.parzen_samples).reshape(args.parzen_samples, -1)
    parzen, ref = evaluate_samples(exp, samples, x_train, x_valid, x_test, 'DCGAN samples',
                                   y_train, y_test)
    exp.finish({'parzen_ll': parzen, 'parzen_ll_training_images': ref,
                'iterations': int(trainer.updater.iteration)},
               config={'ch': args.ch, 'gen_loss': args.gen_loss,
                       'n_train_used': int(len(x_train)), 'n_valid': int(len(x_valid)),
                       'grid_iterations': grid_its,
                       'protocol': 'DCGAN trained on the training split minus the '
                                   'validation split (--validation, else a seeded hold-out), '
                                   'which chooses sigma; Parzen on the test split'})


if __name__ == '__main__':
    run_main(main)
