"""Goodfellow et al. 2014's evaluation protocol for MNIST GANs, shared by the Goodfellow and
DCGAN experiments: a train/validation split for choosing the Parzen sigma, the Parzen
estimate itself (``evaluation.parzen``) with the training images as a reference, and the
paper's Fig. 2 (samples next to the nearest training example)."""
import numpy as np

from evaluation.parzen import parzen_evaluate


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
    """``(x_train, x_valid)`` of the Parzen protocol shared by the MNIST GAN scripts: the
    run's ``--validation`` split when it has one (full MNIST: mnist.yaml's
    train[50000:60000], all 10,000 images choose sigma), else :func:`split_train_valid`;
    ``n_valid`` keeps the first that many validation images (``--parzen-valid``)."""
    if len(data.x_val):
        x_train, x_valid = data.x_train, data.x_val
    else:
        x_train, x_valid = split_train_valid(data.x_train, seed)
    if n_valid:
        from expkit.validate import at_most
        x_valid = x_valid[:at_most('--parzen-valid', n_valid, len(x_valid),
                                   'validation images')]
    return x_train, x_valid


def parzen_with_reference(samples, x_train, x_valid, x_test):
    """Parzen log-likelihood of the test split under the samples (sigma by validation), and
    the same estimate with as many training images in place of the samples (a reference
    for what this many real digits score)."""
    parzen = parzen_evaluate(samples, x_valid, x_test)
    ref = parzen_evaluate(x_train[:len(samples)], x_valid, x_test)
    return parzen, ref


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


def evaluate_samples(exp, samples, x_train, x_valid, x_test, title):
    """The shared tail of the MNIST GAN scripts: ``samples.npz``, the sample grid, the
    nearest-neighbour figure, the Parzen estimate with its sigma curve; returns (parzen, ref)."""
    from expkit import plots
    samples = np.asarray(samples).reshape(len(samples), -1)
    exp.save_npz('samples.npz', x=samples)
    plots.save_image_grid(exp.path('samples.png'), samples[:100], 10, title=title)
    exp.savefig(nearest_neighbour_figure(samples, x_train), 'samples_nearest.png')
    parzen, ref = parzen_with_reference(samples, x_train, x_valid, x_test)
    exp.savefig(sigma_figure(parzen, ref), 'parzen_sigma.png')
    print('Parzen log-likelihood: %.1f +- %.1f (sigma %.3f, %d samples, %d test images); '
          'training images as samples: %.1f +- %.1f' % (
              parzen['mean'], parzen['std_error'], parzen['sigma'], parzen['n_samples'],
              parzen['n_test'], ref['mean'], ref['std_error']))
    return parzen, ref
