"""Training steps of the adversarial autoencoder (arXiv:1511.05644, Sec. 2, Sec. 5, Sec. 6).

Per minibatch, in the paper's order (Sec. 2: "the adversarial network and the autoencoder are
trained jointly with SGD in two phases ... executed on each mini-batch"):

1. reconstruction phase: encoder and decoder minimise the reconstruction error;
2. regularization phase: first the discriminator learns to tell prior samples ("real") from
   codes ("fake"), then the encoder, as the generator, is updated to confuse it.

Every phase clears the gradients of the links it updates and calls only its own
optimisers, so it moves only its own parameters (tests/test_aae.py checks this; a popular
TensorFlow AAE lets the generator step move the discriminator too).

Losses are reported as ``main/loss_rec``, ``main/loss_dis``, ``main/loss_gen`` (and
``main/loss_sup``), and D's mean P(real) on prior samples / codes as ``main/d_real`` /
``main/d_fake``.
"""
import numpy as np

import chainer
import chainer.functions as F
from chainer.dataset import convert
from chainer.backend import get_array_module
from chainer.training import StandardUpdater

from aae import loss as aae_loss
from aae.net import one_hot, one_hot_with_unlabelled
from aae.optim import activate

#: the losses of the three phases of Sec. 2, as the updaters report them
LOSSES = ['main/loss_rec', 'main/loss_dis', 'main/loss_gen']


def sample_categorical(n, n_classes, xp=np, dtype='f', probs=None):
    """One-hot samples of the categorical prior Cat(y): uniform as in the paper (Sec. 5,
    Fig. 8), or with class probabilities ``probs`` (ours, an ablation)."""
    if probs is None:
        k = xp.random.randint(0, n_classes, size=n)
    elif xp is np:
        k = np.random.choice(n_classes, size=n, p=np.asarray(probs, dtype='d'))
    else:   # ``probs`` on the device: NumPy's choice (inverse CDF), with no host round trip
        cdf = xp.cumsum(probs)
        k = xp.minimum(xp.searchsorted(cdf, xp.random.random_sample(n) * cdf[-1],
                                       side='right'), n_classes - 1)
    return xp.eye(n_classes, dtype=dtype)[k]


class _PhaseUpdater(StandardUpdater):
    """StandardUpdater with per-phase optimisers and phase helpers."""

    def _step(self, names, loss, links):
        """Clear the grads of ``links``, give the parameters of the optimisers ``names`` the
        gradient of ``loss``, and update ``names``.

        ``chainer.grad`` computes only what those parameters need: in the generator phase the
        error still flows back *through* D, but D's weight gradients (a 1000x1000 GEMM per
        layer, thrown away before) are not computed.
        """
        for link in links:
            link.cleargrads()
        params, seen = [], set()
        for name in names:
            for param in self.get_optimizer(name).target.params():
                if id(param) not in seen:
                    seen.add(id(param))
                    params.append(param)
        for param, grad in zip(params, chainer.grad([loss], params)):
            param.grad = None if grad is None else grad.array
        for name in names:
            opt = self.get_optimizer(name)
            activate(opt)
            opt.update()

    def serialize(self, serializer):
        for name, iterator in self._iterators.items():
            iterator.serialize(serializer['iterator:' + name])
        done = set()
        for name, optimizer in self._optimizers.items():
            activate(optimizer)        # serialise each optimiser's own momentum buffers
            optimizer.serialize(serializer['optimizer:' + name])
            if id(optimizer.target) not in done:   # the encoder has 2-3 optimisers
                done.add(id(optimizer.target))
                optimizer.target.serialize(serializer['model:' + name])
        self.iteration = serializer('iteration', self.iteration)


