"""Inference and measurements for the AAE experiments (Makhzani et al., arXiv:1511.05644):
batched encoding/decoding in test mode, the scores behind Tables 2-3 and Figs. 4 and 11, the
diagnostics of how well codes follow the prior, and the grid over the Gaussian prior's
percentiles of Fig. 2e."""
import numpy as np
from scipy.spatial import cKDTree
from scipy.special import ndtri     # inverse CDF of N(0, 1)

import chainer
import chainer.functions as F

from evaluation.inference import predict
from evaluation.metrics import (assign_cluster_labels, classification_error, cluster_accuracy,
                                confusions, equal_clusters_error_floor, hungarian_accuracy,
                                mmd)

from .loss import p_real as p_real_of
from .priors import component_of, sample_prior


def encode(enc, x, device=None, batchsize=1000):
    """Codes of ``x`` (NumPy) in test mode: z, or (q(y|x), z) for a categorical encoder."""
    def codes(xb):
        out = enc(xb)
        return (F.softmax(out[0]), out[1]) if isinstance(out, tuple) else out
    return predict(codes, x, device=device, batchsize=batchsize)


def decode(dec, z, cond=None, device=None, batchsize=1000):
    """Decoder means p(x|z) (or p(x|y,z)) for NumPy codes, in test mode, as NumPy."""
    return predict(dec, z, cond, device=device, batchsize=batchsize)


def reconstruction_errors(enc, dec, x, device=None, cond=None):
    """Mean squared error per pixel and mean Euclidean cost per image of dec(enc(x))."""
    z = encode(enc, x, device)
    if isinstance(z, tuple):               # categorical encoder: decoder input [q(y|x), z]
        cond, z = z
    err = (decode(dec, z, cond, device) - x) ** 2
    return float(err.mean()), float(err.sum(1).mean())


def wrong_label_reconstruction(enc, dec, x, device=None, seed=0):
    """How much a categorical AAE's decoder uses y: the reconstruction MSE per pixel of x
    from [one-hot argmax q(y|x), z] and from [a one-hot of another class, drawn at random,
    z]. A ratio near 1 means the decoder ignores y (all the content is in z)."""
    q_y, z = encode(enc, x, device)
    k = q_y.shape[1]
    own = q_y.argmax(1)
    other = (own + np.random.RandomState(seed).randint(1, k, size=len(own))) % k
    eye = np.eye(k, dtype=np.float32)
    mse_own = float(((decode(dec, z, eye[own], device) - x) ** 2).mean())
    mse_other = float(((decode(dec, z, eye[other], device) - x) ** 2).mean())
    return {'mse_own_one_hot': mse_own, 'mse_other_one_hot': mse_other,
            'ratio': mse_other / mse_own}


def classification_scores(q_y, y, n_classes):
    """Table 2's test error (%) of argmax q(y|x) against the labels ``y``, with (ours) the
    digits it confuses (true, predicted, count) and the error that predicting every class
    equally often would force on these labels (a uniform Cat(y) pulls q(y) towards that)."""
    return {'test_error_percent': 100 * classification_error(q_y.argmax(1), y),
            'test_confusions': confusions(q_y.argmax(1), y, n_classes),
            'test_error_percent_if_classes_uniform': 100 * equal_clusters_error_floor(
                y, n_classes, n_classes)}


def style_content_scores(enc, dec, x, z, z_dim, device=None, seed=0):
    """Sec. 5's split of a categorical AAE into content y and style z, measured on ``x``
    (``z``: its style codes): the reconstruction MSE per pixel, (ours) whether the decoder
    uses y (:func:`wrong_label_reconstruction`) and whether z still follows N(0, I), D_z's
    job (:func:`prior_mmd`, beside the floor)."""
    return {'test_reconstruction_mse_per_pixel': reconstruction_errors(enc, dec, x, device)[0],
            'decoder_uses_y': wrong_label_reconstruction(enc, dec, x, device, seed),
            'style_code_vs_prior': prior_mmd(z, 'gaussian', z_dim, seed=seed)}


def label_clusters(enc, x, y, device=None, majority=False):
    """Sec. 6's rule: cluster i takes the label of the image x_n of ``x`` that maximises
    q(y_i|x_n); ``majority`` (ours): the majority label of the images in cluster i.
    Returns (q(y|x), {cluster: label})."""
    q = encode(enc, x, device)[0]
    return q, assign_cluster_labels(q.argmax(1), y, scores=None if majority else q)


