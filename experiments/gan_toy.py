"""GANs on the 8-Gaussian ring, the 25-Gaussian grid and the 2-D swiss roll: samples over
training and mode coverage -- modes captured and the fraction of high-quality samples
(within 3 standard deviations of a mode), as defined by VEEGAN (Srivastava et al. 2017, §5.1)
and PacGAN (Lin et al. 2018, §5.1: 2,500 samples, a mode is lost with < 20 of them).

Networks as the 2-D experiments of Unrolled GAN (Metz et al. 2017, App. A): G maps 256-D
N(0, I) noise through two ReLU layers of 128 to 2-D, D has two ReLU layers of 128. Adam
(step lr, default 1e-3 for the CPU budget), beta1 0.5, k D steps per G step. Data:
100,000 points drawn once per toy (datasets.toy), one epoch = one pass over them. Each toy
is a training stage of its own (--resume continues it; the toys before it are reloaded).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np

import chainer

from expkit import Experiment, make_parser, run_main
from expkit.validate import positive_float, positive_int
from gan import net
from gan.extensions import SampleRecorder
from gan.loss import GEN_LOSSES
from gan.toy import TOY_SAMPLERS, coverage
from gan.updater import GANUpdater

PAPER = {
    'source': 'VEEGAN (Srivastava et al. 2017) Table 1 and PacGAN (Lin et al. 2018) Table 2: '
              'vanilla GAN, modes captured (of 8 / of 25) and % high-quality samples',
    'values': {'ring_GAN_modes_VEEGAN': 1.0, 'ring_GAN_high_quality_pct_VEEGAN': 99.3,
               'grid_GAN_modes_VEEGAN': 3.3, 'grid_GAN_high_quality_pct_VEEGAN': 0.5,
               'grid_GAN_modes_PacGAN': '17.3 +- 0.8',
               'grid_GAN_high_quality_pct_PacGAN': '94.2 +- 0.1',
               'note': 'quoted from the papers\' tables (not re-checked against the papers); their '
                       'settings (mode std, sizes, iterations) differ, see docs/results/gan.md'},
}


def train_one(name, args, exp):
    """GAN on one toy data set, as the training stage ``name`` (``snapshot_<name>_iter_N.npz``,
    ``log_<name>``); G's samples of a fixed z at 0, 1/4, 1/2 and all of the iterations."""
    x = TOY_SAMPLERS[name](args.n_points, np.random.default_rng(args.seed))
    gen = net.ToyGenerator(n_hidden=256)
    dis = net.ToyDiscriminator(n_in=2)
    gen.to_device(exp.device)
    dis.to_device(exp.device)
    opts = {}
    for key, link in (('gen', gen), ('dis', dis)):
        opts[key] = chainer.optimizers.Adam(alpha=args.lr, beta1=0.5)
        opts[key].setup(link)
    it = exp.iterator(x)
    updater = GANUpdater(it, opts, n_dis=args.n_dis, gen_loss=args.gen_loss,
                         dis_loss_scale=1.0, device=exp.device)
    total = args.epoch * args.n_points // (args.batchsize * args.n_dis)
    snaps = sorted({0, total // 4, total // 2, total})
    recorder = SampleRecorder(gen, gen.make_hidden(2500), iterations=snaps)
    trainer = exp.train(updater, stage=name, models={name + '_gen': gen, name + '_dis': dis},
                        report=['gen/loss', 'dis/loss'], stop=(total, 'iteration'),
                        log_trigger=(10, 'iteration'), extensions=[recorder],
                        images_per_iteration=args.batchsize * args.n_dis)   # 2-D points
    return {'x': x, 'frames': recorder.frames, 'snaps': snaps,
            'log': trainer.get_extension('LogReport').log,
            'final': net.generate(gen, 2500),   # fresh z for the metric
            'iterations': int(trainer.updater.iteration)}


def figure(runs, gen_loss):
    import matplotlib.pyplot as plt
    names = list(runs)
    ncol = max(len(r['snaps']) for r in runs.values()) + 1
    fig, axes = plt.subplots(len(names), ncol, figsize=(3.0 * ncol, 3.0 * len(names)),
                             squeeze=False)
    for row, name in zip(axes, names):
        r = runs[name]
        lim = np.abs(r['x']).max() * 1.25
        for ax, i in zip(row, r['snaps']):
            ax.scatter(r['x'][:2500, 0], r['x'][:2500, 1], s=1, c='0.75')
            if i in r['frames']:             # not reached when --time-limit stopped it
                ax.scatter(r['frames'][i][:, 0], r['frames'][i][:, 1], s=1, c='C3')
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect('equal')
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title('%s, iteration %d' % (name, i), fontsize=9)
        ax = row[-1]
        its = [e['iteration'] for e in r['log']]
        ax.plot(its, [e.get('dis/loss', np.nan) for e in r['log']], label='D loss')
        ax.plot(its, [e.get('gen/loss', np.nan) for e in r['log']], label='G loss')
        m = r['metrics']
        ax.set_title('%s: %d/%d modes, %.1f%% HQ' % (name, m['modes_captured'], m['n_modes'],
                                                     100 * m['high_quality_fraction']),
                     fontsize=9)
        ax.set_xlabel('iteration')
        ax.legend(fontsize=7)
    fig.suptitle('GAN on 2-D toy data (%s G loss); grey: data, red: G(z)' % gen_loss)
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = make_parser(__doc__, script=__file__, epoch=25, batchsize=512,
                         out='results/gan_toy', data=False,
                         quick=dict(batchsize=256, n_points=5000))
    parser.add_argument('--toy', nargs='+', choices=sorted(TOY_SAMPLERS),
                        default=['ring', 'grid', 'swissroll'],
                        help='toy data sets to run, each a training stage of its own')
    parser.add_argument('--gen-loss', choices=GEN_LOSSES, default='nonsaturating')
    parser.add_setting('--n-dis', type=positive_int, default=1, metavar='K',
                       help='D steps per G step (default %(default)s)')
    parser.add_setting('--lr', type=positive_float, default=1e-3,
                       help='Adam step size for G and D (default %(default)s)')
    parser.more.add_argument('--n-points', type=positive_int, default=100000, metavar='N',
                             help='points drawn once per toy data set (default %(default)s)')
    args = parser.parse_args(argv)
    toys = list(dict.fromkeys(args.toy))
    exp = Experiment('gan_toy', args, paper=PAPER, stages=toys)
    runs, measured = {}, {}
    for name in toys:
        r = runs[name] = train_one(name, args, exp)
        r['metrics'] = coverage(name, r['final'])
        measured[name] = dict(r['metrics'], iterations=r['iterations'])
        print('%-10s modes %d/%d  high-quality %.1f%%  (%d iterations)' % (
            name, r['metrics']['modes_captured'], r['metrics']['n_modes'],
            100 * r['metrics']['high_quality_fraction'], r['iterations']))
    exp.savefig(figure(runs, args.gen_loss), 'toy_%s.png' % args.gen_loss)
    exp.save_npz('samples.npz', **{name: runs[name]['final'] for name in runs})
    exp.finish(measured, config={'gen_loss': args.gen_loss, 'n_dis': args.n_dis,
                                 'lr': args.lr, 'samples_for_metric': 2500,
                                 'min_count': 20, 'n_std': 3,
                                 'protocol': '%d points per toy drawn once; metrics on '
                                             '2,500 fresh G samples' % args.n_points})


if __name__ == '__main__':
    run_main(main)
