"""Unbiased polynomial-kernel MMD^2: the KID estimator."""

import numpy as np

from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import validate_finite


def polynomial_mmd(features_a, features_b, degree=3, gamma=None, coef0=1.0):
    """Unbiased `MMD^2` with the kernel `k(x, y) = (gamma x.y + coef0)**degree`.

    ```
    MMD^2 = 1/(m(m-1)) sum_{i!=j} k(a_i, a_j)
          + 1/(n(n-1)) sum_{i!=j} k(b_i, b_j)
          - 2/(m n)    sum_{i,j}   k(a_i, b_j)
    ```

    With `gamma = 1 / d` and `degree = 3` this is the Kernel Inception
    Distance of Binkowski et al. (2018) on one subset. Computed in float64.

    Args:
        features_a: array `(m, d)`, m >= 2.
        features_b: array `(n, d)`, n >= 2.
        degree: int >= 1.
        gamma: float, or `None` for `1 / d`.
        coef0: float.

    Returns:
        A Python float (may be slightly negative: the estimator is unbiased).

    References:
        1. Binkowski et al. Demystifying MMD GANs. 2018. arXiv:1801.01401.
    """
    a = validate_finite(features_a, (None, None), "features_a")
    b = validate_finite(features_b, (None, a.shape[1]), "features_b")
    for argument, features in (("features_a", a), ("features_b", b)):
        if len(features) < 2:
            raise ValueError(
                f"`{argument}` must hold at least 2 samples (the unbiased "
                f"estimator averages over pairs); received {len(features)}."
            )
    m, n = len(a), len(b)
    degree = validate_int(degree, "degree")
    gamma = (
        1.0 / a.shape[1] if gamma is None else validate_float(gamma, "gamma")
    )
    coef0 = validate_float(coef0, "coef0")

    def kernel(x, y):
        return (gamma * (x @ y.T) + coef0) ** degree

    k_aa, k_bb, k_ab = kernel(a, a), kernel(b, b), kernel(a, b)
    within_a = (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
    within_b = (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
    return float(within_a + within_b - 2.0 * k_ab.mean())
