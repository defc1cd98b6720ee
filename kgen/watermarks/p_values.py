"""The one-sided z-test both watermark detectors report."""

import math

import numpy as np


def p_values(z_scores):
    """`p = 1 - Phi(z)` for each z-score: the chance that an unmarked
    sample scores at least `z`, a float64 NumPy array."""
    return np.array(
        [0.5 * math.erfc(float(z) / math.sqrt(2)) for z in np.ravel(z_scores)]
    ).reshape(np.shape(z_scores))
