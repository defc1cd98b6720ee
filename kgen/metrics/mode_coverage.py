"""Mode coverage of samples from a known mixture."""

import numpy as np


def mode_coverage(samples, centers, std, num_std=3.0):
    """How a sample set covers a mixture's modes.

    Each sample is assigned to its nearest center; it is "high quality" when
    within `num_std` standard deviations of it. A mode is covered when at
    least one high-quality sample is assigned to it (Srivastava et al.,
    VEEGAN, 2017, use the same two numbers).

    Returns:
        `{"modes_covered": int, "high_quality_fraction": float,
        "mode_fractions": list}`.
    """
    samples = np.asarray(samples, dtype="float64")
    distances = np.linalg.norm(samples[:, None, :] - centers[None], axis=-1)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(samples)), nearest] <= num_std * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    return {
        "modes_covered": int((counts > 0).sum()),
        "high_quality_fraction": float(good.mean()),
        "mode_fractions": (counts / max(len(samples), 1)).tolist(),
    }
