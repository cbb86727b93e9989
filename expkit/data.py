"""The data of a run: ``datasets.load`` for ``--dataset``/``--data-dir``, the validation
hold-out (``--validation``) and the subsets ``--n-train``/``--n-test``."""
from expkit import validate


def load(run, name=None, **kwargs):
    """The data set of ``run`` (:class:`expkit.config.RunConfig`), ``name`` overriding
    ``--dataset``: the validation images held out, then the first ``--n-train`` training and
    ``--n-test`` test images kept (at most ``--n-test`` validation images)."""
    import datasets
    data = datasets.load(name or run.dataset, data_dir=run.data_dir, **kwargs)
    hold_out_validation(data, run.validation, run.validation_default)
    data.subset(run.n_train, run.n_test)
    return data


def hold_out_validation(data, n, default):
    """``--validation N``: the last N training images become ``data.x_val``; by default
    (``n`` None) the script's paper protocol ``default`` on the official 60,000 training
    images, else none."""
    n_all = len(data.x_train)
    if n is None:
        n = default if n_all == 60000 else 0
        if default and n_all != 60000:
            data.info.setdefault('notes', []).append(
                'no validation split: the default --validation %d (the paper\'s protocol) '
                'needs the official 60,000 training images, this training set has %d'
                % (default, n_all))
    else:                                    # >= 0 already (nonnegative_int)
        validate.below('--validation', n, n_all, 'training images of %s' % data.name)
    data.hold_out(n)
