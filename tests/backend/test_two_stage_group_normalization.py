"""`kgen/backend/two_stage_group_normalization.py`: group normalization,
its statistics summed over the spatial axes before a group's channels."""

import keras
import numpy as np
import pytest

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


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="reads JAX's program"
)
def test_the_first_reduction_keeps_the_channels_innermost():
    import jax

    x = np.ones((2, 4, 4, 8), "float32")
    program = jax.make_jaxpr(
        lambda x: two_stage_group_normalization.group_normalization(
            x, 2, None, None, 1e-5
        )
    )(x)
    reductions = [
        (tuple(e.invars[0].aval.shape), e.params["axes"])
        for e in program.jaxpr.eqns
        if e.primitive.name == "reduce_sum"
    ]
    # Over the spatial axes of `(batch, h, w, groups, channels / groups)`,
    # then over a group's channels, for the mean and for the variance.
    assert (
        reductions
        == [
            ((2, 4, 4, 2, 4), (1, 2)),
            ((2, 1, 1, 2, 4), (4,)),
        ]
        * 2
    )
