"""Semi-supervised MNIST with M2 or M1+M2 (Kingma, Rezende, Mohamed & Welling 2014, Sec. 3.2
and Table 1): M1's features for M2 (Sec. 3.2.3; nips14-ssl ``learn_yz_x_ss.py``,
'mnist_2layer'), the classifier, the analogy figure's images and nips14-ssl's minibatch
composition. The experiment is ``experiments/m2_semisupervised.py`` (and
``m1m2_semisupervised.py``).

M2 is trained on the latent code of a trained M1.  The official code

1. encodes the data with M1's q(z|x) = N(mean, exp(logvar)),
2. keeps the latent dimensions whose posterior mean varies (std over 1,000 unlabelled
   examples > 0.1; the rest collapsed to the prior and carry no information),
3. feeds M2 a *fresh sample* x' ~ N(mean, exp(logvar)) at every minibatch, while the
   validation/test sets are represented by the posterior mean.
"""
import numpy as np
import chainer
from chainer import optimizers
from chainer.dataset import concat_examples
from chainer.datasets import TupleDataset

from datasets.binarize import DynamicBinarizeConverter, binarize_static
from evaluation.inference import predict
from evaluation.metrics import classification_error
from expkit import UsageError, plots
from vae import likelihood
from vae.net import M2, VAE
from vae.optim import NIPS14Adam
from vae.updater import add_weight_decay

#: M1's gate before M2 starts (:func:`m1_gate`): the median signal-to-noise ratio of the
#: sampled codes on the kept dimensions must reach this. Ours, set between two measured
#: runs: 1.0 (a 30-epoch M1, whose M2 stayed at 25-28 % error) and 1.67 (the nips14 recipe's
#: M1 after 900 epochs on full MNIST, whose M2 reached 5.6 % after 53k updates; record
#: m1m2_nips14_full); nips14-ssl's released M1 measures 2.9.
M1_GATE_SNR = 1.5


