"""Training steps of the VAE family (``chainer.training.StandardUpdater`` subclasses).

Each updater minimises the minibatch mean of the negative bound and reports its parts with
``chainer.report`` under ``main/...``.  Binarisation belongs to the converter (e.g.
``datasets.binarize.DynamicBinarizeConverter``: a fresh Bernoulli draw every time an image
is fed, the "binarisation trick"), so every updater sees the input it should model.
"""
import chainer
import chainer.functions as F
from chainer.dataset import concat_examples
from chainer.optimizer_hooks import WeightDecay
from chainer.training import StandardUpdater
from fused_updates import FlushDenormals

from vae import loss as vae_loss


def add_weight_decay(model, rate, biases=False):
    """L2 on weight matrices only, not biases (``biases=True``: on every parameter).

    Doersch's solvers use ``weight_decay: 0.0005`` with ``decay_mult: 0`` on biases;
    nips14-ssl's M2 puts a N(0, 1) prior on weights, i.e. a decay of 1/N per datapoint;
    its M1 (``gpulearn_z_x.py``) decays every parameter.
    """
    for name, param in model.namedparams():
        if biases or name.endswith('/W'):
            param.update_rule.add_hook(WeightDecay(rate))
            param.update_rule.add_hook(FlushDenormals())    # decayed dead weights: CPU speed


class VAEUpdater(StandardUpdater):
    """M1: minimise -ELBO = KL(q(z|x) || N(0, I)) - E_q[log p(x|z)]  (K&W 2013 Eq. 10).

    ``log_prior``: z -> log p(z) for another prior, whose KL is then estimated by Monte
    Carlo (:func:`vae.loss.vae_bound_mc`; the VAE of the AAE paper's Fig. 2d)."""

    def __init__(self, *args, log_prior=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.log_prior = log_prior

    def update_core(self):
        optimizer = self.get_optimizer('main')
        vae = optimizer.target
        x = self.converter(self.get_iterator('main').next(), self.input_device)
        if self.log_prior is None:
            log_px, kl = vae_loss.vae_bound(vae, x)
        else:
            log_px, kl = vae_loss.vae_bound_mc(vae, x, self.log_prior)
        rec, kl = F.mean(log_px), F.mean(kl)
        loss = kl - rec                                   # -ELBO = KL - E[log p(x|z)]
        vae.cleargrads()
        loss.backward()
        optimizer.update()
        chainer.report({'loss': loss, 'rec': -rec, 'kl': kl}, vae)


class AutoencoderUpdater(StandardUpdater):
    """Plain-autoencoder pretraining (``--set init-from-ae``): minimise -log p(x | z = mu(x))."""

    def update_core(self):
        optimizer = self.get_optimizer('main')
        vae = optimizer.target
        x = self.converter(self.get_iterator('main').next(), self.input_device)
        loss = -F.mean(vae_loss.autoencoder_log_likelihood(vae, x))
        vae.cleargrads()
        loss.backward()
        optimizer.update()
        chainer.report({'loss_ae': loss}, vae)


class CompletionUpdater(StandardUpdater):
    """Doersch's CVAE (or, with ``regressor=True``, its deterministic baseline).

    The converter yields ``(condition, target)``: the conditioning pixels binarised afresh,
    and the pixels to generate (grey values).  Loss = KL + cross-entropy per example
    (``klloss`` with weight 1/batch plus ``SigmoidCrossEntropyLoss`` in the prototxt).
    """

    def __init__(self, *args, regressor=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.regressor = regressor

    def update_core(self):
        optimizer = self.get_optimizer('main')
        model = optimizer.target
        condition, target = self.converter(self.get_iterator('main').next(),
                                           self.input_device)
        if self.regressor:
            loss = -F.mean(vae_loss.regressor_log_likelihood(model, condition, target))
            report = {'loss': loss}
        else:
            log_p, kl = vae_loss.completion_bound(model, condition, target)
            rec, kl = -F.mean(log_p), F.mean(kl)
            loss = rec + kl                                          # Doersch Eq. 10
            report = {'loss': loss, 'rec': rec, 'kl': kl}
        model.cleargrads()
        loss.backward()
        optimizer.update()
        chainer.report(report, model)


class M2Updater(StandardUpdater):
    """Semi-supervised M2 (Kingma 2014 Eq. 9): a labelled and an unlabelled minibatch per step.

    Iterators: ``'main'`` yields unlabelled examples (so an epoch is one pass over the
    unlabelled set), converted by ``converter`` to ``x``; ``'labelled'`` yields labelled
    examples, converted by ``labelled_converter`` to ``(x, y)``.  Every step therefore sees
    both kinds, as nips14-ssl's minibatches do.
    """

    def __init__(self, iterators, optimizer, n_labelled, n_unlabelled, alpha=0.1,
                 labelled_converter=concat_examples, **kwargs):
        super().__init__(iterators, optimizer, **kwargs)
        self.n_labelled = n_labelled
        self.n_unlabelled = n_unlabelled
        self.alpha = alpha
        self.labelled_converter = labelled_converter

    def update_core(self):
        optimizer = self.get_optimizer('main')
        model = optimizer.target
        x_u = self.converter(self.get_iterator('main').next(), self.input_device)
        x_l, y_l = self.labelled_converter(self.get_iterator('labelled').next(),
                                           self.input_device)
        loss, stats = vae_loss.m2_objective(model, x_l, y_l, x_u, self.n_labelled,
                                            self.n_unlabelled, self.alpha)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        stats['loss'] = loss
        chainer.report(stats, model)
