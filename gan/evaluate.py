"""Goodfellow et al. 2014's evaluation protocol for MNIST GANs, shared by the Goodfellow and
DCGAN experiments: a train/validation split for choosing the Parzen sigma, the Parzen
estimate itself (``evaluation.parzen``) with the training images as a reference, and the
paper's Fig. 2 (samples next to the nearest training example)."""
import numpy as np

from evaluation.metrics import squared_distances
from evaluation.parzen import DEFAULT_SIGMAS, parzen_evaluate


def split_train_valid(x, seed, n_valid_max=1000):
    """mnist.yaml: train = train[0:50000], valid = train[50000:60000] on full MNIST (the
    first ``n_valid_max`` of valid are used to choose sigma). Smaller training sets
    (mnist-5k): a seeded hold-out of 10% (at most ``n_valid_max``) as the validation split."""
    if len(x) >= 60000:
        return x[:50000], x[50000:60000][:n_valid_max]
    perm = np.random.RandomState(seed).permutation(len(x))
    n_valid = min(n_valid_max, len(x) // 10)
    return x[perm[n_valid:]], x[perm[:n_valid]]


def parzen_splits(data, seed, n_valid=None):
    """``(x_train, x_valid, y_train)`` of the Parzen protocol shared by the MNIST GAN scripts:
    the run's ``--validation`` split when it has one (full MNIST: mnist.yaml's
    train[50000:60000], all 10,000 images choose sigma), else :func:`split_train_valid`
    (the same hold-out applied to the labels); ``n_valid`` keeps the first that many
    validation images (``--parzen-valid``)."""
    if len(data.x_val):
        x_train, x_valid, y_train = data.x_train, data.x_val, data.y_train
    else:
        x_train, x_valid = split_train_valid(data.x_train, seed)
        y_train, _ = split_train_valid(data.y_train, seed)
    if n_valid:
        from expkit.validate import at_most
        x_valid = x_valid[:at_most('--parzen-valid', n_valid, len(x_valid),
                                   'validation images')]
    return x_train, x_valid, y_train


def parzen_with_reference(samples, x_train, x_valid, x_test, sigmas=DEFAULT_SIGMAS,
                          return_ll=False):
    """Parzen log-likelihood of the test split under the samples (sigma by validation), and
    the same estimate with as many training images in place of the samples (a reference
    for what this many real digits score; ``sigmas``: the candidates, Goodfellow's grid by
    default). ``return_ll``: also each test image's
    log-likelihood under both, ``(parzen, ref, ll_samples, ll_ref)``."""
    parzen, ll_samples = parzen_evaluate(samples, x_valid, x_test, sigmas, return_ll=True)
    ref, ll_ref = parzen_evaluate(x_train[:len(samples)], x_valid, x_test, sigmas,
                                  return_ll=True)
    return (parzen, ref, ll_samples, ll_ref) if return_ll else (parzen, ref)


def nearest_labels(x, x_ref, y_ref, chunk=1000):
    """Label of each row's nearest (Euclidean) row of ``x_ref``: a 1-NN digit classifier."""
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    x_ref = np.asarray(x_ref, dtype=np.float32).reshape(len(x_ref), -1)
    y_ref = np.asarray(y_ref)
    return np.concatenate([y_ref[squared_distances(x[s:s + chunk], x_ref).argmin(axis=1)]
                           for s in range(0, len(x), chunk)])


def parzen_by_digit(ll_samples, ll_ref, samples, x_train, y_train, y_test):
    """Where the Parzen gap to real digits lies (ours, a diagnostic; not in the paper).

    ``ll_samples``, ``ll_ref``: each test image's log-likelihood under the samples' window
    and under the real-digit reference window (``parzen_with_reference(return_ll=True)``;
    the reference's centres are the first ``len(samples)`` training images). For each digit
    d: the mean of both over the test images of d, and how often d occurs among the samples
    (the label of each sample's nearest training image) and among the reference's centres.
    """
    y_test = np.asarray(y_test)
    ll_s, ll_r = np.asarray(ll_samples), np.asarray(ll_ref)
    ref_digit = np.asarray(y_train[:len(samples)])
    sample_digit = nearest_labels(samples, x_train, y_train)
    digits = [int(d) for d in np.unique(y_test)]
    per = {'digit': digits, 'n_test': [], 'll_samples': [], 'll_training_images': [],
           'sample_share': [], 'training_share': []}
    for d in digits:
        m = y_test == d
        per['n_test'].append(int(m.sum()))
        per['ll_samples'].append(float(ll_s[m].mean()))
        per['ll_training_images'].append(float(ll_r[m].mean()))
        per['sample_share'].append(float((sample_digit == d).mean()))
        per['training_share'].append(float((ref_digit == d).mean()))
    per['sample_digit_rule'] = 'label of the nearest training image (Euclidean)'
    return per


def by_digit_figure(per):
    import matplotlib.pyplot as plt
    d = np.asarray(per['digit'])
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(9, 3.5))
    a0.bar(d - 0.2, per['ll_samples'], 0.4, label='GAN samples')
    a0.bar(d + 0.2, per['ll_training_images'], 0.4, label='training images')
    a0.set_xlabel('test digit')
    a0.set_ylabel('mean test log-likelihood (nats)')
    a0.legend(fontsize=8)
    a1.bar(d - 0.2, per['sample_share'], 0.4, label='GAN samples (nearest training label)')
    a1.bar(d + 0.2, per['training_share'], 0.4, label='training images (label)')
    a1.set_xlabel('digit')
    a1.set_ylabel('share of the Parzen centres')
    a1.legend(fontsize=8, loc='best')
    for ax in (a0, a1):
        ax.set_xticks(d)
    fig.tight_layout()
    return fig


