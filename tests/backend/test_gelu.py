"""`kgen.backend.gelu`: Keras' exact GELU, its value and derivatives, on
every backend (on JAX the rational `erf` written out)."""

import re

import keras
import numpy as np
import pytest

from kgen import backend
from tests.conftest import to_numpy

X = np.linspace(-7, 7, 2001).astype("float32")


def test_it_is_the_exact_gelu_and_its_derivative():
    def total(function):
        return lambda x: keras.ops.sum(function(x))

    def keras_gelu(x):
        return keras.ops.gelu(x, approximate=False)

    np.testing.assert_allclose(
        to_numpy(backend.gelu(X)), to_numpy(keras_gelu(X)), atol=1e-6
    )
    np.testing.assert_allclose(
        to_numpy(backend.grad(total(backend.gelu), keras.ops.array(X))),
        to_numpy(backend.grad(total(keras_gelu), keras.ops.array(X))),
        atol=1e-6,
    )


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_in_half_precision_out(dtype):
    x = keras.ops.cast(X, dtype)
    y = backend.gelu(x)
    assert keras.backend.standardize_dtype(y.dtype) == dtype
    expected = keras.ops.gelu(keras.ops.cast(x, "float32"), approximate=False)
    np.testing.assert_allclose(
        to_numpy(keras.ops.cast(y, "float32")), to_numpy(expected), atol=0.03
    )


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="reads JAX's program"
)
def test_jax_program_has_no_erf_and_forward_mode_works():
    import jax

    program = str(jax.make_jaxpr(jax.grad(lambda x: backend.gelu(x).sum()))(X))
    assert not re.search(r"\berfc?\b", program), program
    # Forward mode, and reverse mode through it (MeanFlow's training).
    ones = np.ones_like(X)
    _, tangent = jax.jvp(backend.gelu, (X,), (ones,))
    expected = jax.grad(lambda x: jax.nn.gelu(x, approximate=False).sum())(X)
    np.testing.assert_allclose(tangent, expected, atol=1e-6)
    second = jax.grad(lambda x: jax.jvp(backend.gelu, (x,), (ones,))[1].sum())
    expected_second = jax.grad(
        lambda x: jax.grad(lambda y: jax.nn.gelu(y, approximate=False).sum())(
            x
        ).sum()
    )
    np.testing.assert_allclose(second(X), expected_second(X), atol=1e-5)