class AAEUpdater(_PhaseUpdater):
    """Unsupervised / label-regularised / supervised AAE with one continuous code z.

    Args:
        iterator: yields images ``x`` or tuples ``(x, label)``.
        optimizers: dict with ``'enc'`` and ``'dec'`` (reconstruction phase), ``'dis'``
            (discriminator) and optionally ``'gen'`` (encoder as generator; defaults to
            ``'enc'``), see :func:`aae.optim.make_optimizers`.
        models: dict of the networks, ``'enc'``, ``'dec'`` and ``'dis'``.
        prior: ``prior(n, labels, xp)`` -> float32 array (n, n_z) of samples of p(z) made
            with the array module ``xp`` of the training device (:class:`aae.priors.Prior`);
            ``labels`` (on that device) is None unless ``label_prior`` is set.
        n_classes: K for label-aware variants; then the batch must carry labels.
        label_prior: Fig. 3/4: D also sees a one-hot of the label with K+1 slots (label K =
            unlabelled), and the prior sample for an example with label k comes from
            component k (``prior(n, labels)`` handles label K itself).
        decoder_labels: Fig. 6/7 (supervised AAE): the decoder gets the one-hot label.
        rec_loss: ``'sum'`` (paper) or ``'mean'`` (seed) reduction of the reconstruction
            cost over pixels, see :func:`aae.loss.reconstruction_loss`.
    """

    def __init__(self, iterator, optimizers, models, prior,
                 converter=convert.concat_examples, device=None, n_classes=0,
                 label_prior=False, decoder_labels=False, rec_loss='sum'):
        if (label_prior or decoder_labels) and not n_classes:
            raise ValueError('label_prior / decoder_labels need n_classes')
        super().__init__(iterator, optimizers, converter=converter, device=device)
        self.enc, self.dec, self.dis = models['enc'], models['dec'], models['dis']
        self.prior, self.n_classes, self.rec_loss = prior, n_classes, rec_loss
        self.label_prior, self.decoder_labels = label_prior, decoder_labels

    def _batch(self):
        batch = self.converter(self.get_iterator('main').next(), self.input_device)
        if self.n_classes:
            if not isinstance(batch, tuple):
                raise ValueError('this AAE needs (x, label) examples')
            return batch[0], batch[1]
        return (batch[0] if isinstance(batch, tuple) else batch), None

    def _links(self):
        return self.enc, self.dec, self.dis

    def _conditions(self, labels):
        y_dec = one_hot(labels, self.n_classes) if self.decoder_labels else None
        y_dis = (one_hot_with_unlabelled(labels, self.n_classes)
                 if self.label_prior else None)
        return y_dec, y_dis

    def update_reconstruction(self, x, labels=None):
        """Phase 1: min_{enc,dec} ||x - dec(enc(x))||^2; updates 'enc' and 'dec'."""
        enc, dec, _ = self._links()
        y_dec, _ = self._conditions(labels)
        loss_rec = aae_loss.reconstruction_loss(dec(enc(x), y_dec), x, self.rec_loss)
        self._step(['enc', 'dec'], loss_rec, [enc, dec])
        return loss_rec

    def update_discriminator(self, x, labels=None):
        """Phase 2a: max_D log D(z') + log(1 - D(enc(x))), z' ~ p(z); updates 'dis'."""
        enc, _, dis = self._links()
        _, y_dis = self._conditions(labels)
        z_prior = self.prior(x.shape[0], labels if self.label_prior else None,
                             get_array_module(x))
        with chainer.no_backprop_mode():
            z_code = enc(x).array                      # the codes are D's "fake" inputs
        d_real, d_fake = dis(z_prior, y_dis), dis(z_code, y_dis)
        loss_dis = aae_loss.discriminator_loss(d_real, d_fake)
        self._step(['dis'], loss_dis, [dis])
        return loss_dis, d_real, d_fake

    def update_generator(self, x, labels=None):
        """Phase 2b: the encoder maximises log D(enc(x)); updates 'gen' (or 'enc') only."""
        enc, _, dis = self._links()
        _, y_dis = self._conditions(labels)
        gen_name = 'gen' if 'gen' in self.get_all_optimizers() else 'enc'
        loss_gen = aae_loss.generator_loss(dis(enc(x), y_dis))
        self._step([gen_name], loss_gen, [enc, dis])
        return loss_gen

    def update_core(self):
        x, labels = self._batch()
        loss_rec = self.update_reconstruction(x, labels)               # 1.
        loss_dis, d_real, d_fake = self.update_discriminator(x, labels)  # 2a.
        loss_gen = self.update_generator(x, labels)                    # 2b.
        chainer.report({'main/loss_rec': loss_rec, 'main/loss_dis': loss_dis,
                        'main/loss_gen': loss_gen,
                        'main/d_real': F.mean(aae_loss.p_real(d_real)),
                        'main/d_fake': F.mean(aae_loss.p_real(d_fake))})


