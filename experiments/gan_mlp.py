"""The seed article's Keras MLP GAN on MNIST, in Chainer: sample grids over training, loss
curves, a GIF of the samples, and the generator's gradient norm under the minimax and the
non-saturating loss (the vanishing gradient of log(1 - D(G(z)))).

G 100-256-512-1024-784 (Dense+BN+LeakyReLU(0.2), sigmoid), z ~ U(0,1)^100;
D 784-1024-512-256-1 (LeakyReLU(0.2), sigmoid), l1_l2(1e-5, 1e-5) on every kernel;
D: SGD lr 0.1, momentum 0.1, decay 1e-5; stacked G step: SGD lr 0.1, momentum 0.3;
k D steps per G step (k = 1).  Source: the seed article and its Keras notebook (gan.ipynb).

``--recipe notebook`` (default) follows the notebook where it differs from our first reading
of the article (``--recipe article``, the settings before): BatchNormalization on G's 784
output before the sigmoid (``out-batchnorm``), l1_l2(1e-5, 1e-5) on all four G Dense
kernels too (``gen-regularizer``), batch 1,000 (article recipe: 128), D's fakes made with
G in test mode as ``predict_on_batch`` does (``fakes-test-mode``), and real batches drawn
with replacement (``with-replacement``). Each can be switched on its own (``--set KEY`` or
``--set no-KEY``).
"""
import argparse

import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np

import chainer
from chainer.training import extensions

from expkit import Experiment, make_parser, run_main, plots
from expkit.validate import positive_int
from datasets.iterators import ReplacementIterator
from gan import net, optim
from gan.extensions import SampleRecorder, snapshot_iterations
from gan.loss import GEN_LOSSES
from gan.updater import GANUpdater

#: --recipe: the defaults each sets (explicit options and --set win)
RECIPES = {
    'notebook': dict(batchsize=1000, out_batchnorm=True, gen_regularizer=True,
                     fakes_test_mode=True, with_replacement=True),
    'article': dict(batchsize=128, out_batchnorm=False, gen_regularizer=False,
                    fakes_test_mode=False, with_replacement=False),
}

PAPER = {'source': 'seed article (Keras MLP GAN on MNIST); qualitative: sample grids at '
                   'iterations 0, 10k, 50k, 150k',
         'values': {}}


