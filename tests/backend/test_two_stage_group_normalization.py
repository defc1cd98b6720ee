"""`kgen/backend/two_stage_group_normalization.py`: group normalization,
its statistics summed over the spatial axes before a group's channels."""

import keras
import numpy as np
import pytest

from kgen import backend
from kgen.backend import two_stage_group_normalization
from tests.conftest import to_numpy


def reference(x, groups, gamma, beta, epsilon):
    grouped = x.reshape(x.shape[:-1] + (groups, -1))
    axes = tuple(range(1, x.ndim - 1)) + (x.ndim,)
    mean = grouped.mean(axis=axes, keepdims=True)
    variance = grouped.var(axis=axes, keepdims=True)
    normalized = ((grouped - mean) / np.sqrt(variance + epsilon)).reshape(
        x.shape
    )
    return normalized * gamma + beta


@pytest.mark.parametrize(
    "shape", [(3, 10, 12), (2, 5, 6, 12), (2, 3, 4, 2, 12)]
)
@pytest.mark.parametrize("affine", [True, False])
def test_it_is_group_normalization(shape, affine):
    rng = np.random.default_rng(0)
    # A mean far from zero: a one-pass variance would lose digits here.
    x = (50 + 3 * rng.normal(size=shape)).astype("float32")
    gamma, beta = rng.normal(size=(2, 12)).astype("float32")
    outputs = two_stage_group_normalization.group_normalization(
        x, 3, gamma if affine else None, beta if affine else None, 1e-3
    )
    expected = reference(
        x.astype("float64"),
        3,
        gamma if affine else 1,
        beta if affine else 0,
        1e-3,
    )
    np.testing.assert_allclose(to_numpy(outputs), expected, atol=2e-4)


@pytest.mark.parametrize("argument", [0, 1, 2])
def test_its_gradient_is_keras_layers(argument):
    # x, gamma and beta, then the weights of the loss.
    rng = np.random.default_rng(1)
    inputs = [
        keras.ops.convert_to_tensor(value, "float32")
        for value in (
            5 + 3 * rng.normal(size=(2, 4, 5, 12)),
            rng.normal(size=12),
            rng.normal(size=12),
            rng.normal(size=(2, 4, 5, 12)),
        )
    ]
    layer = keras.layers.GroupNormalization(3, epsilon=1e-3)
    layer.build((2, 4, 5, 12))

    def two_stage(x, gamma, beta):
        return two_stage_group_normalization.group_normalization(
            x, 3, gamma, beta, 1e-3
        )

    def keras_layer(x, gamma, beta):
        return layer.stateless_call([gamma, beta], [], x)[0]

    def gradient(function):
        def loss(value):
            arguments = inputs[:3]
            arguments[argument] = value
            return keras.ops.sum(function(*arguments) * inputs[3])

        return to_numpy(backend.grad(loss, inputs[argument]))

    np.testing.assert_allclose(
        gradient(two_stage), gradient(keras_layer), rtol=1e-4, atol=1e-5
    )


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="reads JAX's program"
)
def test_its_sums_keep_the_channels_innermost_both_ways():
    import jax

    x = np.ones((2, 4, 4, 8), "float32")

    def normalization(x):
        return two_stage_group_normalization.group_normalization(
            x, 2, np.ones(8, "float32"), np.zeros(8, "float32"), 1e-5
        )

    def sums_over_activations(function):
        program = jax.make_jaxpr(function)(x)
        return {
            (tuple(e.invars[0].aval.shape), e.params["axes"])
            for e in program.jaxpr.eqns
            if e.primitive.name == "reduce_sum"
            and e.invars[0].aval.size == x.size
        }

    def gradient(x):
        outputs, pullback = jax.vjp(normalization, x)
        return pullback(jax.numpy.ones_like(outputs))

    # Every sum over the activations is over the spatial axes of
    # `(batch, h, w, channels)`, for the statistics and for their
    # gradients; a group's channels are summed afterwards, a batch times
    # channels array.
    spatial_sums = {((2, 4, 4, 8), (1, 2))}
    assert sums_over_activations(normalization) == spatial_sums
    assert sums_over_activations(gradient) == spatial_sums
