"""The Frechet distance between two Gaussians, in float64."""

import numpy as np

from kgen.utils.data_validation import validate_finite


def frechet_distance(mean_a, covariance_a, mean_b, covariance_b):
    """`||mu_a - mu_b||**2 + tr(S_a + S_b - 2 (S_a S_b)**(1/2))`.

    The squared 2-Wasserstein distance between `N(mu_a, S_a)` and
    `N(mu_b, S_b)`: FID when the moments are those of Inception features.

    The trace of the matrix square root is computed without a general
    `sqrtm`: with `R = S_a**(1/2)` (symmetric, from an eigendecomposition),
    `S_a S_b` is similar to the symmetric PSD matrix `R S_b R`, so
    `tr((S_a S_b)**(1/2)) = sum(sqrt(eigvalsh(R S_b R)))`. This is exact in
    exact arithmetic, stays real, and needs no scipy.

    Args:
        mean_a, mean_b: arrays `(d,)`.
        covariance_a, covariance_b: symmetric PSD arrays `(d, d)`.

    Returns:
        A Python float (>= 0 up to rounding).

    References:
        1. Heusel et al. GANs Trained by a Two Time-Scale Update Rule
           Converge to a Local Nash Equilibrium. 2017. arXiv:1706.08500.
        2. Dowson and Landau. The Frechet distance between multivariate
           normal distributions. 1982.
    """
    mean_a, covariance_a = validate_gaussian(
        mean_a, covariance_a, "mean_a", "covariance_a"
    )
    size = len(mean_a)
    mean_b = validate_finite(mean_b, (size,), "mean_b")
    covariance_b = validate_finite(covariance_b, (size, size), "covariance_b")
    root_a = _psd_sqrt(covariance_a)
    middle = root_a @ covariance_b @ root_a
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    difference = mean_a - mean_b
    distance = (
        difference @ difference
        + np.trace(covariance_a)
        + np.trace(covariance_b)
        - 2.0 * trace_sqrt
    )
    if not np.isfinite(distance):
        raise ValueError(
            "The Frechet distance overflowed float64: the statistics are "
            "too large."
        )
    return float(distance)


def validate_gaussian(mean, covariance, mean_argument, covariance_argument):
    """A Gaussian's finite `(mean, covariance)`, shaped `(d,)` and
    `(d, d)`, as float64 NumPy; `ValueError` naming the argument else."""
    mean = validate_finite(mean, (None,), mean_argument)
    size = len(mean)
    covariance = validate_finite(covariance, (size, size), covariance_argument)
    return mean, covariance


def _psd_sqrt(matrix):
    eigenvalues, eigenvectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    roots = np.sqrt(np.clip(eigenvalues, 0.0, None))
    return (eigenvectors * roots) @ eigenvectors.T
