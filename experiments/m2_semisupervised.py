"""Semi-supervised MNIST with the generative model M2, or M1+M2 (``--model m1m2``): test
error of the classifier q(y|x) with 100/600/1000/3000 labels, and the analogy figure (fix z
from a test digit, vary y; Kingma, Rezende, Mohamed & Welling 2014, Table 1 and Fig. 1).

M2 (Sec. 2.2, Eq. 9, and dpkingma/nips14-ssl ``learn_yz_x_ss.py``): q(z|x,y), p(x|y,z) and
q(y|x), one softplus hidden layer (500 units; 300 for M1+M2 with 100 labels, as
``run_2layer_ssl.py``), 50 latent dims, p(y) uniform.  Labelled examples maximise
L(x,y) + beta log q(y|x) with beta = alpha N / N_l and alpha = 0.1; unlabelled examples
maximise U(x) with y summed out exactly over the 10 classes.  Weights start at
N(0, 1e-3^2) (``init_w(1e-3)``).  Adam(3e-4, 0.9, 0.999), a
N(0, 1) prior on the weights (weight decay 1/N), labels balanced per class, every other
training image unlabelled.  Each step takes one unlabelled and one labelled minibatch.
As nips14-ssl, the last 10,000 training images are the validation set (``--validation``);
the model with the lowest validation error is kept (``model_m2_best.npz``) and its test
error is reported beside the last model's.

M1+M2 (Sec. 3.2.3; ``run_2layer_ssl.py``): M1 (784-500-500-50 softplus, Bernoulli) is
trained first on all training images; M2 is then trained on its latent code with a Gaussian
p(x|y,z), on the dimensions whose posterior mean varies (std > 0.1), the code resampled from
q(z|x) every minibatch; test digits are represented by their posterior mean.
``--m1-features mean`` feeds the posterior mean instead (a diagnostic, not the official
setting).  For M1+M2, results.json also records how much class structure M1's code carries
(``m1_feature_diagnostics``; docs/results/vae.md, Sec. 4).
"""
import chainer_compat  # noqa: F401  (before chainer: see chainer_compat)
import numpy as np
import chainer
from chainer import iterators, optimizers
from chainer.dataset import concat_examples
from chainer.datasets import TupleDataset
from chainer.training import Trainer, extensions

from datasets.binarize import DynamicBinarizeConverter, binarize_static
from datasets.semisup import split_labelled
from evaluation.metrics import classification_error
from expkit import Experiment, UsageError, make_parser, plots, run_main
from expkit.validate import nonnegative_float, positive_float, positive_int, readable_file
from vae import semisup
from vae.net import M2, VAE
from vae.updater import M2Updater, VAEUpdater, add_weight_decay

PAPER_TABLE1 = {   # Kingma et al. 2014, Table 1: test error (%) on MNIST, 50k training images
    'm2': {100: '11.97 +- 1.71', 600: '4.94 +- 0.13', 1000: '3.60 +- 0.56',
           3000: '3.92 +- 0.63'},
    'm1m2': {100: '3.33 +- 0.14', 600: '2.59 +- 0.05', 1000: '2.40 +- 0.02',
             3000: '2.18 +- 0.04'},
}


def predict(model, x, batch=1000):
    to_cpu = chainer.backend.CpuDevice().send
    out = []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for i in range(0, len(x), batch):
            logits = model.classify(model.xp.asarray(x[i:i + batch]))
            out.append(to_cpu(logits.array).argmax(axis=1))
    return np.concatenate(out)


class TestError(chainer.training.Extension):
    """Reports the classification error of q(y|x) on (a subset of) the test set."""
    trigger = (1, 'epoch')
    priority = chainer.training.PRIORITY_WRITER

    def __init__(self, model, x, y):
        self.model, self.x, self.y = model, x, y

    def __call__(self, trainer):
        chainer.report({'test/error': classification_error(predict(self.model, self.x),
                                                           self.y)})