def cluster_classifier(enc, x_label, y_label, n_clusters, device=None, majority=False):
    """A classifier for :class:`expkit.extensions.TestError`: each call labels the clusters
    of the encoder as it is now on (``x_label``, ``y_label``) (:func:`label_clusters`), then
    gives each image the label of its cluster argmax q(y|x) (-1: a cluster without one)."""
    def classify(x):
        mapping = label_clusters(enc, x_label, y_label, device, majority)[1]
        return np.array([mapping.get(i, -1) for i in range(n_clusters)])[
            encode(enc, x, device)[0].argmax(1)]
    return classify


def clustering_scores(clusters, y, mapping, mapping_majority, n_clusters, n_classes=10):
    """Table 3's test error (%) of the clusters ``clusters`` of images labelled ``y`` under
    Sec. 6's labelling ``mapping`` ({cluster: label}), with (ours) the error under the
    majority labelling ``mapping_majority``, the Hungarian (one-to-one) accuracy, the
    cluster sizes and the least error any labelling of ``n_clusters`` equal-size clusters
    (what the uniform Cat(K) prior asks for) can reach on these labels."""
    sizes = np.bincount(clusters, minlength=n_clusters)
    return {
        'test_error_percent': 100 * (1 - cluster_accuracy(clusters, y, mapping=mapping)),
        'test_error_percent_majority_rule': 100 * (1 - cluster_accuracy(
            clusters, y, mapping=mapping_majority)),
        'test_hungarian_accuracy': hungarian_accuracy(clusters, y),
        'cluster_labels': [mapping[i] for i in range(n_clusters)],
        'test_cluster_sizes': sizes.tolist(),
        'n_empty_test_clusters': int((sizes == 0).sum()),
        'test_error_percent_floor_equal_clusters': 100 * equal_clusters_error_floor(
            y, n_clusters, n_classes)}


def own_component_scores(z, y, prior, n_classes=10):
    """Fig. 4 in a number (ours): the fraction of codes ``z`` on the prior's component
    (mixture: nearest by angle; swiss roll: slice by radius) of their own label ``y``,
    overall and per label."""
    on_own = component_of(prior, z, n_classes) == y
    return {'test_codes_on_own_component': float(on_own.mean()),
            'test_codes_on_own_component_per_digit': [float(on_own[y == k].mean())
                                                      for k in range(n_classes)]}


def training_code_scores(z, y, seen, prior, seed=0, n_classes=10):
    """Fig. 4's scores on 2-D training codes ``z`` (ours): D only ever judged these, so if they
    follow the prior and the test codes do not, what is left is the encoder's
    generalisation, not the regulariser. Split by whether D saw the image's label
    (``seen``): the fraction on their own component and off the prior's support
    (:func:`prior_distance`), and the MMD² to the prior."""
    on_own = component_of(prior, z, n_classes) == y
    far = lambda codes: prior_distance(codes, prior, 2, seed=seed,
                                       n_classes=n_classes)['codes_far_from_prior_fraction']
    return {'n_codes': len(z), 'n_labelled': int(seen.sum()),
            'on_own_component': float(on_own.mean()),
            'on_own_component_labelled': float(on_own[seen].mean()),
            'on_own_component_unlabelled': float(on_own[~seen].mean()),
            'mmd2_codes_vs_prior': prior_mmd(z, prior, 2, seed=seed)['mmd2_codes_vs_prior'],
            'codes_far_from_prior_fraction': far(z),
            'codes_far_from_prior_fraction_labelled': far(z[seen]),
            'codes_far_from_prior_fraction_unlabelled': far(z[~seen])}


