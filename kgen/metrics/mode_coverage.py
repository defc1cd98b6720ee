"""Mode coverage of samples from a known mixture."""

import numpy as np

from kgen.utils.argument_validation import validate_float
from kgen.utils.data_validation import validate_finite


def mode_coverage(samples, centers, std, num_std=3.0):
    """How a sample set covers a mixture's modes.

    Each sample is assigned to its nearest center; it is "high quality" when
    within `num_std` standard deviations of it. A mode is covered when at
    least one high-quality sample is assigned to it (Srivastava et al.,
    VEEGAN, 2017, use the same two numbers).

    Args:
        samples: array `(n, d)`.
        centers: array `(modes, d)`. The mixture's means.
        std: float > 0. The standard deviation of each mode.
        num_std: float > 0. Radius of "high quality", in `std`s.

    Returns:
        `{"modes_covered": int, "high_quality_fraction": float,
        "mode_fractions": list}`.
    """
    centers = validate_finite(centers, (None, None), "centers")
    samples = validate_finite(samples, (None, centers.shape[1]), "samples")
    for argument, points in (("centers", centers), ("samples", samples)):
        if not len(points):
            raise ValueError(f"`{argument}` holds no points.")
    std = validate_float(std, "std", minimum=0.0, exclusive_minimum=True)
    num_std = validate_float(
        num_std, "num_std", minimum=0.0, exclusive_minimum=True
    )
    distances = np.linalg.norm(samples[:, None, :] - centers[None], axis=-1)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(samples)), nearest] <= num_std * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    return {
        "modes_covered": int((counts > 0).sum()),
        "high_quality_fraction": float(good.mean()),
        "mode_fractions": (counts / len(samples)).tolist(),
    }
