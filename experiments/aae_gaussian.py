"""Unsupervised adversarial autoencoder with a 2-D code on MNIST. Paper: Makhzani et al.,
"Adversarial Autoencoders" (arXiv:1511.05644), Fig. 2 (a, c, e).

Trains the AAE (deterministic encoder, 1000-1000 ReLU nets, two-unit softmax discriminator)
with the imposed prior p(z) = --prior (gaussian: N(0, I), Fig. 2a/2e; mixture: 10 2-D
Gaussians, Fig. 2c; swissroll). Writes codes.png (test codes by digit beside prior samples),
manifold.png (decoder over a grid of the prior's percentiles, Fig. 2e), loss_rec.png,
loss.png, codes.npz, samples.npz and results.json (reconstruction error, MMD(codes, prior)).

Every epoch the log gets a collapse detector (aae.evaluate.PriorMatch): the MMD² of the test
codes against the prior, the codes' std per dimension and D's P(real) on prior samples and
codes, plotted in prior_mmd.png and prior_match.png.

--recipe adam-drop (default) departs from the paper: the seed article's Adam(1e-4, beta1
0.5) with gradient clipping 5 and one optimiser for both encoder phases, the reconstruction
cost as a mean over pixels, and every step size divided by 10 after 20,000 updates (ours).
--recipe paper is the literal transcription (the appendix's SGD settings and drops, the
summed Euclidean cost), whose codes collapse on full MNIST (docs/results/aae.md).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import chainer
import chainer.functions as F
from expkit import Experiment, make_parser, run_main, plots
from expkit.errors import UsageError
from expkit.validate import positive_int

from aae import figures
from aae.net import unsupervised_aae
from aae.priors import PRIORS, Prior, sample_prior
from aae.optim import LRDrops, make_optimizers
from aae.options import (AAE_QUICK, add_aae_options, add_gaussian_recipe_option,
                         lr_drops, phase_lr)
from aae.updater import LOSSES, AAEUpdater
from vae.net import VAE
from vae.loss import gaussian_mixture_log_prior
from vae.updater import VAEUpdater
from aae.evaluate import (PRIOR_MATCH_PLOTS, PRIOR_MATCH_POINTS, PRIOR_MATCH_REPORT,
                          PriorMatch, decode, discriminator_diagnostics, encode, prior_mmd,
                          reconstruction_errors)

DEFAULT_OUT = 'results/aae_gaussian'
PAPER = {'source': 'Makhzani et al. 2015, arXiv:1511.05644, Fig. 2 (qualitative: no number is '
                   'reported for this figure)', 'values': {}}
#: log p(z) of the priors a VAE can take (the swiss roll has no density here)
VAE_LOG_PRIORS = {'gaussian': None, 'mixture': gaussian_mixture_log_prior}


def train_aae_model(exp, args, x_train, x_test):
    """The AAE of Fig. 2a/2c (Sec. 2); returns (encoder, decoder, discriminator)."""
    enc, dec, dis = unsupervised_aae(args.z_dim, x_train.shape[1], args.n_hidden,
                                     args.dis_output, args.dis_noise)
    for link in (enc, dec, dis):
        link.to_device(exp.device)
    optimizers = make_optimizers(enc, dec, dis, args.optimizer, lr=phase_lr(args))
    nets = {'enc': enc, 'dec': dec, 'dis': dis}
    it = exp.iterator(x_train)
    updater = AAEUpdater(it, optimizers, nets, Prior(args.prior, args.z_dim),
                         device=exp.device, rec_loss=args.rec_loss)
    monitor = PriorMatch(enc, dis, x_test, args.prior, args.z_dim, exp.device, seed=args.seed)
    drops = LRDrops.for_run(updater, optimizers, lr_drops(args))
    exp.record('lr_schedule', drops.schedule)
    exp.train(updater, models=nets, report=LOSSES + PRIOR_MATCH_REPORT,
              plots=dict(plots.loss_plots(LOSSES), **PRIOR_MATCH_PLOTS),
              extensions=[monitor, drops])
    return enc, dec, dis


def train_vae_model(exp, args, x_train, x_test):
    """The VAE of Fig. 2b/2d: the AAE's encoder and decoder sizes (two ReLU layers of
    n-hidden), a Gaussian q(z|x), a Bernoulli p(x|z) on the pixel intensities, the KL in
    closed form for N(0, I) and by Monte Carlo for the mixture (Sec. 3); Adam(1e-3) with
    the recipe's lr drops. Returns (code = mean of q(z|x), decoder mean, no discriminator)."""
    vae = VAE(x_train.shape[1], args.z_dim, (args.n_hidden, args.n_hidden), 'relu')
    vae.init_output_bias(x_train)
    vae.to_device(exp.device)
    opt = chainer.optimizers.Adam(alpha=1e-3)
    opt.setup(vae)
    updater = VAEUpdater(exp.iterator(x_train), opt,
                         device=exp.device, log_prior=VAE_LOG_PRIORS[args.prior])
    enc = lambda x: vae.encode(x)[0]
    dec = lambda z, cond=None: F.sigmoid(vae.decode(z))
    monitor = PriorMatch(enc, None, x_test, args.prior, args.z_dim, exp.device, seed=args.seed)
    drops = LRDrops.for_run(updater, {'main': opt}, lr_drops(args))
    exp.record('lr_schedule', drops.schedule)
    losses = ['main/loss', 'main/rec', 'main/kl']
    exp.train(updater, models={'vae': vae}, report=losses + PRIOR_MATCH_REPORT[:3],
              plots=dict(plots.loss_plots(losses), **PRIOR_MATCH_PLOTS),
              extensions=[monitor, drops])
    return enc, dec, None


