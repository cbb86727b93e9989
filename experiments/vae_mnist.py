"""M1 VAE on MNIST: samples from N(0,I), reconstructions, the 2-D latent scatter and the
2-D manifold (Kingma & Welling 2013, Fig. 4), with the test ELBO and the importance-sampled
test NLL (k = 5000, the IWAE protocol of Burda et al. 2016).

Model (K&W 2013 Sec. 3, App. C): Gaussian encoder q(z|x) = N(mu, diag sigma^2), Bernoulli
decoder (pixel logits), prior N(0, I), one reparameterised sample per datapoint, KL in closed
form (App. B).  Default 784-500-500-20 tanh (K&W's 500 tanh units and N_z = 20; two hidden
layers as in nips14-ssl's M1; ``--hidden 500`` is K&W's single layer).  Training images are
binarised afresh at every use (dynamic binarisation); ``--binarize static`` fixes one draw.
Adam(1e-3), as chainer's examples/vae and Doersch's tutorial solvers (K&W used Adagrad:
``--optimizer adagrad --lr 0.01``).  ``--init-from-ae`` first trains the same encoder mean and
decoder as a plain autoencoder and starts the VAE from those weights.

The last 10,000 training images are held out as the validation set (``--validation``, as
nips14-ssl); the model with the best validation ELBO is kept (``model_vae_best.npz``) and its
test ELBO is reported beside the last model's.  A second model with a 2-D latent is trained
for the scatter and manifold figures.
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import math

import numpy as np
import chainer
from chainer import iterators, optimizers
from scipy.stats import norm

from datasets.binarize import DynamicBinarizeConverter, binarize_static
from expkit import Experiment, make_parser, plots, run_main
from expkit.validate import at_most, nonnegative_int, positive_float, positive_int
from vae import likelihood
from vae.net import VAE
from vae.updater import AutoencoderUpdater, VAEUpdater

PAPER = {
    'source': 'Burda, Grosse & Salakhutdinov 2016 (IWAE), Table 1: VAE with one stochastic '
              'layer (784-200-200-50 tanh, k=1 training), test NLL by importance sampling '
              'with k=5000 on the full 60k-image stochastically binarised MNIST; '
              'Kingma & Welling 2013 Fig. 4 for the 2-D manifold (qualitative)',
    'values': {'test_nll': 86.76},
}


def make_optimizer(args, model):
    if args.optimizer == 'adam':
        opt = optimizers.Adam(alpha=args.lr)
    else:
        opt = optimizers.AdaGrad(lr=args.lr)
    opt.setup(model)
    return opt


def train_vae(exp, args, x_train, converter, n_latent, epochs, main_run, x_val=()):
    """Train one M1 (optionally after autoencoder pretraining); returns the model. The main
    run keeps the model with the best ELBO on the binarised ``x_val`` (if any) as
    ``model_vae_best.npz``."""
    vae = VAE(784, n_latent, tuple(args.hidden), args.activation)
    vae.to_device(exp.device)
    if args.init_from_ae:
        ae_opt = make_optimizer(args, vae)
        ae_updater = AutoencoderUpdater(
            iterators.SerialIterator(x_train, args.batchsize), ae_opt,
            converter=converter, device=exp.device)
        ae_epochs = 1 if args.quick else args.ae_epoch
        while ae_updater.epoch < ae_epochs:
            ae_updater.update()
        print('autoencoder pretraining (z=%d): %d epochs' % (n_latent, ae_epochs))
    opt = make_optimizer(args, vae)
    updater = VAEUpdater(iterators.SerialIterator(x_train, args.batchsize), opt,
                         converter=converter, device=exp.device)
    if main_run:
        validation = ['validation/elbo'] if len(x_val) else []
        trainer = exp.trainer(updater, models={'vae': vae},
                              report=['main/loss', 'main/rec', 'main/kl'] + validation,
                              plots={'loss.png': ['main/loss']})
        if validation:
            exp.select_best(trainer, 'elbo', lambda: float(likelihood.elbo(vae, x_val).mean()),
                            {'vae': vae}, mode='max')
        exp.run(trainer, images_per_iteration=args.batchsize)
    else:
        trainer = chainer.training.Trainer(updater, (epochs, 'epoch'), out=exp.out)
        trainer.extend(chainer.training.extensions.LogReport(filename='log_z2'))
        trainer.run()
        exp.save_model('model_vae_z2.npz', vae)
    return vae


def decode_mean(vae, z):
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        logits = vae.decode(vae.xp.asarray(z, dtype=np.float32)).array
    return chainer.backend.CpuDevice().send(1 / (1 + vae.xp.exp(-logits)))


def encode_mean(vae, x, batch=1000):
    out = []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for i in range(0, len(x), batch):
            mu, _ = vae.encode(vae.xp.asarray(x[i:i + batch]))
            out.append(chainer.backend.CpuDevice().send(mu.array))
    return np.concatenate(out)


def grid_figure(images, nrow, title, inches=6.0):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(inches, inches * len(images) / nrow / nrow + 0.4))
    plots.image_grid(images, nrow, ax=ax, title=title)
    return fig


def manifold(vae, n=20):
    """K&W Fig. 4: a grid on the unit square mapped through the Gaussian inverse CDF."""
    grid = norm.ppf(np.linspace(0.5 / n, 1 - 0.5 / n, n))
    z = np.array([[zx, zy] for zy in grid[::-1] for zx in grid], dtype=np.float32)
    return decode_mean(vae, z)


def main(argv=None):
    parser = make_parser(__doc__, epoch=60, batchsize=100, out='results/vae_mnist',
                         validation=10000)   # nips14-ssl's 50k/10k split
    parser.add_argument('--latent', type=positive_int, default=20, help='N_z of the main model')
    parser.add_argument('--hidden', type=positive_int, nargs='+', default=[500, 500],
                        help='hidden layer sizes (default 500 500; K&W 2013: 500)')
    parser.add_argument('--activation', choices=['tanh', 'softplus', 'relu'], default='tanh')
    parser.add_argument('--optimizer', choices=['adam', 'adagrad'], default='adam')
    parser.add_argument('--lr', type=positive_float, default=1e-3)
    parser.add_argument('--binarize', choices=['dynamic', 'static'], default='dynamic',
                        help='fresh Bernoulli draw per use (default) or one fixed draw')
    parser.add_argument('--init-from-ae', action='store_true',
                        help='initialise from a plain autoencoder trained first')
    parser.add_argument('--ae-epoch', type=positive_int, default=10)
    parser.add_argument('--manifold-epoch', type=nonnegative_int, default=40,
                        help='epochs of the 2-D latent model (0 skips it)')
    parser.add_argument('--iw-samples', type=positive_int, default=5000,
                        help='importance samples k for the test NLL (IWAE protocol: 5000)')
    parser.add_argument('--nll-examples', type=positive_int, default=200,
                        help='test images for the k-sample NLL (the ELBO uses all)')
    args = parser.parse_args(argv)
    exp = Experiment('vae_mnist', args, paper=PAPER)
    data = exp.load_data()
    x_train, x_test, y_test = data.x_train, data.x_test, data.y_test
    if args.quick:
        args.epoch, args.manifold_epoch = 1, min(args.manifold_epoch, 1)
        args.iw_samples, args.nll_examples = 50, 20
        x_train, x_test, y_test = x_train[:1000], x_test[:1000], y_test[:1000]

    at_most('--nll-examples', args.nll_examples, len(x_test), 'test images')

    # Test set: one fixed seeded Bernoulli draw (the usual stochastically binarised MNIST).
    x_test_bin = binarize_static(x_test, method='bernoulli', seed=123)
    if args.binarize == 'dynamic':
        converter = DynamicBinarizeConverter()
    else:
        x_train = binarize_static(x_train, method='bernoulli', seed=args.seed)
        converter = chainer.dataset.concat_examples

    x_val_bin = binarize_static(exp.validation()[0], method='bernoulli', seed=124)
    vae = train_vae(exp, args, x_train, converter, args.latent, args.epoch, main_run=True,
                    x_val=x_val_bin)
    test_elbo = likelihood.elbo(vae, x_test_bin)
    nll_x = x_test_bin[:args.nll_examples]
    test_ll = likelihood.iw_log_likelihood(vae, nll_x, n_samples=args.iw_samples)
    elbo_same = likelihood.elbo(vae, nll_x)
    measured = {
        'test_elbo': float(test_elbo.mean()),
        'test_nll': float(-test_ll.mean()),
        'test_nll_std_error': float(test_ll.std(ddof=1) / math.sqrt(len(test_ll))),
        'test_nll_examples': len(test_ll), 'iw_samples': args.iw_samples,
        'test_neg_elbo_same_examples': float(-elbo_same.mean()),
    }
    print('test ELBO %.2f nats (all %d), NLL %.2f +- %.2f nats (k=%d, %d images)'
          % (measured['test_elbo'], len(x_test_bin), measured['test_nll'],
             measured['test_nll_std_error'], args.iw_samples, len(test_ll)))

    # Figures of the main model: samples from the prior and reconstructions.
    rng = np.random.RandomState(args.seed)
    samples = decode_mean(vae, rng.standard_normal((100, args.latent)))
    exp.save_npz('samples.npz', x=samples)
    fig = grid_figure(samples, 10, 'samples: mean of p(x|z), z ~ N(0, I), N_z = %d'
                      % args.latent)
    exp.savefig(fig, 'samples.png')
    originals = x_test_bin[:50]
    recon = decode_mean(vae, encode_mean(vae, originals))
    pairs = np.concatenate([originals.reshape(5, 10, 784), recon.reshape(5, 10, 784)],
                           axis=1).reshape(-1, 784)
    fig = grid_figure(pairs, 10, 'test digits (rows 1, 3, ...) and their reconstructions')
    exp.savefig(fig, 'reconstructions.png')

    if exp.selectors.get('elbo') and exp.selectors['elbo'].load_best():   # figures are done
        measured['test_elbo_best_on_validation'] = float(likelihood.elbo(vae, x_test_bin).mean())
        measured['validation_elbo_best'] = exp.selectors['elbo'].best_value

    # The 2-D latent model: scatter of the test codes and the manifold (K&W Fig. 4).
    if args.manifold_epoch > 0:
        vae2 = train_vae(exp, args, x_train, converter, 2, args.manifold_epoch,
                         main_run=False)
        z_test = encode_mean(vae2, x_test_bin)
        exp.save_npz('codes.npz', z=z_test, labels=y_test)
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 6))
        plots.scatter_codes(ax, z_test, y_test, title='test codes E[q(z|x)], N_z = 2')
        exp.savefig(fig, 'latent_scatter.png')
        fig = grid_figure(manifold(vae2), 20, 'learned 2-D manifold (K&W 2013 Fig. 4a)',
                          inches=8.0)
        exp.savefig(fig, 'manifold.png')
        measured['test_elbo_z2'] = float(likelihood.elbo(vae2, x_test_bin).mean())

    exp.finish(measured, config={
        'protocol': 'train on %d images (%s binarisation), test ELBO on %d stochastically '
                    'binarised test images (seed 123), NLL on the first %d of them'
                    % (len(x_train), args.binarize, len(x_test_bin), len(test_ll)),
        'architecture': '-'.join(map(str, [784] + args.hidden + [args.latent])),
    })


if __name__ == '__main__':
    run_main(main)