class CategoricalAAEUpdater(_PhaseUpdater):
    """AAE with a categorical code y and a style code z (Sec. 5 Fig. 8, Sec. 6).

    The encoder returns ``(y_logits, z)``, y = softmax(y_logits); the decoder gets [y, z].
    Phases per minibatch of unlabelled images (iterator ``'main'``):

    1. reconstruction (``enc``, ``dec``);
    2. regularization: ``dis_y`` (one-hot samples of Cat(y) vs y) and ``dis`` (samples of
       p(z) vs z) are updated, then the encoder (``gen``) fools both;
    3. semi-supervised classification (Sec. 5), only if an iterator ``'labelled'`` is given:
       the encoder (``sup``) minimises the cross-entropy of q(y|x) on a labelled minibatch.

    Without ``'labelled'`` this is the unsupervised clustering model of Sec. 6.

    ``models``: the networks ``'enc'``, ``'dec'``, ``'dis_z'`` and ``'dis_y'``; ``prior``: as
    in :class:`AAEUpdater` (called with ``labels=None``). ``y_probs`` (ours, an ablation):
    class probabilities of Cat(y) instead of the paper's uniform ones.

    ``labelled_reconstruction=True`` (seed code only, not the paper: Sec. 5 reconstructs
    "an unlabeled mini-batch"): phase 1 also reconstructs the labelled minibatch from
    [one-hot true label, z], as musyoku/adversarial-autoencoder's
    ``run/semi-supervised/classification/train.py`` does.  ``rec_loss``: as in
    :class:`AAEUpdater`.

    ``supervised_only=True`` is the ablation baseline (not in the paper): phases 1 and 2 are
    skipped, so the same encoder is trained by phase 3 alone, with the same optimiser,
    labelled minibatches and number of updates; what it loses against the full model is
    what the unlabelled images and the adversarial regulariser contribute.
    """

    def __init__(self, iterators, optimizers, models, prior,
                 converter=convert.concat_examples, device=None,
                 labelled_reconstruction=False, rec_loss='sum', supervised_only=False,
                 y_probs=None):
        super().__init__(iterators, optimizers, converter=converter, device=device)
        if y_probs is not None and (len(y_probs) != models['enc'].n_y or
                                    abs(sum(y_probs) - 1) > 1e-6 or min(y_probs) < 0):
            raise ValueError('y_probs must be %d probabilities summing to 1'
                             % models['enc'].n_y)
        self.y_probs = None if y_probs is None else [float(p) for p in y_probs]
        self._y_probs_device = None
        self.enc, self.dec = models['enc'], models['dec']
        self.dis_z, self.dis_y = models['dis_z'], models['dis_y']
        self.reconstruction_optimizers = ['enc', 'dec']
        if (labelled_reconstruction or supervised_only) and 'labelled' not in self._iterators:
            raise ValueError('labelled_reconstruction and supervised_only need a "labelled" '
                             'iterator')
        self.prior, self.labelled_reconstruction = prior, labelled_reconstruction
        self.rec_loss, self.supervised_only = rec_loss, supervised_only

    def _images(self, name):
        batch = self.converter(self.get_iterator(name).next(), self.input_device)
        return batch if isinstance(batch, tuple) else (batch,)

    def _links(self):
        return self.enc, self.dec, self.dis_z, self.dis_y

    def update_reconstruction(self, x, x_l=None, t_l=None):
        """Phase 1: x -> (y, z) -> x_rec; updates 'enc' and 'dec'.

        With ``x_l, t_l`` (seed option) also x_l -> z, [one_hot(t_l), z] -> x_l.
        """
        enc, dec, _, _ = self._links()
        y_logits, z = enc(x)
        loss_rec = aae_loss.reconstruction_loss(dec(z, F.softmax(y_logits)), x, self.rec_loss)
        if x_l is not None:
            _, z_l = enc(x_l)
            loss_rec += aae_loss.reconstruction_loss(dec(z_l, one_hot(t_l, enc.n_y)), x_l,
                                                     self.rec_loss)
        self._step(self.reconstruction_optimizers, loss_rec, [enc, dec])
        return loss_rec

    def _y_probs_on(self, xp):
        """``y_probs`` as a list on the CPU, as an array copied once to the GPU."""
        if self.y_probs is None or xp is np:
            return self.y_probs
        if self._y_probs_device is None:
            self._y_probs_device = xp.asarray(self.y_probs, dtype='d')
        return self._y_probs_device

    def update_discriminators(self, x):
        """Phase 2a: D_y: Cat(y) vs q(y|x); D_z: p(z) vs q(z|x); updates 'dis', 'dis_y'."""
        enc, _, dis_z, dis_y = self._links()
        n = x.shape[0]
        xp = get_array_module(x)
        y_prior = sample_categorical(n, enc.n_y, xp, probs=self._y_probs_on(xp))
        z_prior = self.prior(n, None, xp)
        with chainer.no_backprop_mode():
            y_logits, z = enc(x)
            y_code, z_code = F.softmax(y_logits).array, z.array
        d_fake_y = dis_y(y_code)
        d_real_z, d_fake_z = dis_z(z_prior), dis_z(z_code)
        loss_dis = (aae_loss.discriminator_loss(dis_y(y_prior), d_fake_y)
                    + aae_loss.discriminator_loss(d_real_z, d_fake_z))
        self._step(['dis', 'dis_y'], loss_dis, [dis_y, dis_z])
        return loss_dis, d_real_z, d_fake_z, d_fake_y

    def update_generator(self, x):
        """Phase 2b: the encoder fools both discriminators; updates 'gen' (or 'enc')."""
        enc, _, dis_z, dis_y = self._links()
        gen_name = 'gen' if 'gen' in self.get_all_optimizers() else 'enc'
        y_logits, z = enc(x)
        loss_gen = (aae_loss.generator_loss(dis_y(F.softmax(y_logits)))
                    + aae_loss.generator_loss(dis_z(z)))
        self._step([gen_name], loss_gen, [enc, dis_y, dis_z])
        return loss_gen

    def update_supervised(self, x_l, t_l):
        """Phase 3 (Sec. 5): min CE(q(y|x_l), y_l); updates 'sup' (or 'enc')."""
        enc = self._links()[0]
        y_logits, _ = enc(x_l)
        loss_sup = aae_loss.supervised_loss(y_logits, t_l)
        self._step(['sup' if 'sup' in self.get_all_optimizers() else 'enc'], loss_sup, [enc])
        return loss_sup, F.accuracy(y_logits, t_l)

    def update_core(self):
        if self.supervised_only:      # ablation baseline: phase 3 only; 'main' counts epochs
            self.get_iterator('main').next()
            x_l, t_l = self._images('labelled')[:2]
            loss_sup, acc_sup = self.update_supervised(x_l, t_l)
            chainer.report({'main/loss_sup': loss_sup, 'main/acc_sup': acc_sup})
            return
        x = self._images('main')[0]
        if self.labelled_reconstruction:                   # seed: labelled batch in phase 1
            x_l, t_l = self._images('labelled')[:2]
            loss_rec = self.update_reconstruction(x, x_l, t_l)                    # 1.
        else:
            loss_rec = self.update_reconstruction(x)                              # 1.
        loss_dis, d_real, d_fake, d_fake_y = self.update_discriminators(x)        # 2a.
        loss_gen = self.update_generator(x)                                       # 2b.
        report = {'main/loss_rec': loss_rec, 'main/loss_dis': loss_dis,
                  'main/loss_gen': loss_gen,
                  'main/d_real': F.mean(aae_loss.p_real(d_real)),
                  'main/d_fake': F.mean(aae_loss.p_real(d_fake)),
                  'main/d_fake_y': F.mean(aae_loss.p_real(d_fake_y))}
        if 'labelled' in self._iterators:                                          # 3.
            if not self.labelled_reconstruction:
                x_l, t_l = self._images('labelled')[:2]
            report['main/loss_sup'], report['main/acc_sup'] = self.update_supervised(x_l, t_l)
        chainer.report(report)


