"""`kgen.backend.gelu`: the exact GELU and its derivative against float64
on every backend (on JAX the rational `erf` written out)."""

import math
import re

import keras
import numpy as np
import pytest

from kgen import backend
from tests.conftest import to_numpy

X = np.linspace(-7, 7, 200_001).astype("float32")


def normal_cdf(x):
    erf = np.vectorize(math.erf)
    return 0.5 * (1 + erf(x.astype("float64") / math.sqrt(2)))


def test_it_is_the_exact_gelu_and_its_derivative():
    phi = np.exp(-0.5 * X.astype("float64") ** 2) / math.sqrt(2 * math.pi)
    cdf = normal_cdf(X)
    np.testing.assert_allclose(to_numpy(backend.gelu(X)), X * cdf, atol=2e-6)
    derivative = backend.grad(
        lambda x: keras.ops.sum(backend.gelu(x)), keras.ops.array(X)
    )
    np.testing.assert_allclose(to_numpy(derivative), cdf + X * phi, atol=2e-6)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_in_half_precision_out(dtype):
    x = keras.ops.cast(X[::100], dtype)
    y = backend.gelu(x)
    assert keras.backend.standardize_dtype(y.dtype) == dtype
    exact = to_numpy(keras.ops.cast(x, "float32")) * normal_cdf(X[::100])
    np.testing.assert_allclose(
        to_numpy(keras.ops.cast(y, "float32")), exact, rtol=0.01, atol=0.01
    )


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="reads JAX's program"
)
def test_jax_program_has_no_erf_and_every_transform_agrees():
    import jax

    def keras_gelu(x):
        return jax.nn.gelu(x, approximate=False)

    program = str(jax.make_jaxpr(jax.grad(lambda x: backend.gelu(x).sum()))(X))
    assert not re.search(r"\berfc?\b", program), program
    # Compiled and batched, forward mode, and reverse mode through forward
    # mode (MeanFlow's training), against JAX's own GELU.
    np.testing.assert_allclose(
        jax.jit(jax.vmap(backend.gelu))(X.reshape(-1, 1)).ravel(),
        keras_gelu(X),
        atol=1e-6,
    )
    ones = np.ones_like(X)
    tangent = jax.jvp(backend.gelu, (X,), (ones,))[1]
    np.testing.assert_allclose(
        tangent, jax.jvp(keras_gelu, (X,), (ones,))[1], atol=1e-6
    )

    def second(function):
        return jax.jit(
            jax.grad(lambda x: jax.jvp(function, (x,), (ones,))[1].sum())
        )(X)

    np.testing.assert_allclose(
        second(backend.gelu), second(keras_gelu), atol=2e-6
    )
    assert backend.gelu(np.arange(-2, 3)).dtype == np.float32