def sigma_figure(parzen, ref):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogx(parzen['sigmas'], parzen['valid_ll'], 'o-', label='GAN samples')
    ax.semilogx(ref['sigmas'], ref['valid_ll'], 's--',
                label='%d training images' % ref['n_samples'])
    ax.axvline(parzen['sigma'], color='C0', lw=0.5)
    ax.set_xlabel('Parzen sigma')
    ax.set_ylabel('mean validation log-likelihood (nats)')
    ax.legend()
    fig.tight_layout()
    return fig


def nearest_neighbour_figure(samples, x_train, n_rows=6, n_cols=5):
    """Paper Fig. 2: rows of samples; the rightmost column is the nearest training example
    (Euclidean) of the sample next to it, to show the model has not memorised."""
    from expkit import plots
    s = np.asarray(samples[:n_rows * n_cols], dtype=np.float32).reshape(n_rows * n_cols, -1)
    x_train = np.asarray(x_train, dtype=np.float32).reshape(len(x_train), -1)
    rows = []
    for r in range(n_rows):
        block = s[r * n_cols:(r + 1) * n_cols]
        last = block[-1]
        d = ((x_train - last) ** 2).sum(axis=1)
        rows.append(np.concatenate([block, x_train[d.argmin()][None]], axis=0))
    fig, _ = plots.image_grid(np.concatenate(rows), n_cols + 1,
                              title='samples | nearest training image (right)')
    return fig


def evaluate_samples(exp, samples, x_train, x_valid, x_test, title, y_train=None, y_test=None):
    """The shared tail of the MNIST GAN scripts: ``samples.npz``, the sample grid, the
    nearest-neighbour figure, the Parzen estimate with its sigma curve; with the labels, the
    per-digit breakdown (:func:`parzen_by_digit`, ``parzen['by_digit']``,
    ``parzen_by_digit.png``); returns (parzen, ref)."""
    from expkit import plots
    samples = np.asarray(samples).reshape(len(samples), -1)
    exp.save_npz('samples.npz', x=samples)
    plots.save_image_grid(exp.path('samples.png'), samples[:100], 10, title=title)
    exp.savefig(nearest_neighbour_figure(samples, x_train), 'samples_nearest.png')
    parzen, ref, ll_samples, ll_ref = parzen_with_reference(samples, x_train, x_valid, x_test,
                                                            return_ll=True)
    exp.savefig(sigma_figure(parzen, ref), 'parzen_sigma.png')
    if y_train is not None and y_test is not None:
        parzen['by_digit'] = parzen_by_digit(ll_samples, ll_ref, samples, x_train, y_train,
                                             y_test)
        exp.savefig(by_digit_figure(parzen['by_digit']), 'parzen_by_digit.png')
    print('Parzen log-likelihood: %.1f +- %.1f (sigma %.3f, %d samples, %d test images); '
          'training images as samples: %.1f +- %.1f' % (
              parzen['mean'], parzen['std_error'], parzen['sigma'], parzen['n_samples'],
              parzen['n_test'], ref['mean'], ref['std_error']))
    return parzen, ref
