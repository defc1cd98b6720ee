import numpy as np
import pytest
from scipy import linalg

from kgen.metrics import frechet_distance
from kgen.metrics import polynomial_mmd

RNG = np.random.default_rng(0)


def moments(features):
    return features.mean(axis=0), np.cov(features, rowvar=False)


def scipy_frechet(mean_a, cov_a, mean_b, cov_b):
    covmean = linalg.sqrtm(cov_a @ cov_b)
    covmean = covmean.real
    diff = mean_a - mean_b
    return diff @ diff + np.trace(cov_a + cov_b - 2.0 * covmean)


@pytest.mark.parametrize("dim", [8, 64, 256])
def test_equals_scipy_sqrtm_reference(dim):
    a = RNG.normal(size=(1000, dim)) @ RNG.normal(size=(dim, dim)) * 0.3
    b = RNG.normal(loc=0.4, size=(800, dim)) @ RNG.normal(size=(dim, dim)) * 0.2
    expected = scipy_frechet(*moments(a), *moments(b))
    assert frechet_distance(*moments(a), *moments(b)) == pytest.approx(
        expected, rel=1e-6
    )


def test_is_zero_for_equal_statistics_and_symmetric():
    a, b = RNG.normal(size=(500, 16)), RNG.normal(size=(500, 16)) + 1.0
    assert abs(frechet_distance(*moments(a), *moments(a))) < 1e-9
    assert frechet_distance(*moments(a), *moments(b)) == pytest.approx(
        frechet_distance(*moments(b), *moments(a)), rel=1e-9
    )


def test_rank_deficient_covariances_stay_finite():
    # Fewer samples than dimensions: singular covariances, as with small
    # evaluation sets on 2048-d features.
    a, b = RNG.normal(size=(10, 64)), RNG.normal(size=(12, 64))
    distance = frechet_distance(*moments(a), *moments(b))
    expected = scipy_frechet(*moments(a), *moments(b))
    assert np.isfinite(distance)
    assert distance == pytest.approx(expected, rel=1e-6)


def test_rejects_mismatched_shapes_and_nan():
    mean, cov = np.zeros(3), np.eye(3)
    with pytest.raises(ValueError, match="`mean_b` must have shape"):
        frechet_distance(mean, cov, np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="`covariance_b` must have shape"):
        frechet_distance(mean, cov, mean, np.eye(4))
    with pytest.raises(ValueError, match="`mean_a` contains 3 non-finite"):
        frechet_distance(mean + np.nan, cov, mean, cov)


def test_kid_equals_the_unbiased_mmd_formula():
    a, b = RNG.normal(size=(30, 5)), RNG.normal(loc=0.3, size=(25, 5))

    def k(x, y):
        return (x @ y / 5.0 + 1.0) ** 3

    m, n = len(a), len(b)
    within_a = sum(
        k(a[i], a[j]) for i in range(m) for j in range(m) if i != j
    ) / (m * (m - 1))
    within_b = sum(
        k(b[i], b[j]) for i in range(n) for j in range(n) if i != j
    ) / (n * (n - 1))
    across = sum(k(a[i], b[j]) for i in range(m) for j in range(n)) / (m * n)
    assert polynomial_mmd(a, b) == pytest.approx(
        within_a + within_b - 2 * across, rel=1e-10
    )


def test_kid_needs_two_samples_per_side():
    with pytest.raises(ValueError, match="at least 2"):
        polynomial_mmd(np.zeros((1, 3)), np.zeros((5, 3)))