def prior_mmd(z, prior, z_dim=2, seed=0, n=2000, repeats=10, labels=None, n_classes=10):
    """How closely codes ``z`` follow the imposed prior: the unbiased MMD² (Gretton et al.
    2012; :func:`evaluation.metrics.mmd`, one Gaussian kernel whose width is the median
    distance between prior samples) between ``n`` codes and ``n`` prior samples, and the
    same statistic between two independent prior samples, the **floor** a perfect match
    would score. The floor is ~0 with sampling noise of either sign, so ``repeats`` prior
    pairs give its spread (``mmd2_prior_vs_prior_sd``): a match is as good as the prior's
    own when ``mmd2_codes_vs_prior`` is within a few of those standard deviations
    (``repeats=0``: no floor, the same ``mmd2_codes_vs_prior``).

    With ``labels`` (Fig. 4's label-conditioned prior), the codes of class k are also
    compared with component k alone (at most ``n`` per class), averaged over the classes:
    the ``..._by_class`` keys say whether the codes follow *their own* component or slice.
    """
    rng = np.random.RandomState(seed)
    z = np.asarray(z)

    def compare(codes, k=None):
        """(MMD² codes vs prior, [MMD² prior vs prior] * repeats, kernel width, points);
        k: compare with component k only."""
        m = min(n, len(codes))
        comp = None if k is None else np.full(m, k)
        draw = lambda: sample_prior(prior, m, z_dim, labels=comp, n_classes=n_classes,
                                    rng=rng)[0]
        codes, ref = codes[rng.permutation(len(codes))[:m]], draw()
        head = ref[:2000]           # the median of 2,000 points' distances is stable enough
        sigma = float(np.median(np.linalg.norm(head[:, None] - head[None], axis=2)))
        return mmd(codes, ref, sigma), [mmd(draw(), ref, sigma) for _ in range(repeats)], \
            sigma, m

    codes_vs_prior, floor, sigma, m = compare(z)
    out = {'mmd2_codes_vs_prior': codes_vs_prior, 'mmd_kernel_sigma': sigma, 'mmd_n_points': m,
           'mmd_floor_repeats': repeats}
    if repeats:         # 0: the codes' statistic alone (the floor is drawn after it)
        out.update({'mmd2_prior_vs_prior': floor[0],
                    'mmd2_prior_vs_prior_sd': float(np.std(floor))})
    if labels is not None:
        per_class = [compare(z[labels == k], k) for k in range(n_classes)]
        out['mmd2_codes_vs_prior_by_class'] = float(np.mean([c[0] for c in per_class]))
        if repeats:
            out.update({
                'mmd2_prior_vs_prior_by_class': float(np.mean([c[1][0] for c in per_class])),
                'mmd2_prior_vs_prior_by_class_sd': float(np.mean([np.std(c[1])
                                                                  for c in per_class])),
            })
    return out


def prior_distance(z, prior, z_dim=2, seed=0, n_ref=200000, far=0.1, n_classes=10):
    """How far codes ``z`` lie from the prior's support (ours, a diagnostic for Fig. 4):
    the Euclidean distance of each code to the nearest of ``n_ref`` prior samples (a
    k-d tree), summarised as its median, its 90th percentile and the fraction of codes
    farther than ``far``; beside the same for as many fresh prior samples (the floor a
    code drawn from the prior itself would score). Unlike the MMD², which weighs every
    mismatch, this isolates codes *off* the prior's support, e.g. a scatter between the
    turns of the swiss roll, from codes on it in the wrong place (``component_of``)."""
    rng = np.random.RandomState(seed)
    z = np.asarray(z, dtype=np.float64)
    tree = cKDTree(sample_prior(prior, n_ref, z_dim, n_classes=n_classes, rng=rng)[0])
    floor = tree.query(sample_prior(prior, len(z), z_dim, n_classes=n_classes, rng=rng)[0])[0]
    dist = tree.query(z)[0]
    return {'code_distance_to_prior_median': float(np.median(dist)),
            'code_distance_to_prior_p90': float(np.percentile(dist, 90)),
            'codes_far_from_prior_fraction': float((dist > far).mean()),
            'prior_distance_to_prior_median': float(np.median(floor)),
            'prior_distance_to_prior_p90': float(np.percentile(floor, 90)),
            'prior_far_from_prior_fraction': float((floor > far).mean()),
            'far_threshold': far, 'distance_n_ref': n_ref}


def discriminator_diagnostics(dis, z_prior, z_codes, device=None):
    """Is D flat? (ours, a diagnostic) In test mode, on prior samples and on codes: D's mean
    P(real) and its spread (std over the points), the mean norm of d log D(real) / dz (the
    signal the generator phase follows), and the share of D's first hidden layer's units
    that are active (ReLU > 0) on at least one point. A D whose P(real) reads 0.500 may
    still pass a useful gradient: Adam rescales its size for the encoder."""
    out = {}
    for name, z in (('prior', z_prior), ('codes', z_codes)):
        p = np.asarray(predict(lambda c: p_real_of(dis(c)), z, device=device), np.float64)
        zv = chainer.Variable(device.send(z) if device is not None else z)
        with chainer.using_config('train', False):
            log_p = F.log(p_real_of(dis(zv)) + 1e-12)
            grad, = chainer.grad([F.sum(log_p)], [zv])
            h = dis.body.l1(zv).array
        grad = chainer.backend.CpuDevice().send(grad.array)
        active = chainer.backend.CpuDevice().send((h > 0).any(axis=0))
        out[name] = {'p_real_mean': float(p.mean()), 'p_real_std': float(p.std()),
                     'grad_log_p_real_norm_mean': float(np.linalg.norm(grad, axis=1).mean()),
                     'first_layer_active_fraction': float(active.mean())}
    return out