class DimReductionUpdater(CategoricalAAEUpdater):
    """Dimensionality reduction with cluster heads (Sec. 7, Fig. 10; Fig. 11).

    :class:`CategoricalAAEUpdater` whose decoder ``models['dec']`` is a
    :class:`aae.net.ClusterHeadDecoder`.  As in the seed code
    (``run/unsupervised/dim_reduction/train.py``) the heads W have their own optimiser
    ``'heads'`` (``'dec'`` is bound to ``decoder.body`` only), which steps in the
    reconstruction phase and in a fourth phase that minimises
    :func:`aae.loss.cluster_head_loss`, pushing apart any two heads closer than ``threshold``
    (eta).  With a ``'labelled'`` iterator this is the semi-supervised variant.
    """

    def __init__(self, iterators, optimizers, models, prior, threshold, **kwargs):
        super().__init__(iterators, optimizers, models, prior, **kwargs)
        decoder = models['dec']
        if getattr(decoder, 'heads', None) is None or \
                optimizers['heads'].target is not decoder.heads or \
                optimizers['dec'].target is not decoder.body:
            raise ValueError("optimizers 'heads' and 'dec' must be bound to decoder.heads "
                             "and decoder.body")
        self.threshold = threshold
        self.reconstruction_optimizers = ['enc', 'dec', 'heads']

    def update_heads(self):
        """Phase 4: min_W sum_{i<j} max(0, eta - ||w_i - w_j||); updates 'heads' only."""
        heads = self.dec.heads
        loss = aae_loss.cluster_head_loss(F.transpose(heads.W), self.threshold)
        self._step(['heads'], loss, [heads])
        return loss

    def update_core(self):
        super().update_core()
        chainer.report({'main/loss_heads': self.update_heads()})
