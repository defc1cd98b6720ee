"""Adversarial losses against hand-computed values; penalties against
finite differences."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from kgen import losses
from kgen.losses import AdversarialLoss
from tests.conftest import to_numpy

REAL = np.array([[2.0], [-1.0]], "float32")
FAKE = np.array([[0.5], [-3.0]], "float32")


def log_sigmoid(t):
    return -math.log1p(math.exp(-t))


def value(x):
    return float(to_numpy(x))


def test_minimax_and_non_saturating_closed_forms():
    d_expected = -np.mean([log_sigmoid(2.0), log_sigmoid(-1.0)]) - np.mean(
        [math.log(1 - 1 / (1 + math.exp(-t))) for t in (0.5, -3.0)]
    )
    assert value(losses.minimax_discriminator_loss(REAL, FAKE)) == (
        pytest.approx(d_expected, rel=1e-6)
    )
    assert value(losses.minimax_generator_loss(FAKE)) == pytest.approx(
        np.mean([math.log(1 - 1 / (1 + math.exp(-t))) for t in (0.5, -3.0)]),
        rel=1e-6,
    )
    assert value(losses.non_saturating_generator_loss(FAKE)) == pytest.approx(
        -np.mean([log_sigmoid(0.5), log_sigmoid(-3.0)]), rel=1e-6
    )


def test_wasserstein_hinge_least_squares_closed_forms():
    # E[D(fake)] = -1.25, E[D(real)] = 0.5
    assert value(losses.wasserstein_discriminator_loss(REAL, FAKE)) == (
        pytest.approx(-1.75)
    )
    assert value(losses.wasserstein_generator_loss(FAKE)) == pytest.approx(1.25)
    # relu(1 - [2, -1]) = [0, 2]; relu(1 + [0.5, -3]) = [1.5, 0]
    assert value(losses.hinge_discriminator_loss(REAL, FAKE)) == (
        pytest.approx(1.0 + 0.75)
    )
    # 0.5 * mean([1, 4]) + 0.5 * mean([0.25, 9])
    assert value(losses.least_squares_discriminator_loss(REAL, FAKE)) == (
        pytest.approx(1.25 + 2.3125)
    )
    # 0.5 * mean([0.25, 16])
    assert value(losses.least_squares_generator_loss(FAKE)) == pytest.approx(
        4.0625
    )


@pytest.mark.parametrize(
    "objective",
    ["minimax", "non_saturating", "wasserstein", "hinge", "least_squares"],
)
def test_adversarial_loss_dispatches_and_serializes(objective):
    loss = AdversarialLoss(objective)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(loss)
    )
    assert restored.objective == objective
    assert value(restored.discriminator_loss(REAL, FAKE)) == pytest.approx(
        value(loss.discriminator_loss(REAL, FAKE))
    )


def test_unknown_objective_is_named():
    with pytest.raises(ValueError, match="objective"):
        AdversarialLoss("wasserstien")


class TinyCritic:
    """D(x) = sum(tanh(x @ W)) : smooth, with a known gradient."""

    def __init__(self, weights):
        self.weights = ops.convert_to_tensor(weights)

    def __call__(self, x, training=False):
        return ops.sum(ops.tanh(ops.matmul(x, self.weights)), axis=1)


def numeric_gradient_norms(weights, points, step=1e-3):
    def critic(x):
        return np.tanh(x @ weights).sum()

    norms = []
    for point in points.astype("float64"):
        gradient = np.zeros_like(point)
        for i in range(len(point)):
            offset = np.zeros_like(point)
            offset[i] = step
            gradient[i] = (critic(point + offset) - critic(point - offset)) / (
                2 * step
            )
        norms.append(np.linalg.norm(gradient))
    return np.array(norms)


def test_gradient_penalty_equals_finite_differences():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(3, 4)).astype("float32")
    real = rng.normal(size=(6, 3)).astype("float32")
    fake = rng.normal(size=(6, 3)).astype("float32")
    penalty = value(
        losses.gradient_penalty(TinyCritic(weights), real, fake, seed=7)
    )
    # Same seed, same interpolation coefficients.
    eps = to_numpy(keras.random.uniform((6, 1), seed=7))
    interpolates = eps * real + (1 - eps) * fake
    norms = numeric_gradient_norms(weights.astype("float64"), interpolates)
    assert penalty == pytest.approx(np.mean((norms - 1.0) ** 2), rel=1e-3)


def test_r1_penalty_equals_finite_differences():
    rng = np.random.default_rng(1)
    weights = rng.normal(size=(3, 4)).astype("float32")
    real = rng.normal(size=(5, 3)).astype("float32")
    penalty = value(losses.r1_penalty(TinyCritic(weights), real))
    norms = numeric_gradient_norms(weights.astype("float64"), real)
    assert penalty == pytest.approx(np.mean(norms**2), rel=1e-3)


def test_weight_clipping():
    clip = losses.WeightClipping(0.05)
    clipped = to_numpy(clip(np.array([-1.0, 0.01, 0.3], "float32")))
    np.testing.assert_allclose(clipped, [-0.05, 0.01, 0.05])
    with pytest.raises(ValueError, match="clip_value"):
        losses.WeightClipping(0.0)
