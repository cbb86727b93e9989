"""M1 VAE on MNIST: samples from N(0,I), reconstructions, the 2-D latent scatter and the
2-D manifold (Kingma & Welling 2013, Fig. 4), with the test ELBO and the importance-sampled
test NLL (k = 5000, the IWAE protocol of Burda et al. 2016).

Model (K&W 2013 Sec. 3, App. C): Gaussian encoder q(z|x) = N(mu, diag sigma^2), Bernoulli
decoder (pixel logits), prior N(0, I), one reparameterised sample per datapoint, KL in closed
form (App. B).  Model of --recipe short and manifold: 784-500-500-20 tanh (K&W's 500 tanh
units and N_z = 20; two hidden layers as in nips14-ssl's M1; ``--set n-hidden=500`` is
K&W's single layer).  Training images are binarised afresh at every use (dynamic
binarisation); ``--set binarize=static`` fixes one draw.  Adam(1e-3), as chainer's
examples/vae and Doersch's tutorial solvers (K&W used Adagrad: ``--set optimizer=adagrad
--set lr=0.01``).  The decoder's output bias starts at the logits of the training mean
(IWAE's ``get_train_bias_np``; ``--set output-bias=zero`` starts it at zero).  ``--set
init-from-ae`` first trains the same encoder mean and decoder as a plain autoencoder (the
training stage 'ae') and starts the VAE from those weights.

``--recipe`` picks the settings: ``iwae`` (default), ``manifold`` (K&W's Fig. 4: the 2-D
model below for 40 epochs, after one epoch of the main model) or ``short`` (the main model
described above for 60 epochs).

``--recipe iwae`` is the protocol behind the paper number (Burda et al. 2016, Sec. 5 and
App. C; yburda/iwae ``experiments.py``): 784-200-200-50 tanh, minibatch 20, IWAE's Adam
(beta1 0.99, epsilon 1e-4, second moments started at one; :mod:`vae.optim`), 8 stages of
3^(i-1) epochs at 1e-3 * 10^(-(i-1)/7) (3,280 epochs in all), on all 60,000 training images
(no validation split).  ``--epoch`` cuts that schedule short; ``--time-limit``/``--resume``
split it.

By default the last 10,000 training images are held out as the validation set
(``--validation``, as nips14-ssl); the model with the best validation ELBO is kept
(``model_vae_best.npz``) and its test ELBO is reported beside the last model's.  The test
ELBO is logged every epoch (``test_bound.png``, against the paper's NLL); the NLL is
estimated on all 10,000 test images at the end (``--nll-examples`` fewer).  A second model
with a 2-D latent (the training stage 'z2', after 'ae_z2' with ``init-from-ae``) is trained
for the scatter and manifold figures.
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np
import chainer
from chainer import optimizers

from datasets.binarize import DynamicBinarizeConverter, binarize_static
from expkit import Experiment, make_parser, run_main
from expkit.validate import at_most, nonnegative_int, positive_float, positive_int
from vae import figures, likelihood
from vae import optim as vae_optim
from vae.evaluate import decode_mean, encode_mean, likelihood_scores, manifold_coverage
from vae.net import VAE
from vae.updater import AutoencoderUpdater, VAEUpdater

PAPER = {
    'source': 'Burda, Grosse & Salakhutdinov 2016 (IWAE), Table 1: VAE with one stochastic '
              'layer (784-200-200-50 tanh, k=1 training), test NLL by importance sampling '
              'with k=5000 on the full 60k-image stochastically binarised MNIST; '
              'Kingma & Welling 2013 Fig. 4 for the 2-D manifold (qualitative)',
    'values': {'test_nll': 86.76},
}


#: the defaults each --recipe sets (explicit options still win)
RECIPES = {
    'short': dict(n_hidden=[500, 500], z_dim=20, activation='tanh', batchsize=100, epoch=60,
                  optimizer='adam', lr=1e-3),
    'manifold': dict(n_hidden=[500, 500], z_dim=20, activation='tanh', batchsize=100, epoch=1,
                     optimizer='adam', lr=1e-3, manifold_epoch=40, output_bias='mean'),
    'iwae': dict(n_hidden=[200, 200], z_dim=50, activation='tanh',
                 batchsize=vae_optim.IWAE_BATCHSIZE,
                 epoch=vae_optim.total_epochs(vae_optim.IWAE_STAGES), optimizer='iwae-adam',
                 lr=vae_optim.IWAE_STAGES[0][1], validation=0),
}


def make_optimizer(args, model):
    if args.optimizer == 'adam':
        opt = optimizers.Adam(alpha=args.lr)
    elif args.optimizer == 'iwae-adam':
        opt = vae_optim.IWAEAdam(alpha=args.lr)
    else:
        opt = optimizers.AdaGrad(lr=args.lr)
    opt.setup(model)
    return opt


def schedule(args, opt, updates_per_epoch):
    """The IWAE recipe's staged learning rate (:mod:`vae.optim`), or None (a constant rate)."""
    if args.recipe != 'iwae':
        return None
    return vae_optim.StagedLearningRate(
        opt, vae_optim.stage_boundaries(vae_optim.IWAE_STAGES, updates_per_epoch),
        attr='alpha' if args.optimizer != 'adagrad' else 'lr')