def nips14_composition(n_labelled, n_unlabelled, n_labels_option):
    """(unlabelled, labelled) examples per minibatch as ``learn_yz_x_ss.py``: both sets are
    cut into ``n_minibatches`` equal parts, 100 with 100 labels and 200 otherwise
    (``run_2layer_ssl.py``), e.g. 499 + 1 with 100 labels on the 50k training split."""
    n_minibatches = 100 if n_labels_option == 100 else 200
    return max(1, n_unlabelled // n_minibatches), max(1, n_labelled // n_minibatches)


def minibatch_sizes(recipe, batch_u, batch_l, n_labelled, n_unlabelled, n_labels_option):
    """(unlabelled, labelled) examples per M2 step: ``batch_u`` and ``batch_l`` where given
    (not None), else under the ``recipe`` nips14 :func:`nips14_composition`'s, else 100
    labelled (``--recipe ours``)."""
    if recipe == 'nips14':                      # learn_yz_x_ss.py: equal parts of both sets
        parts = nips14_composition(n_labelled, n_unlabelled, n_labels_option)
        batch_u, batch_l = batch_u or parts[0], batch_l or parts[1]
    return batch_u, batch_l or 100


def encode_dataset(vae, x, batch_size=1000):
    """Posterior mean and log-variance of M1's q(z|x) for every row of x (NumPy)."""
    return predict(vae.encode, np.asarray(x, np.float32), device=vae.device,
                   batchsize=batch_size)


def active_dimensions(mean, threshold=0.1):
    """Boolean mask of latent dims whose posterior mean has std > threshold (nips14-ssl)."""
    return mean.std(axis=0) > threshold


class GaussianFeatureConverter(object):
    """Converter for datasets of (mean, ln_var[, y]): samples x' = mean + sigma * eps afresh."""

    def __call__(self, batch, device=None):
        arrays = concat_examples(batch, device)
        mean, ln_var = arrays[0], arrays[1]
        xp = chainer.backend.get_array_module(mean)
        x = mean + xp.exp(0.5 * ln_var) * xp.random.standard_normal(
            mean.shape).astype(mean.dtype)                       # x' ~ q(z|x) of M1
        return (x,) + tuple(arrays[2:]) if len(arrays) > 2 else x


def classify(model, x):
    """argmax q(y|x) of M2 for the rows of ``x`` (NumPy), in test mode."""
    return predict(model.classify, np.asarray(x), device=model.device).argmax(axis=1)


def new_m1():
    """M1 of nips14-ssl (``mnist_z_x_50-500-500``): 784-500-500-50 softplus, Bernoulli."""
    return VAE(784, 50, (500, 500), 'softplus')


def new_m2(n_in, z_dim, n_hidden, output, init_std, optimizer, lr, n_data, device):
    """M2 (Sec. 2.2, nips14-ssl ``learn_yz_x_ss.py``) on ``device``: q(z|x,y), p(x|y,z)
    (``output`` 'bernoulli' on images, 'gaussian' on M1's code) and q(y|x) over 10 classes,
    one softplus hidden layer of ``n_hidden`` units, weights N(0, init_std^2) (0: LeCun);
    with its optimiser, step size ``lr``: ``optimizer`` 'nips14-adam' (nips14-ssl's
    ``adam.py``, :class:`vae.optim.NIPS14Adam`) or 'adam' (chainer's), and a N(0, 1) prior
    on the weights (a weight decay of 1 / ``n_data``, per datum). Returns (M2, optimiser)."""
    m2 = M2(n_in, z_dim, (n_hidden,), 10, 'softplus', output, init_std=init_std or None)
    m2.to_device(device)
    opt = NIPS14Adam(alpha=lr) if optimizer == 'nips14-adam' else \
        optimizers.Adam(alpha=lr, beta1=0.9, beta2=0.999)
    opt.setup(m2)
    add_weight_decay(m2, 1.0 / n_data)
    return m2, opt


def load_m1(path, device):
    """A trained M1 from ``model_m1.npz`` of an earlier run (``--m1-model``)."""
    m1 = new_m1()
    try:
        chainer.serializers.load_npz(path, m1)
    except Exception as exc:
        raise UsageError('--m1-model %s: cannot load it (%s)'
                         % (path, ' '.join(str(exc).split())[:200]))
    m1.to_device(device)
    return m1


def m2_inputs(x_train, y_train, labelled, unlabelled, x_test_bin, x_val):
    """M2's data on the images (as :func:`m1_inputs` on M1's code): the labelled and
    unlabelled training sets binarised afresh every minibatch, the test and validation
    images binarised once with a seed."""
    return dict(n_in=784, active=None, diagnostics=None,
                train_l=TupleDataset(x_train[labelled], y_train[labelled]),
                train_u=x_train[unlabelled], converter=DynamicBinarizeConverter(),
                x_test_in=x_test_bin,
                x_val_in=binarize_static(x_val, method='bernoulli', seed=124))


def m1_inputs(m1, features, x_train, y_train, labelled, unlabelled, x_test, x_val, y_test,
              x_test_bin):
    """M2's data on M1's code: the active dimensions, the labelled and unlabelled training
    sets with their converter (``features`` 'sample': a fresh x' ~ q(z|x) every minibatch,
    nips14-ssl; 'mean': the posterior mean), the test and validation inputs (posterior
    means of the grey images, as nips14-ssl) and :func:`m1_diagnostics`."""
    mean, ln_var = encode_dataset(m1, x_train)
    active = active_dimensions(mean[unlabelled[:1000]])
    if active.sum() == 0:              # an (under-trained) M1 whose codes all collapsed
        std = mean[unlabelled[:1000]].std(axis=0)
        active = std >= np.sort(std)[-10]
        print('M1: no dimension has posterior-mean std > 0.1; keeping the 10 largest')
    mean, ln_var = mean[:, active], ln_var[:, active]
    n_in = int(active.sum())
    print('M1: %d of %d latent dimensions active' % (n_in, m1.n_latent))
    if features == 'sample':
        train_l = TupleDataset(mean[labelled], ln_var[labelled], y_train[labelled])
        train_u = TupleDataset(mean[unlabelled], ln_var[unlabelled])
        converter = GaussianFeatureConverter()
    else:
        train_l = TupleDataset(mean[labelled], y_train[labelled])
        train_u = mean[unlabelled]
        converter = concat_examples
    x_test_in = encode_dataset(m1, x_test)[0][:, active]
    x_val_in = encode_dataset(m1, x_val)[0][:, active] if len(x_val) else \
        np.zeros((0, n_in), np.float32)
    diagnostics = m1_diagnostics(mean, ln_var, y_train, labelled, x_test_in, y_test,
                                 m1.n_latent)
    diagnostics['test_elbo'] = float(likelihood.elbo(m1, x_test_bin).mean())
    print('M1 diagnostics: %s' % diagnostics)
    return dict(n_in=n_in, active=active, train_l=train_l, train_u=train_u,
                converter=converter, x_test_in=x_test_in, x_val_in=x_val_in,
                diagnostics=diagnostics)


def m1_diagnostics(mean, ln_var, y, labelled, x_test_in, y_test, n_latent):
    """What M2 will be fed, measured on M1's kept dimensions of the training set.

    * ``kept_dims``: dimensions kept by nips14-ssl's rule (posterior-mean std > 0.1);
    * ``posterior_sd_median``: the median over kept dims of the mean posterior sd;
    * ``sampled_code_snr_median``: per kept dim, the std of the posterior mean across
      images over the rms posterior sd -- how far apart the digits' codes are, in units of
      the noise of one sample x' ~ q(z|x), which is what M2 sees; the median over dims.
      It was 2.9 with nips14-ssl's released M1 and 1.0 with a 30-epoch M1 of ours, whose
      M2 did not learn;
    * ``logreg_labelled_codes_test_error_percent``: a logistic regression on the labelled
      codes alone (the supervised baseline M2's classifier has to beat).
    The gate (:func:`m1_gate`) reads the signal-to-noise ratio.
    """
    from sklearn.linear_model import LogisticRegression
    sd = np.exp(0.5 * np.asarray(ln_var, np.float64))
    snr = mean.std(axis=0) / np.sqrt((sd ** 2).mean(axis=0))
    baseline = LogisticRegression(max_iter=2000).fit(mean[labelled], y[labelled])
    return {'kept_dims': int(mean.shape[1]), 'latent_dims': int(n_latent),
            'posterior_sd_median': float(np.median(sd.mean(axis=0))),
            'sampled_code_snr_median': float(np.median(snr)),
            'logreg_labelled_codes_test_error_percent':
                100 * classification_error(baseline.predict(x_test_in), y_test)}


def m1_gate(diagnostics, mode):
    """Check M1 before M2 starts: ``'pass'``, or ``'failed'`` (printed, and with ``mode``
    'stop' a one-line error naming the fix; the trained M1 is already saved)."""
    snr = diagnostics['sampled_code_snr_median']
    if snr >= M1_GATE_SNR:
        return 'pass'
    message = ('M1 gate: the sampled codes\' median signal-to-noise ratio is %.2f < %.1f, '
               'too noisy for M2 to learn classes from; train M1 longer (--m1-epoch, or '
               '--m1-model with a better M1) or pass --set m1-gate=warn to train M2 anyway'
               % (snr, M1_GATE_SNR))
    if mode == 'stop':
        raise UsageError(message)
    print('WARNING: ' + message)
    return 'failed'


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
    y_hat = classify(model, x_test_in[:n_rows])
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        mu, _ = model.encoder(x, xp.asarray(y_hat, np.int32))
    mu = chainer.backend.CpuDevice().send(mu.array)
    rows = []
    for r in range(n_rows):
        fantasies = decode_m2(model, np.repeat(mu[r:r + 1], model.n_classes, 0),
                              np.arange(model.n_classes), m1, active)
        rows.append(np.concatenate([images[r:r + 1], fantasies]))
    return np.concatenate(rows)


def analogies_figure(grid):
    """Kingma 2014 Fig. 1: each row a test digit, then the decoder's mean for y = 0..9 with
    that digit's z (:func:`analogies`)."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 5.6))
    plots.image_grid(grid, 11, ax=ax, title='test digit | mean of p(x|y,z) for y = 0..9, '
                                            'z from q(z|x,y) (Kingma 2014 Fig. 1)')
    return fig
