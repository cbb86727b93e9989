"""The discriminator as a density-ratio estimator, checked numerically: for pairs of 1-D
Gaussians (p_d, p_g) with p_g held fixed, train D alone to convergence, plot D(x) against the
closed form D*(x) = p_d/(p_d+p_g) (Goodfellow et al. 2014, Prop. 1), and compare the reached
V(D) with 2 JSD(p_d||p_g) - 2 ln 2 (Theorem 1; JSD by scipy numerical integration), from
overlapping pairs to nearly disjoint ones where JSD -> ln 2 and V -> 0.

One "epoch" here is --updates-per-epoch (1,000) Adam updates of D on fresh minibatches of
--batchsize draws from each density (there is no finite data set). V(D) is computed by quadrature on a grid from D's
logits, so the reported error is D's, not Monte-Carlo noise.
"""
import numpy as np

from datasets.toy import GaussianPair1D
from expkit import Experiment, make_parser, run_main
from expkit.validate import positive_float, positive_int
from gan.optimal_discriminator import LN2, evaluate, fit_discriminator

# (name, mu_data, sd_data, mu_model, sd_model)
PAIRS = [
    ('identical', 0.0, 1.0, 0.0, 1.0),        # JSD = 0: D* = 1/2, V = -2 ln 2
    ('easy', 0.0, 1.0, 2.0, 1.0),             # overlapping, equal widths
    ('unequal-width', 0.0, 1.0, 1.0, 0.4),    # log-ratio quadratic in x
    ('nearly-disjoint', 0.0, 1.0, 6.0, 1.0),  # JSD/ln2 ~ 0.99
    ('disjoint', 0.0, 0.5, 8.0, 0.5),         # JSD/ln2 ~ 1
]


def figures(results):
    import matplotlib.pyplot as plt
    n = len(results)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.4))
    for ax, (name, r) in zip(axes, results.items()):
        x = r['grid']
        ax.fill_between(x, 0, r['p_d'] / r['p_d'].max(), color='C0', alpha=0.15,
                        label='p_d (scaled)')
        ax.fill_between(x, 0, r['p_g'] / r['p_g'].max(), color='C1', alpha=0.15,
                        label='p_g (scaled)')
        ax.plot(x, r['d_star'], 'k-', lw=2, label='D* = p_d/(p_d+p_g)')
        ax.plot(x, r['d'], 'r--', lw=1.5, label='trained D')
        ax.set_ylim(-0.02, 1.02)
        ax.set_title('%s\nJSD/ln2=%.3f  |V-V*|=%.1e' % (name, r['jsd_over_ln2'],
                                                       r['v_abs_error']), fontsize=9)
        ax.set_xlabel('x')
    axes[0].legend(fontsize=7, loc='center left')
    fig.tight_layout()

    fig2, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    j = np.linspace(0, LN2, 100)
    ax.plot(j / LN2, 2 * j - 2 * LN2, 'k-', label='Theorem 1: 2 JSD - 2 ln 2')
    for name, r in results.items():
        ax.plot(r['jsd_over_ln2'], r['v_reached'], 'o', label='reached V(D): ' + name)
    ax.set_xlabel('JSD(p_d || p_g) / ln 2')
    ax.set_ylabel('V(D, G)')
    ax.legend(fontsize=7)
    ax.set_title('value reached by the trained D')
    for name, r in results.items():
        ax2.semilogy(r['trace'][:, 0], np.abs(r['trace'][:, 1] - r['v_theory']), label=name)
    ax2.set_xlabel('D update')
    ax2.set_ylabel('|V(D) - (2 JSD - 2 ln 2)|  (quadrature)')
    ax2.set_title('training of D alone (p_g fixed)')
    ax2.legend(fontsize=7)
    fig2.tight_layout()
    return fig, fig2


def main(argv=None):
    parser = make_parser(__doc__, script=__file__, epoch=4, batchsize=512,
                         out='results/gan_optimal_discriminator', data=False, trainer=False,
                         quick=dict(updates_per_epoch=100))
    parser.add_setting('--n-hidden', type=positive_int, nargs='+', default=[64, 64],
                       metavar='N',
                       help='hidden units of the MLP discriminator (tanh; default 64,64)')
    parser.add_setting('--lr', type=positive_float, default=1e-3, help='Adam step size')
    parser.more.add_argument('--updates-per-epoch', type=positive_int, default=1000, metavar='N',
                             help='Adam updates of D per epoch (default %(default)s)')
    args = parser.parse_args(argv)
    exp = Experiment('gan_optimal_discriminator', args, paper={
        'source': 'Goodfellow et al. 2014, Proposition 1 (D* = p_d/(p_d+p_g)) and Theorem 1 '
                  '(V(D*, G) = -log 4 + 2 JSD(p_d || p_g))',
        'values': {'v_at_optimum': '2 JSD - 2 ln 2 (closed form, per pair)',
                   'v_disjoint_limit': 0.0, 'v_identical': -2 * LN2}})
    n_iter = args.updates_per_epoch * args.epoch

    results, measured = {}, {'pairs': {}}
    for i, (name, mu_d, sd_d, mu_g, sd_g) in enumerate(PAIRS):
        pair = GaussianPair1D(mu_d, sd_d, mu_g, sd_g)
        dis, losses, trace = fit_discriminator(
            pair, n_iter=n_iter, batchsize=args.batchsize, units=tuple(args.n_hidden),
            lr=args.lr, seed=args.seed + i, device=exp.device,
            trace_every=max(10, n_iter // 100))
        r = evaluate(pair, dis)
        r['losses'] = losses
        r['trace'] = np.array(trace)
        results[name] = r
        m = {k: r[k] for k in ('jsd', 'jsd_over_ln2', 'v_theory', 'v_dstar_quadrature',
                               'v_reached', 'v_abs_error', 'v_rel_error',
                               'd_mean_abs_error', 'd_max_abs_error')}
        m['densities'] = {'p_d': [mu_d, sd_d], 'p_g': [mu_g, sd_g]}
        measured['pairs'][name] = m
        print('%-16s JSD/ln2 %.4f  V* %+.5f  V(D) %+.5f  |err| %.2e  E|D-D*| %.2e  '
              'max|D-D*| %.2e' % (name, r['jsd_over_ln2'], r['v_theory'], r['v_reached'],
                                  r['v_abs_error'], r['d_mean_abs_error'],
                                  r['d_max_abs_error']))
    measured['max_v_abs_error'] = max(m['v_abs_error'] for m in measured['pairs'].values())
    measured['max_d_mean_abs_error'] = max(m['d_mean_abs_error']
                                           for m in measured['pairs'].values())
    fig, fig2 = figures(results)
    exp.savefig(fig, 'discriminator.png')
    exp.savefig(fig2, 'value.png')
    exp.save_npz('curves.npz', **{name + '_' + k: results[name][k] for name in results
                                  for k in ('grid', 'd', 'd_star', 'losses', 'trace')})
    exp.finish(measured, config={'d_updates_per_pair': n_iter, 'optimizer': 'Adam',
                                 'activation': 'tanh',
                                 'protocol': 'fresh samples each minibatch; V(D) by '
                                             'trapezoid quadrature on 4001 grid points',
                                 'pairs': [list(p) for p in PAIRS]})


if __name__ == '__main__':
    run_main(main)