def stages(args):
    """The training stages of a run, in their order."""
    two_d = ['z2'] if args.manifold_epoch > 0 else []
    if args.init_from_ae:
        return ['ae', 'main'] + ['ae_' + s for s in two_d] + two_d
    return ['main'] + two_d


def train_vae(exp, args, x_train, converter, n_latent, stage, x_val=(), x_test=()):
    """Train one M1 as the training stage ``stage`` ('main' or 'z2'), after its autoencoder
    pretraining ('ae' or 'ae_z2') with init-from-ae; returns the model and its trainer.
    The main model with the best ELBO on the binarised ``x_val`` (if any) is kept as
    ``model_vae_best.npz``; its test ELBO of ``x_test`` (if any) is logged every epoch."""
    vae = VAE(784, n_latent, tuple(args.n_hidden), args.activation)
    if args.output_bias == 'mean':
        vae.init_output_bias(x_train)
    vae.to_device(exp.device)
    suffix = '' if stage == 'main' else '_' + stage
    if args.init_from_ae:
        ae_updater = AutoencoderUpdater(
            exp.iterator(x_train), make_optimizer(args, vae),
            converter=converter, device=exp.device)
        exp.train(ae_updater, stage='ae' + suffix, models={'ae' + suffix: vae},
                  report=['main/loss_ae'], stop=(args.ae_epoch, 'epoch'))
    opt = make_optimizer(args, vae)
    updater = VAEUpdater(exp.iterator(x_train), opt,
                         converter=converter, device=exp.device)
    if stage != 'main':
        return vae, exp.train(updater, stage=stage, models={'vae' + suffix: vae},
                              report=['main/loss', 'main/rec', 'main/kl'],
                              stop=(args.manifold_epoch, 'epoch'))
    validation = ['validation/elbo'] if len(x_val) else []
    test = ['test/neg_elbo'] if len(x_test) else []
    extensions = []
    staged = schedule(args, opt, len(x_train) / args.batchsize)
    if staged is not None:
        staged.name = 'lr_stages'
        extensions.append(staged)
    if test:           # for the curve only: the model is never selected on the test set
        @chainer.training.make_extension(trigger=(1, 'epoch'),
                                         priority=chainer.training.PRIORITY_WRITER)
        def test_elbo(trainer):
            chainer.report({'test/neg_elbo': -float(likelihood.elbo(vae, x_test).mean())})
        extensions.append(test_elbo)
    select = dict(name='elbo', evaluate=lambda: float(likelihood.elbo(vae, x_val).mean()),
                  models={'vae': vae}, mode='max') if validation else None
    return vae, exp.train(updater, models={'vae': vae},
                          report=['main/loss', 'main/rec', 'main/kl'] + validation + test,
                          plots={'loss.png': ['main/loss']}, extensions=extensions,
                          select=select)


