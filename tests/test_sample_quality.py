"""The generator table's metrics (evaluation.sample_quality) against closed forms and hand
cases, and the frozen feature network (evaluation.features)."""
import json
import os

import numpy as np
import pytest

import chainer
from chainer import gradient_check

from evaluation import features, sample_quality as sq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_identical_sets_give_fd_zero_and_full_precision_recall():
    x = np.random.RandomState(0).randn(500, 6)
    assert abs(sq.frechet_distance(x, x)) < 1e-8
    assert sq.precision_recall(x, x) == {'precision': 1.0, 'recall': 1.0, 'k': 3}


def test_disjoint_sets_give_zero_precision_and_recall():
    rng = np.random.RandomState(1)
    a, b = rng.randn(300, 4), rng.randn(300, 4) + 100.0
    pr = sq.precision_recall(a, b)
    assert pr['precision'] == 0.0 and pr['recall'] == 0.0


def test_fd_closed_form_for_diagonal_gaussians():
    """|mu_a - mu_b|^2 + sum (sqrt(s_a) - sqrt(s_b))^2 for commuting (diagonal) covariances."""
    mu_a, mu_b = np.array([0., 1., 2.]), np.array([1., 1., -1.])
    s_a, s_b = np.array([1., 4., 9.]), np.array([4., 1., 1.])
    want = ((mu_a - mu_b) ** 2).sum() + ((np.sqrt(s_a) - np.sqrt(s_b)) ** 2).sum()
    got = sq.frechet_distance_stats(mu_a, np.diag(s_a), mu_b, np.diag(s_b))
    assert got == pytest.approx(want, rel=1e-10)
    assert want == pytest.approx(10 + 1 + 1 + 4)


def test_fd_of_samples_approaches_the_closed_form():
    rng = np.random.RandomState(2)
    a = rng.randn(20000, 3)
    b = 2.0 * rng.randn(20000, 3) + np.array([1.0, 0.0, 0.0])
    assert sq.frechet_distance(a, b) == pytest.approx(1.0 + 3 * (2 - 1) ** 2, abs=0.1)


def test_fd_is_symmetric_for_a_rotated_covariance():
    """Non-commuting covariances: the 2-D case against sqrtm by eigen-decomposition."""
    c = np.array([[2.0, 0.9], [0.9, 1.0]])
    r = np.array([[np.cos(.7), -np.sin(.7)], [np.sin(.7), np.cos(.7)]])
    d = r.dot(np.diag([3.0, 0.5])).dot(r.T)
    w, v = np.linalg.eigh(c)
    half = v.dot(np.diag(np.sqrt(w))).dot(v.T)
    w2, v2 = np.linalg.eigh(half.dot(d).dot(half))      # tr sqrt(C D) = tr sqrt(C^1/2 D C^1/2)
    want = np.trace(c) + np.trace(d) - 2 * np.sqrt(w2).sum()
    zero = np.zeros(2)
    assert sq.frechet_distance_stats(zero, c, zero, d) == pytest.approx(want, rel=1e-9)
    assert sq.frechet_distance_stats(zero, d, zero, c) == pytest.approx(want, rel=1e-9)


def test_knn_radius_excludes_the_point_itself():
    x = np.array([[0.0], [1.0], [3.0], [7.0]])
    assert sq.knn_radii(x, k=1).tolist() == [1.0, 1.0, 4.0, 16.0]
    assert sq.knn_radii(x, k=2).tolist() == [9.0, 4.0, 9.0, 36.0]


def test_precision_by_hand():
    """Real points 0, 1, 2, 3 with k = 1 have balls of radius 1: 0.5 and 3.9 fall inside,
    10 and -2 outside."""
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[0.5], [3.9], [10.0], [-2.0]])
    assert sq.manifold_coverage(fake, real, sq.knn_radii(real, 1)) == 0.5


def test_digit_coverage_one_class_and_uniform():
    one = np.tile(np.eye(10)[3], (50, 1))
    c = sq.digit_coverage(one)
    assert c['classes_drawn'] == 1 and c['kl_from_uniform'] == pytest.approx(np.log(10))
    assert c['confidence'] == 1.0 and c['histogram'][3] == 1.0
    uniform = np.eye(10)[np.arange(1000) % 10] * 0.5 + 0.05
    c = sq.digit_coverage(uniform)
    assert c['classes_drawn'] == 10 and c['kl_from_uniform'] == pytest.approx(0.0, abs=1e-12)
    assert c['confidence'] == pytest.approx(0.55)


def test_digit_coverage_counts_a_class_from_one_percent():
    labels = np.array([0] * 990 + [1] * 10)
    assert sq.digit_coverage(np.eye(10)[labels])['classes_drawn'] == 2
    labels = np.array([0] * 991 + [1] * 9)
    assert sq.digit_coverage(np.eye(10)[labels])['classes_drawn'] == 1


@pytest.mark.parametrize('bad', [np.zeros(5), np.zeros((1, 3))])
def test_gaussian_stats_refuses_too_few_points(bad):
    with pytest.raises(ValueError, match='features must be'):
        sq.gaussian_stats(bad)


def test_knn_needs_more_points_than_k():
    with pytest.raises(ValueError, match='more than k'):
        sq.knn_radii(np.zeros((3, 2)), k=3)


def test_feature_net_shapes_and_probabilities():
    net = features.MnistCNN()
    x = np.random.RandomState(0).rand(7, 784).astype(np.float32)
    f, p = features.run_net(net, x, batch=3)
    assert f.shape == (7, features.FEATURE_DIM) and p.shape == (7, 10)
    assert (f >= 0).all() and np.allclose(p.sum(1), 1.0)


def test_feature_net_gradient():
    np.random.seed(0)                 # chainer's initialisers draw from NumPy's global RNG
    with chainer.using_config('dtype', np.float64):
        net = features.MnistCNN(n_features=8)
    x = np.random.RandomState(1).rand(2, 1, 28, 28)
    gy = np.random.RandomState(2).randn(2, 10)
    with chainer.using_config('train', False):
        gradient_check.check_backward(net.forward, x, gy, eps=1e-4, atol=1e-4, rtol=1e-4)


def test_committed_weights_match_their_md5():
    assert features.WEIGHTS_MD5 is not None
    assert features.file_md5(features.WEIGHTS_PATH) == features.WEIGHTS_MD5
    features.load_feature_net()


def test_missing_or_changed_weights_are_refused(tmp_path):
    with pytest.raises(features.WeightsError, match='mnist_classifier.py'):
        features.load_feature_net(str(tmp_path / 'none.npz'))
    bad = tmp_path / 'w.npz'
    bad.write_bytes(b'not the weights')
    with pytest.raises(features.WeightsError, match='git checkout'):
        features.load_feature_net(str(bad), md5=features.WEIGHTS_MD5)


@pytest.mark.skipif(not os.environ.get('MNIST_DIR'), reason='needs $MNIST_DIR (real t10k files)')
def test_frozen_net_reproduces_its_recorded_accuracy():
    from datasets import load
    with open(os.path.join(ROOT, 'docs/results/runs/mnist_classifier_full.json')) as f:
        recorded = json.load(f)['measured']
    assert recorded['weights_md5'] == features.WEIGHTS_MD5
    data = load('mnist', data_dir=os.environ['MNIST_DIR'], download=False)
    _, p = features.run_net(features.load_feature_net(), data.x_test[:1000])
    accuracy = float((p.argmax(1) == data.y_test[:1000]).mean())
    assert accuracy == pytest.approx(recorded['test_accuracy_first_1000'], abs=1e-9)
    assert recorded['test_accuracy'] >= 0.993