def main(argv=None):
    parser = make_parser(__doc__, script=__file__, epoch=50, batchsize=100, out=DEFAULT_OUT,
                         quick=dict(AAE_QUICK, n_samples=100))
    parser.default_from('out', lambda a: DEFAULT_OUT + ('' if a.model == 'aae' else '_vae') + (
        '' if a.prior == 'gaussian' else '_' + a.prior),
        DEFAULT_OUT + ', or with _vae and/or _<prior> for --model vae or another --prior')
    parser.add_argument('--prior', choices=PRIORS, default='gaussian',
                        help='imposed prior p(z) (default %(default)s)')
    parser.add_argument('--z-dim', type=positive_int, default=2, help='code size (default 2)')
    parser.more.add_argument('--n-samples', type=positive_int, default=10000,
                             help='decoded prior samples saved in samples.npz (default '
                                  '%(default)s)')
    parser.add_argument('--model', choices=['aae', 'vae'], default='aae',
                        help='aae (default): the adversarial autoencoder (Fig. 2a/2c); vae: the '
                             'VAE it is compared with (Fig. 2b/2d), same layer sizes, KL by '
                             'Monte Carlo for the mixture; the AAE-only options do not apply')
    add_aae_options(parser)
    add_gaussian_recipe_option(parser)
    args = parser.parse_args(argv)
    if args.model == 'vae' and args.prior not in VAE_LOG_PRIORS:
        raise UsageError('--model vae needs a prior with a density: --prior %s'
                         % ' or '.join(VAE_LOG_PRIORS))
    exp = Experiment('aae_gaussian', args, paper=PAPER)
    data = exp.load_data()
    x_train, _, x_test, y_test = exp.train_test()

    if args.model == 'aae':
        enc, dec, dis = train_aae_model(exp, args, x_train, x_test)
    else:
        enc, dec, dis = train_vae_model(exp, args, x_train, x_test)

    # --- Fig. 2a/2c: codes of the held-out images, beside samples of the prior
    z = encode(enc, x_test, exp.device)
    z_prior, k_prior = sample_prior(args.prior, len(z), args.z_dim)
    exp.savefig(figures.codes_beside_prior(
        z, y_test, z_prior, k_prior, '%s codes of %d test images (%s prior)' % (
            args.model.upper(), len(z), args.prior), 'samples of the prior p(z)' + (
            '' if k_prior is None else ', by component'), axis_names=True), 'codes.png')
    if args.z_dim == 2:       # --- Fig. 2e: the decoder on a grid of the prior's percentiles
        exp.savefig(figures.manifold(dec, args.prior, z_prior, data.image_shape, exp.device),
                    'manifold.png')

    # --- samples: decoder means at prior samples
    samples = decode(dec, sample_prior(args.prior, args.n_samples, args.z_dim)[0],
                     device=exp.device)
    fig, _ = plots.image_grid(samples[:100], 10, data.image_shape,
                              title='decoder(z), z ~ %s prior' % args.prior)
    exp.savefig(fig, 'samples.png')
    exp.save_npz('codes.npz', z=z, labels=y_test)
    exp.save_npz('samples.npz', x=samples)

    # --- measured: reconstruction error and how well the codes match the prior
    mse, sse = reconstruction_errors(enc, dec, x_test, exp.device)
    exp.finish(measured={
        'test_reconstruction_mse_per_pixel': mse,
        'test_reconstruction_sse_per_image': sse,
        **prior_mmd(z, args.prior, args.z_dim, seed=args.seed, n=PRIOR_MATCH_POINTS),
        'code_mean': z.mean(0).tolist(), 'code_std': z.std(0).tolist(),
        'n_train_images': len(x_train), 'n_test_images': len(x_test),
        **({} if dis is None else {'discriminator': discriminator_diagnostics(
            dis, z_prior[:2000], z[:2000], exp.device)}),
    }, config={'prior': args.prior,
               'protocol': 'train on data.x_train (%d images), evaluate on data.x_test '
                           '(%d images)' % (len(x_train), len(x_test))})


if __name__ == '__main__':
    run_main(main)
