import math

import numpy as np
import pytest
from keras import ops

from kgen import backend
from kgen.samplers import MarkovChainSampler
from kgen.samplers import annealed_importance_sampling
from tests.conftest import to_numpy

# From p_0 = N(0, 1) (normalised, Z_0 = 1) to p*_1(x) = exp(-x**2 / 8),
# whose normalising constant is Z_1 = sqrt(2 pi 4).
WIDE_VARIANCE = 4.0


def log_unnormalized_prob(x, beta):
    precision = (1.0 - beta) + beta / WIDE_VARIANCE
    return -0.5 * precision * ops.sum(ops.square(x), axis=-1) - (
        1.0 - beta
    ) * 0.5 * math.log(2 * math.pi)


class ExactDraw(MarkovChainSampler):
    """An exact draw from p_beta leaves p_beta invariant: a valid kernel.
    Its target is p_beta's precision."""

    def one_step(self, target, carry, seed):
        (x,) = carry
        return (
            backend.stateless_normal(ops.shape(x), seed) / ops.sqrt(target),
        )


def tempered_precision(beta):
    return (1.0 - beta) + beta / WIDE_VARIANCE


def test_recovers_the_log_ratio_of_normalising_constants():
    seed = ops.convert_to_tensor([3, 4], "int32")
    initial = backend.stateless_normal((2000, 1), seed + 7)
    log_weights = to_numpy(
        annealed_importance_sampling(
            log_unnormalized_prob,
            ExactDraw(),
            tempered_precision,
            initial,
            50,
            seed,
        )
    ).astype("float64")
    peak = log_weights.max()
    estimate = peak + math.log(np.exp(log_weights - peak).mean())
    assert abs(estimate - 0.5 * math.log(8 * math.pi)) < 0.02


def test_needs_two_temperatures():
    initial = ops.zeros((4, 1))
    with pytest.raises(ValueError, match="num_betas"):
        annealed_importance_sampling(
            log_unnormalized_prob,
            ExactDraw(),
            tempered_precision,
            initial,
            1,
            ops.zeros((2,)),
        )
