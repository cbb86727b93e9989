"""Log-likelihood of MNIST test images under an adversarial autoencoder, by the Gaussian
Parzen window of Goodfellow et al. (2014). Paper: Makhzani et al., "Adversarial
Autoencoders" (arXiv:1511.05644), Sec. 3, Table 1 (MNIST: AAE 340 +- 2 nats; GAN 225 +- 2).

Likelihood setup of the paper's appendix, as transcribed by reproducers: an 8-D code with
the prior N(0, 5^2 I), 1000-1000 ReLU networks, sigmoid decoder. After training, 10,000
samples dec(z), z ~ p(z), are drawn; the Parzen bandwidth is chosen on held-out training
images never trained on (by default the whole validation split, training images
50,000-59,999) and the mean log-likelihood of the test images is reported with its
standard error. Beside it, a diagnostic (ours): the window on the reconstructions dec(enc(x))
of --n-samples training images (parzen_reconstructions_nats). Writes samples.png, loss_rec.png, loss.png, parzen.png (validation log-
likelihood per bandwidth), validation_parzen.png (the curve below), samples.npz and
results.json.

Model selection (ours; the paper does not say which checkpoint it scored): every
``--set select-every=N`` epochs the decoder's 10,000 fresh samples are scored by the validation
log-likelihood at their best bandwidth, and the encoder and decoder with the best score are
kept; the test number is theirs, the last model's is reported beside it
(``parzen_test_ll_last``). ``--set select-every=0`` scores the last model only.
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)

from expkit import Experiment, make_parser, run_main, plots
from expkit.validate import at_most, below, nonnegative_int, positive_float, positive_int

from datasets.mnist import stratified_split
from evaluation.parzen import parzen_evaluate, select_sigma
from aae.net import unsupervised_aae
from aae.priors import Prior
from aae.optim import LRDrops, make_optimizers
from aae.options import AAE_QUICK, add_aae_options, lr_drops, phase_lr
from aae.updater import LOSSES, AAEUpdater
from aae.evaluate import decode, encode, reconstruction_errors

PAPER = {'aae_mnist_nats': '340 +- 2', 'gan_mnist_nats': '225 +- 2',
         'gmmn_ae_mnist_nats': '282 +- 2', 'deep_gsn_mnist_nats': '214 +- 1.1'}
PAPER_TABLE_1 = {'source': 'Makhzani et al. 2015, arXiv:1511.05644, Table 1 (Parzen window '
                           'estimate on the MNIST test set, nats; full MNIST, 10k samples)',
                 'values': PAPER}


def bandwidth_images(x_val, x_train, y_train, n_valid=None, seed=0):
    """``(x_valid, x_train)``: the images that choose the Parzen bandwidth, and the training
    images left. With a validation split, its first ``n_valid`` (default: all of it);
    without, a stratified hold-out of ``n_valid`` (default 500) training images."""
    if len(x_val):
        n_valid = n_valid or len(x_val)
        at_most('--n-valid', n_valid, len(x_val), 'validation images')
        return x_val[:n_valid], x_train
    n_valid = n_valid or 500
    below('--n-valid', n_valid, len(x_train), 'training images')
    train_idx, valid_idx = stratified_split(y_train, n_valid, seed=seed)
    return x_train[valid_idx], x_train[train_idx]


def parse(argv):
    parser = make_parser(__doc__, script=__file__, epoch=50, batchsize=100,
                         out='results/aae_parzen', validation=10000,   # the paper's 50k/10k
                         quick=dict(AAE_QUICK, n_test=300, n_samples=500, n_valid=100),
                         distributed=True)
    parser.add_argument('--z-dim', type=positive_int, default=8, help='code size (paper: 8)')
    parser.add_setting('--prior-std', type=positive_float, default=5.0,
                       help='std of the Gaussian prior (paper: 5)')
    parser.more.add_argument('--n-samples', type=positive_int, default=10000,
                             help='model samples for the Parzen window (paper: 10,000)')
    parser.more.add_argument('--n-valid', type=positive_int, default=None,
                             help='validation images that choose the bandwidth: the first of '
                                  '--validation (default: all of it, 10,000 on full MNIST), '
                                  'else a stratified hold-out of the training images (default '
                                  '500)')
    parser.add_setting('--select-every', type=nonnegative_int, default=5, metavar='EPOCHS',
                       help='score the model by validation Parzen every this many epochs '
                            'and keep the best (ours; default %(default)s, 0: the last)')
    add_aae_options(parser)
    return parser.parse_args(argv)


def main(argv=None):
    """Table 1: train the AAE, keep the decoder best on validation Parzen, then score its
    samples' Parzen window on the test images (and the reconstructions, a diagnostic)."""
    args = parse(argv)
    exp = Experiment('aae_parzen', args, paper=PAPER_TABLE_1)
    data = exp.load_data()
    x_train, y_train, x_test, _ = exp.train_test()
    x_valid, x_train = bandwidth_images(data.x_val, x_train, y_train, args.n_valid, args.seed)

    enc, dec, dis = unsupervised_aae(args.z_dim, x_train.shape[1], args.n_hidden,
                                     args.dis_output, args.dis_noise)
    for link in (enc, dec, dis):
        link.to_device(exp.device)
    optimizers = exp.optimizers(make_optimizers(enc, dec, dis, args.optimizer, lr=phase_lr(args)))

    nets = {'enc': enc, 'dec': dec, 'dis': dis}
    prior = Prior('gaussian', args.z_dim, std=args.prior_std)
    it = exp.iterator(x_train)
    updater = AAEUpdater(it, optimizers, nets, prior, device=exp.device,
                         rec_loss=args.rec_loss)
    select = None
    if args.select_every:
        def validation_parzen():             # best-sigma mean log-likelihood of x_valid
            samples = decode(dec, prior(args.n_samples), device=exp.device)
            return max(select_sigma(samples, x_valid)[1])
        select = dict(name='parzen', models={'enc': enc, 'dec': dec}, mode='max',
                      evaluate=validation_parzen, trigger=(args.select_every, 'epoch'))
    drops = LRDrops.for_run(updater, optimizers, lr_drops(args))
    exp.record('lr_schedule', drops.schedule)
    trainer = exp.train(updater, models=nets, report=LOSSES + ['main/d_real', 'main/d_fake'],
                        plots=dict(plots.loss_plots(LOSSES), **({'validation_parzen.png': [
                            'validation/parzen']} if select else {})),
                        extensions=[drops], select=select)

    measured = {}
    selector = exp.selectors.get('parzen')
    if selector is not None and selector.best_value is not None:
        last = selector.last_then_best(trainer.updater.iteration, lambda: parzen_evaluate(
            decode(dec, prior(args.n_samples), device=exp.device), x_valid, x_test))
        if last is not None:                 # enc and dec are now the best on validation
            measured.update(parzen_test_ll_last=last['mean'],
                            parzen_test_ll_last_std_error=last['std_error'])
        measured['selected_iteration'] = selector.best_iteration
    samples = decode(dec, prior(args.n_samples), device=exp.device)
    res = parzen_evaluate(samples, x_valid, x_test)
    fig, _ = plots.image_grid(samples[:100], 10, data.image_shape,
                              title='AAE samples dec(z), z ~ N(0, %g^2 I), %d-D' % (
                                  args.prior_std, args.z_dim))
    exp.savefig(fig, 'samples.png')
    exp.savefig(plots.parzen_bandwidths(res, len(x_valid)), 'parzen.png')
    exp.save_npz('samples.npz', x=samples)
    mse, sse = reconstruction_errors(enc, dec, x_test, exp.device)
    # Diagnostic (ours): the same window on dec(enc(x)) of --n-samples training images, i.e.
    # samples where the codes are. Far above dec(z), z ~ p(z): the prior has holes the codes
    # leave (the regulariser's gap); near it: the decoder's images are the limit.
    recon = decode(dec, encode(enc, x_train[:args.n_samples], exp.device), device=exp.device)
    rec_res = parzen_evaluate(recon, x_valid, x_test)
    measured.update(parzen_reconstructions_nats=rec_res['mean'],
                    parzen_reconstructions_std_error=rec_res['std_error'],
                    parzen_reconstructions_sigma=rec_res['sigma'])
    measured.update({
        'parzen_test_ll_nats': res['mean'], 'parzen_test_ll_std_error': res['std_error'],
        'parzen_sigma': res['sigma'], 'parzen_valid_ll': res['valid_ll'],
        'n_samples': res['n_samples'], 'n_test_images': res['n_test'],
        'n_valid_images': len(x_valid), 'n_train_images': len(x_train),
        'test_reconstruction_mse_per_pixel': mse})
    exp.finish(measured=measured, config={
        'z_dim': args.z_dim, 'prior_std': args.prior_std,
        'model_selection': 'encoder and decoder with the best validation Parzen, scored every '
                           '%d epochs (ours)' % args.select_every if args.select_every
                           else 'the last model'})


if __name__ == '__main__':
    run_main(main)