def gradient_figure(log, gen_loss):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    it = np.array([e['iteration'] for e in log])
    ax = axes[0]
    for kind, style in (('minimax', '-'), ('nonsaturating', '--')):
        key = 'gen/grad_norm_' + kind
        y = np.array([e.get(key, np.nan) for e in log])
        label = {'minimax': 'minimax: log(1 - D(G(z)))',
                 'nonsaturating': 'non-saturating: -log D(G(z))'}[kind]
        ax.semilogy(it, y, style, label=label)
    ax.set_xlabel('iteration')
    ax.set_ylabel('||dL_G / d theta_G||')
    ax.set_title('generator gradient norm (training with %s)' % gen_loss)
    ax2 = ax.twinx()
    ax2.plot(it, [e.get('dis/d_fake', np.nan) for e in log], color='gray', alpha=0.5)
    ax2.set_ylabel('mean D(G(z))', color='gray')
    ax2.set_ylim(0, 1)
    ax.legend(loc='lower right', fontsize=8)
    ax = axes[1]
    d = np.linspace(1e-4, 1 - 1e-4, 400)
    ax.semilogy(d, d, label='minimax: |d/da log(1 - D)| = D')
    ax.semilogy(d, 1 - d, '--', label='non-saturating: |d/da log D| = 1 - D')
    ax.set_xlabel('D(G(z))')
    ax.set_ylabel('gradient w.r.t. the logit a')
    ax.set_title('closed form (Goodfellow et al. 2014, §3)')
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def parse(argv):
    parser = make_parser(__doc__, script=__file__, epoch=40, batchsize=1000,
                         out='results/gan_mlp',
                         quick=dict(n_train=256, batchsize=32, n_samples=1000))
    parser.add_recipe(RECIPES, 'notebook',
                      help="notebook (default): the seed's gan.ipynb; article: our first "
                           "reading of the article (batch 128, none of the four switches "
                           "below); explicit options and --set win")
    flag = dict(action=argparse.BooleanOptionalAction, default=False)
    parser.add_setting('--out-batchnorm', help="BN on G's output before the sigmoid", **flag)
    parser.add_setting('--gen-regularizer', help="l1_l2(1e-5, 1e-5) on G's kernels", **flag)
    parser.add_setting('--fakes-test-mode', help="D's fakes from G in test mode", **flag)
    parser.add_setting('--with-replacement', help='real minibatches drawn with replacement',
                       **flag)
    parser.add_argument('--gen-loss', choices=GEN_LOSSES, default='nonsaturating',
                        help='generator loss (default %(default)s; the seed trains the '
                             'stacked model with target 1, i.e. non-saturating)')
    parser.add_setting('--n-dis', type=positive_int, default=1, metavar='K',
                       help='discriminator steps per generator step (default %(default)s)')
    parser.add_setting('--no-batchnorm', action='store_true',
                       help="the seed's first G without BN (it mode-collapsed)")
    parser.add_setting('--grad-norm-interval', type=positive_int, default=5, metavar='N',
                       help='measure both gradient norms every N iterations')
    parser.more.add_argument('--n-samples', type=positive_int, default=10000,
                             help='final samples saved in samples.npz (default %(default)s)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    exp = Experiment('gan_mlp', args, paper=PAPER)
    data = exp.load_data()
    x_train = data.x_train

    gen = net.MLPGenerator(batchnorm=not args.no_batchnorm, out_batchnorm=args.out_batchnorm)
    dis = net.MLPDiscriminator()
    gen.to_device(exp.device)
    dis.to_device(exp.device)
    opt_d = chainer.optimizers.MomentumSGD(lr=0.1, momentum=0.1)
    opt_d.setup(dis)
    opt_d.add_hook(optim.L1L2Regularizer(1e-5, 1e-5))        # l1_l2(1e-5, 1e-5)
    opt_d.add_hook(optim.KerasInverseTimeDecay(0.1, 1e-5))   # SGD(decay=1e-5)
    opt_g = chainer.optimizers.MomentumSGD(lr=0.1, momentum=0.3)
    opt_g.setup(gen)
    if args.gen_regularizer:
        opt_g.add_hook(optim.L1L2Regularizer(1e-5, 1e-5))    # notebook: G's Dense layers too

    it = (ReplacementIterator(x_train, args.batchsize) if args.with_replacement else
          exp.iterator(x_train))
    updater = GANUpdater(it, {'gen': opt_g, 'dis': opt_d}, n_dis=args.n_dis,
                         gen_loss=args.gen_loss, dis_loss_scale=0.5,
                         fakes_in_test_mode=args.fakes_test_mode,
                         grad_norm_interval=args.grad_norm_interval, device=exp.device)
    total = args.epoch * len(x_train) // (args.batchsize * args.n_dis)
    z_fixed = gen.make_hidden(100)
    recorder = SampleRecorder(gen, z_fixed, iterations=snapshot_iterations(total),
                              every=max(1, total // 30))
    grad_log = extensions.LogReport(
        keys=['gen/grad_norm_minimax', 'gen/grad_norm_nonsaturating', 'dis/d_fake'],
        trigger=(args.grad_norm_interval, 'iteration'), filename='log_grad_norm')
    grad_log.name = 'grad_norm_log'
    trainer = exp.train(
        updater, models={'gen': gen, 'dis': dis}, extensions=[recorder, grad_log],
        report=['gen/loss', 'dis/loss', 'dis/d_real', 'dis/d_fake', 'gen/grad_norm'],
        plots={'loss.png': ['gen/loss', 'dis/loss']},
        images_per_iteration=args.batchsize * args.n_dis)

    # figures: grids at the seed's iterations (scaled), GIF, gradient norms
    import matplotlib.pyplot as plt
    recorder.finish(trainer.updater.iteration)
    grid_its = recorder.grid_keys()
    fig, axes = plt.subplots(1, len(grid_its), figsize=(3.2 * len(grid_its), 3.6))
    for ax, i in zip(np.atleast_1d(axes), grid_its):
        plots.image_grid(recorder.frames[i], 10, ax=ax, title='iteration %d' % i)
    fig.suptitle('MLP GAN samples, fixed z (%s G loss)' % args.gen_loss)
    exp.savefig(fig, 'samples_grid.png')
    frames = [plots.tile(recorder.frames[k], 10) for k in sorted(recorder.frames)]
    plots.save_gif(exp.path('samples.gif'), frames, duration_ms=250)
    log = grad_log.log
    exp.savefig(gradient_figure(log, args.gen_loss), 'gen_grad_norm.png')

    samples = net.generate(gen, args.n_samples)
    exp.save_npz('samples.npz', x=samples)
    plots.save_image_grid(exp.path('samples_final.png'), samples[:100], 10)

    def mean_of(key, part):
        vals = [e[key] for e in log if key in e]
        n = max(1, len(vals) // 10)
        vals = vals[:n] if part == 'first' else vals[-n:]
        return float(np.mean(vals)) if vals else None

    measured = {
        'iterations': int(trainer.updater.iteration),
        'final': {k: float(v) for k, v in trainer.get_extension('LogReport').log[-1].items()
                  if k.startswith(('gen/', 'dis/'))},
        'grad_norm_first_10pct': {k: mean_of('gen/grad_norm_' + k, 'first') for k in GEN_LOSSES},
        'grad_norm_last_10pct': {k: mean_of('gen/grad_norm_' + k, 'last') for k in GEN_LOSSES},
        'd_fake_first_10pct': mean_of('dis/d_fake', 'first'),
        'sample_pixel_std_across_z': float(samples[:1000].std(axis=0).mean()),
        'data_pixel_std': float(x_train.std(axis=0).mean()),
    }
    exp.finish(measured, config={'recipe': args.recipe, 'gen_loss': args.gen_loss,
                                 'n_dis': args.n_dis,
                                 'batchnorm': not args.no_batchnorm,
                                 'grid_iterations': grid_its})


if __name__ == '__main__':
    run_main(main)