def train_m1(exp, args, x_train):
    """M1 of nips14-ssl (``mnist_z_x_50-500-500``): 784-500-500-50 softplus, Bernoulli."""
    m1 = VAE(784, 50, (500, 500), 'softplus')
    m1.to_device(exp.device)
    opt = optimizers.Adam(alpha=args.m1_lr)
    opt.setup(m1)
    updater = VAEUpdater(iterators.SerialIterator(x_train, args.batchsize), opt,
                         converter=DynamicBinarizeConverter(), device=exp.device)
    trainer = Trainer(updater, (args.m1_epoch, 'epoch'), out=exp.out)
    trainer.extend(extensions.LogReport(filename='log_m1'))
    trainer.extend(extensions.PrintReport(['epoch', 'main/loss', 'elapsed_time']))
    trainer.run()
    exp.save_model('model_m1.npz', m1)
    return m1


def m1_feature_diagnostics(mean, ln_var, y, labelled, x_test_in, y_test):
    """How much class information M2 gets from M1's code (not used for training).

    * the median posterior sd of the kept dims and how many carry signal (mean std > 0.5);
    * ``class_gain_*_nats``: ``semisup.class_structure_gain`` with the true labels of all
      training images, on one fresh sample of the code (what M2 is fed) and on the means;
    * the test error of a logistic regression on the labelled codes alone (the supervised
      baseline M2's classifier has to beat).
    """
    from sklearn.linear_model import LogisticRegression
    rng = np.random.RandomState(0)
    sample = mean + np.exp(0.5 * ln_var) * rng.standard_normal(mean.shape)
    baseline = LogisticRegression(max_iter=2000).fit(mean[labelled], y[labelled])
    return {'posterior_sd_median': float(np.median(np.exp(0.5 * ln_var).mean(0))),
            'dims_with_mean_std_over_0.5': int((mean.std(0) > 0.5).sum()),
            'class_gain_sampled_nats': semisup.class_structure_gain(sample, y),
            'class_gain_mean_nats': semisup.class_structure_gain(mean, y),
            'logreg_labelled_codes_test_error_percent':
                100 * classification_error(baseline.predict(x_test_in), y_test)}


def decode_m2(model, z, y, m1=None, active=None):
    """Mean image of p(x|y,z); for M1+M2 pushed through M1's decoder."""
    xp = model.xp
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        out = model.decoder(xp.asarray(z, np.float32), xp.asarray(y, np.int32))
        if m1 is None:
            image = 1 / (1 + xp.exp(-out.array))
        else:
            code = xp.zeros((len(z), m1.n_latent), np.float32)
            code[:, xp.asarray(active)] = out[0].array                # E[p(z1|y,z2)]
            image = 1 / (1 + xp.exp(-m1.decode(code).array))
    return chainer.backend.CpuDevice().send(image)


def analogies(model, x_test_in, images, m1=None, active=None, n_rows=8):
    """Kingma 2014 Fig. 1(b): z from q(z|x,y) of a test digit (y = argmax q(y|x)), all y."""
    xp = model.xp
    x = xp.asarray(x_test_in[:n_rows])
    y_hat = predict(model, x_test_in[:n_rows])
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        mu, _ = model.encoder(x, xp.asarray(y_hat, np.int32))
    mu = chainer.backend.CpuDevice().send(mu.array)
    rows = []
    for r in range(n_rows):
        fantasies = decode_m2(model, np.repeat(mu[r:r + 1], model.n_classes, 0),
                              np.arange(model.n_classes), m1, active)
        rows.append(np.concatenate([images[r:r + 1], fantasies]))
    return np.concatenate(rows)