def parse(argv):
    parser = make_parser(__doc__, script=__file__, epoch=60, batchsize=100,
                         out='results/vae_mnist', validation=10000,   # nips14-ssl's 50k/10k
                         quick=dict(n_test=1000, ae_epoch=1, manifold_epoch=1, iw_samples=50,
                                    nll_examples=20, n_samples=100))
    parser.add_recipe(RECIPES, 'iwae',
                      help="iwae (default): IWAE's protocol for its Table 1 VAE (sets "
                           "--z-dim 50 --batchsize 20 --epoch 3280 --validation 0, the "
                           "settings n-hidden=200,200 optimizer=iwae-adam and the staged "
                           "learning rate; a GPU-length run: cut it with --time-limit, "
                           "continue with --resume); manifold: K&W's Fig. 4, the 2-D model for "
                           "40 epochs after one epoch of the 500-500-20 model; short: that "
                           "model for 60 epochs with Adam(1e-3) (explicit options and --set "
                           "win)")
    parser.add_argument('--z-dim', type=positive_int, default=20,
                        help='N_z of the main model (default %(default)s)')
    parser.add_setting('--n-hidden', type=positive_int, nargs='+', default=[500, 500],
                       metavar='N', help='hidden layer sizes (default 500,500; K&W 2013: 500)')
    parser.add_setting('--activation', choices=['tanh', 'softplus', 'relu'], default='tanh',
                       help='hidden-layer nonlinearity (default %(default)s)')
    parser.add_setting('--optimizer', choices=['adam', 'adagrad', 'iwae-adam'], default='adam',
                       help="chainer's Adam or AdaGrad, or IWAE's Adam (vae/optim.py; default "
                            "%(default)s)")
    parser.add_setting('--lr', type=positive_float, default=1e-3,
                       help='learning rate (with --recipe iwae: of the first stage)')
    parser.add_setting('--output-bias', choices=['mean', 'zero'], default='mean',
                       help="decoder output bias at start: logits of the training mean "
                            "(default, IWAE) or zero (K&W 2013, chainer's example)")
    parser.add_setting('--binarize', choices=['dynamic', 'static'], default='dynamic',
                       help='fresh Bernoulli draw per use (default) or one fixed draw')
    parser.add_setting('--init-from-ae', action='store_true',
                       help='initialise from a plain autoencoder trained first')
    parser.add_setting('--ae-epoch', type=positive_int, default=10,
                       help='epochs of the autoencoder pretraining (default %(default)s)')
    parser.add_argument('--manifold-epoch', type=nonnegative_int, default=40,
                        help='epochs of the 2-D latent model (0 skips it)')
    parser.more.add_argument('--iw-samples', type=positive_int, default=5000,
                             help='importance samples k for the test NLL (IWAE protocol: 5000)')
    parser.more.add_argument('--n-samples', type=positive_int, default=10000,
                             help='prior samples (means of p(x|z)) saved in samples.npz for the '
                                  'generator table (default %(default)s)')
    parser.more.add_argument('--nll-examples', type=positive_int, default=None,
                             help='test images for the k-sample NLL (default: all)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    exp = Experiment('vae_mnist', args, paper=PAPER, stages=stages(args))
    data = exp.load_data()
    x_train, x_test, y_test = data.x_train, data.x_test, data.y_test

    n_nll = len(x_test) if args.nll_examples is None else args.nll_examples
    at_most('--nll-examples', n_nll, len(x_test), 'test images')

    # Test set: one fixed seeded Bernoulli draw (the usual stochastically binarised MNIST).
    x_test_bin = binarize_static(x_test, method='bernoulli', seed=123)
    if args.binarize == 'dynamic':
        converter = DynamicBinarizeConverter()
    else:
        x_train = binarize_static(x_train, method='bernoulli', seed=args.seed)
        converter = chainer.dataset.concat_examples

    x_val_bin = binarize_static(exp.validation()[0], method='bernoulli', seed=124)
    vae, trainer = train_vae(exp, args, x_train, converter, args.z_dim, 'main',
                             x_val=x_val_bin, x_test=x_test_bin)
    measured = likelihood_scores(vae, x_test_bin, n_nll, args.iw_samples)
    fig = figures.test_bound_curve(trainer, 'M1 %s on %d images' % (
        '-'.join(map(str, [784] + args.n_hidden + [args.z_dim])), len(x_train)),
        PAPER['values']['test_nll'], measured)
    exp.savefig(fig, 'test_bound.png')
    print('test ELBO %.2f nats (all %d), NLL %.2f +- %.2f nats (k=%d, %d images)'
          % (measured['test_elbo'], len(x_test_bin), measured['test_nll'],
             measured['test_nll_std_error'], args.iw_samples, measured['test_nll_examples']))

    # Figures of the main model: samples from the prior and reconstructions.
    rng = np.random.RandomState(args.seed)
    samples = decode_mean(vae, rng.standard_normal((args.n_samples, args.z_dim)))
    exp.save_npz('samples.npz', x=samples)
    exp.savefig(figures.samples_figure(samples, args.z_dim), 'samples.png')
    exp.savefig(figures.reconstructions_figure(x_test_bin[:50], decode_mean(
        vae, encode_mean(vae, x_test_bin[:50]))), 'reconstructions.png')

    if exp.selectors.get('elbo') and exp.selectors['elbo'].load_best():   # figures are done
        measured['test_elbo_best_on_validation'] = float(likelihood.elbo(vae, x_test_bin).mean())
        measured['validation_elbo_best'] = exp.selectors['elbo'].best_value

    # The 2-D latent model: scatter of the test codes and the manifold (K&W Fig. 4).
    if args.manifold_epoch > 0:
        vae2, _ = train_vae(exp, args, x_train, converter, 2, 'z2')
        z_test = encode_mean(vae2, x_test_bin)
        exp.save_npz('codes.npz', z=z_test, labels=y_test)
        exp.savefig(figures.latent_figure(z_test, y_test), 'latent_scatter.png')
        exp.savefig(figures.manifold_figure(vae2), 'manifold.png')
        measured['test_elbo_z2'] = float(likelihood.elbo(vae2, x_test_bin).mean())
        # the manifold decodes the prior's central 95 % square: is it where the codes are?
        measured['codes_z2'] = manifold_coverage(z_test)

    exp.finish(measured, config={
        'protocol': 'recipe %s: train on %d images (%s binarisation), test ELBO on %d '
                    'stochastically binarised test images (seed 123), NLL on the first %d '
                    'of them' % (args.recipe, len(x_train), args.binarize, len(x_test_bin),
                                 measured['test_nll_examples']),
        'architecture': '-'.join(map(str, [784] + args.n_hidden + [args.z_dim])),
    })


if __name__ == '__main__':
    run_main(main)