def gaussian_percentile_grid(n, std=1.0, low=0.05, high=0.95):
    """n x n codes at evenly spaced percentiles of N(0, std^2) on each axis (Fig. 2e).

    Row r, column c holds z = (ppf(p_c), ppf(p_{n-1-r})): z1 grows to the right, z2 upwards,
    so the image grid has the same orientation as the scatter plot.
    """
    q = std * ndtri(np.linspace(low, high, n))
    z1, z2 = np.meshgrid(q, q[::-1])
    return np.stack([z1.ravel(), z2.ravel()], 1).astype(np.float32)


def box_grid(n, lo, hi):
    """n x n codes on an even grid over the box [lo, hi]^2, same orientation as above."""
    q = np.linspace(lo, hi, n)
    z1, z2 = np.meshgrid(q, q[::-1])
    return np.stack([z1.ravel(), z2.ravel()], 1).astype(np.float32)


#: codes per :class:`PriorMatch` estimate: the MMD² of 2,000 codes moves by about 0.0007
#: with the choice of codes alone (five draws of one full-MNIST snapshot: 0.0001 to 0.0021
#: around 0.0010 on all 10,000 test codes), as much as the signal a collapse detector looks
#: for; 5,000 codes cut that spread by 2.5 at 1.3 s per estimate on 2 CPU cores.
PRIOR_MATCH_POINTS = 5000


class PriorMatch(chainer.training.Extension):
    """A collapse detector (ours, a diagnostic): every epoch, how well the codes of held-out
    images ``x`` match the imposed prior, reported for the log and its plots:

    * ``codes/mmd2``: :func:`prior_mmd` of the codes against the prior (same points and seed
      every epoch, so the curve moves only with the model);
    * ``codes/std_z1``, ``codes/std_z2``: the codes' standard deviation per dimension (1 for
      N(0, I));
    * ``codes/d_real``, ``codes/d_fake``: D's mean P(real) in test mode (no input noise) on
      fresh prior samples and on the codes; near 0.5 when D cannot tell them apart.

    The regulariser's job (Sec. 2) is q(z) = p(z); codes that fold onto a few line segments
    (a collapse) show as a jump of ``codes/mmd2`` and a code std far from 1 while the
    reconstruction loss alone looks healthy.
    """
    trigger = (1, 'epoch')
    priority = chainer.training.PRIORITY_WRITER     # before LogReport reads the observation
    report_only = True          # changes no training state: rank 0 alone runs it (expkit.train)

    def __init__(self, enc, dis, x, prior, z_dim, device=None, n=PRIOR_MATCH_POINTS, seed=0):
        self.enc, self.dis, self.x, self.prior = enc, dis, x, prior
        self.z_dim, self.device, self.n, self.seed = z_dim, device, n, seed

    def __call__(self, trainer):
        z = encode(self.enc, self.x, self.device)
        match = prior_mmd(z, self.prior, self.z_dim, seed=self.seed, n=self.n, repeats=0)
        z_prior = sample_prior(self.prior, len(z), self.z_dim,
                               rng=np.random.RandomState(self.seed))[0]
        report = {'codes/mmd2': match['mmd2_codes_vs_prior']}
        if self.dis is not None:        # None: a model without one (Fig. 2's VAE)
            p_real = lambda codes: float(predict(lambda c: p_real_of(self.dis(c)), codes,
                                                 device=self.device).mean())
            report.update({'codes/d_real': p_real(z_prior), 'codes/d_fake': p_real(z)})
        for i, std in enumerate(z.std(0)[:2]):
            report['codes/std_z%d' % (i + 1)] = float(std)
        chainer.report(report)


#: the log columns and plots of :class:`PriorMatch`
PRIOR_MATCH_REPORT = ['codes/mmd2', 'codes/std_z1', 'codes/std_z2', 'codes/d_real']
PRIOR_MATCH_PLOTS = {'prior_mmd.png': ['codes/mmd2'],
                     'prior_match.png': ['codes/std_z1', 'codes/std_z2', 'main/d_real',
                                         'codes/d_real', 'codes/d_fake']}