def main(argv=None, model_default='m2', out_default='results/m2_semisupervised'):
    parser = make_parser(__doc__, epoch=30, batchsize=100, out=out_default,
                         validation=10000)   # nips14-ssl: 50k train / 10k validation
    parser.add_argument('--model', choices=['m2', 'm1m2'], default=model_default)
    parser.add_argument('--labels', type=int, choices=[100, 600, 1000, 3000], default=100)
    parser.add_argument('--labelled-batchsize', type=positive_int, default=100)
    parser.add_argument('--alpha', type=nonnegative_float, default=0.1,
                        help='beta = alpha * N / N_labelled (nips14-ssl: 0.1)')
    parser.add_argument('--latent', type=positive_int, default=50)
    parser.add_argument('--hidden', type=positive_int, default=None,
                        help='hidden units (default 500; 300 for m1m2 with 100 labels)')
    parser.add_argument('--lr', type=positive_float, default=3e-4)
    parser.add_argument('--init-std', type=nonnegative_float, default=1e-3,
                        help='weights ~ N(0, std^2) as nips14-ssl init_w(1e-3); 0 = LeCun')
    parser.add_argument('--m1-epoch', type=positive_int, default=30, help='M1 epochs (m1m2 only)')
    parser.add_argument('--m1-lr', type=positive_float, default=1e-3)
    parser.add_argument('--m1-features', choices=['sample', 'mean'], default='sample',
                        help="M2's input: a fresh sample of M1's q(z|x) every minibatch "
                             "(nips14-ssl) or its posterior mean (m1m2 only)")
    parser.add_argument('--m1-model', type=readable_file, default=None, metavar='NPZ',
                        help='reuse a trained M1 (model_m1.npz of an earlier m1m2 run) '
                             'instead of training one')
    args = parser.parse_args(argv)
    if args.m1_model and args.model != 'm1m2':
        raise UsageError('--m1-model only applies to --model m1m2')
    if args.m1_features != 'sample' and args.model != 'm1m2':
        raise UsageError('--m1-features only applies to --model m1m2')
    name = {'m2': 'm2_semisupervised', 'm1m2': 'm1m2_semisupervised'}[args.model]
    exp = Experiment(name, args, paper={
        'source': 'Kingma et al. 2014, Table 1 (test error %%, %s, N=%d labels, 50,000 '
                  'training images, 3000 passes)' % (args.model.upper(), args.labels),
        'values': {'test_error_percent': PAPER_TABLE1[args.model][args.labels]}})
    data = exp.load_data()
    x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    if args.quick:
        args.epoch, args.m1_epoch = 1, 1
        keep = np.concatenate([np.flatnonzero(y_train == k)[:30] for k in range(10)])
        x_train, y_train = x_train[keep], y_train[keep]
        x_test, y_test = x_test[:500], y_test[:500]
    hidden = args.hidden or (300 if args.model == 'm1m2' and args.labels == 100 else 500)
    labelled, unlabelled = split_labelled(y_train, args.labels, seed=args.seed)
    n_l, n_u = len(labelled), len(unlabelled)
    x_test_bin = binarize_static(x_test, method='bernoulli', seed=123)
    x_val, y_val = exp.validation()
    x_val_bin = binarize_static(x_val, method='bernoulli', seed=124)

    m1 = active = diagnostics = None
    if args.model == 'm2':
        n_in, likelihood = 784, 'bernoulli'
        train_l = TupleDataset(x_train[labelled], y_train[labelled])
        train_u = x_train[unlabelled]
        converter = labelled_converter = DynamicBinarizeConverter()
        x_test_in, x_val_in = x_test_bin, x_val_bin
    elif args.m1_model:
        m1 = VAE(784, 50, (500, 500), 'softplus')
        try:
            chainer.serializers.load_npz(args.m1_model, m1)
        except Exception as exc:
            raise UsageError('--m1-model %s: cannot load it (%s)'
                             % (args.m1_model, ' '.join(str(exc).split())[:200]))
        m1.to_device(exp.device)
    else:
        m1 = train_m1(exp, args, x_train)
    if m1 is not None:
        mean, ln_var = semisup.encode_dataset(m1, x_train)
        active = semisup.active_dimensions(mean[unlabelled[:1000]])
        if active.sum() == 0:              # an (under-trained) M1 whose codes all collapsed
            std = mean[unlabelled[:1000]].std(axis=0)
            active = std >= np.sort(std)[-10]
            print('M1: no dimension has posterior-mean std > 0.1; keeping the 10 largest')
        mean, ln_var = mean[:, active], ln_var[:, active]
        n_in, likelihood = int(active.sum()), 'gaussian'
        print('M1: %d of 50 latent dimensions active' % n_in)
        if args.m1_features == 'sample':            # nips14-ssl: x' ~ q(z|x) afresh
            train_l = TupleDataset(mean[labelled], ln_var[labelled], y_train[labelled])
            train_u = TupleDataset(mean[unlabelled], ln_var[unlabelled])
            converter = labelled_converter = semisup.GaussianFeatureConverter()
        else:                                       # deterministic posterior mean
            train_l = TupleDataset(mean[labelled], y_train[labelled])
            train_u = mean[unlabelled]
            converter = labelled_converter = concat_examples
        # nips14-ssl encodes the grey images for train, validation and test alike
        x_test_in = semisup.encode_dataset(m1, x_test)[0][:, active]
        x_val_in = semisup.encode_dataset(m1, x_val)[0][:, active] if len(x_val) else \
            np.zeros((0, n_in), np.float32)
        diagnostics = m1_feature_diagnostics(mean, ln_var, y_train, labelled, x_test_in,
                                             y_test)
        print('M1 features: %s' % diagnostics)

    model = M2(n_in, args.latent, (hidden,), 10, 'softplus', likelihood,
               init_std=args.init_std or None)
    model.to_device(exp.device)
    opt = optimizers.Adam(alpha=args.lr, beta1=0.9, beta2=0.999)
    opt.setup(model)
    add_weight_decay(model, 1.0 / (n_l + n_u))        # N(0, 1) prior on weights, per datum
    its = {'main': iterators.SerialIterator(train_u, args.batchsize),
           'labelled': iterators.SerialIterator(train_l, min(args.labelled_batchsize, n_l))}
    updater = M2Updater(its, opt, n_l, n_u, args.alpha, converter=converter,
                        labelled_converter=labelled_converter, device=exp.device)
    validation = ['validation/error'] if len(x_val) else []
    trainer = exp.trainer(updater, models={'m2': model},
                          report=['main/loss', 'main/bound_l', 'main/bound_u',
                                  'main/loss_cls', 'test/error'] + validation,
                          plots={'loss.png': ['main/loss'],
                                 'test_error.png': ['test/error'] + validation})
    trainer.extend(TestError(model, x_test_in[:2000], y_test[:2000]))
    if validation:                           # model selection on the validation error
        exp.select_best(trainer, 'error', lambda: classification_error(
            predict(model, x_val_in), y_val), {'m2': model})
    exp.run(trainer, images_per_iteration=args.batchsize + min(args.labelled_batchsize, n_l))

    error = classification_error(predict(model, x_test_in), y_test)
    print('test error %.2f %% (%d test images, %d labels)' % (100 * error, len(y_test), n_l))
    grid = analogies(model, x_test_in, x_test_bin, m1, active)
    exp.save_npz('samples.npz', x=grid)
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 5.6))
    plots.image_grid(grid, 11, ax=ax, title='test digit | mean of p(x|y,z) for y = 0..9, '
                                            'z from q(z|x,y) (Kingma 2014 Fig. 1)')
    exp.savefig(fig, 'analogies.png')
    measured = {'test_error_percent': 100 * error, 'n_test': len(y_test),
                'n_validation': len(y_val)}
    if diagnostics:
        measured['m1_feature_diagnostics'] = diagnostics
    if validation and exp.selectors['error'].load_best():     # last model's figures are done
        measured['test_error_percent_best_on_validation'] = \
            100 * classification_error(predict(model, x_test_in), y_test)
        measured['validation_error_percent_best'] = 100 * exp.selectors['error'].best_value
    exp.finish(measured, config={
        'hidden': hidden, 'n_labelled': n_l, 'n_unlabelled': n_u,
        'beta': args.alpha * (n_l + n_u) / n_l,
        'active_m1_dims': None if active is None else int(active.sum()),
        'protocol': '%d labelled (balanced) + %d unlabelled training images, test error on '
                    '%d test images (%s)' % (n_l, n_u, len(y_test),
                                             'seeded binarisation' if m1 is None else
                                             'M1 posterior mean of the grey image')})


if __name__ == '__main__':
    run_main(main)
