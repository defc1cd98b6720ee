"""`backend.jvp` against its definition, on every backend (this folder is
in the backend matrix of tests/conftest.py)."""

import keras
import numpy as np
import pytest
from keras import ops

import kgen
from kgen import backend
from tests.conftest import to_numpy


def small_denoiser():
    """A one-level U-Net (its middle has attention) with both time
    inputs: the ops `MeanFlow` differentiates forward (convolutions,
    group norms, attention, sinusoids)."""
    return kgen.networks.unet_denoiser(
        (4, 4, 1),
        widths=(4,),
        num_heads=2,
        timestep_dtype="float32",
        step_size_input=True,
    )


def test_jvp_equals_a_central_difference_through_a_denoiser():
    network = small_denoiser()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4, 4, 1)).astype("float32")
    times = rng.uniform(200, 800, size=3).astype("float32")
    steps = rng.uniform(0, 300, size=3).astype("float32")
    # Random weights: the zero-initialised output layer would give 0 = 0.
    for weight in network.weights:
        weight.assign(0.3 * rng.normal(size=weight.shape).astype("float32"))
    tangents = (
        rng.normal(size=x.shape).astype("float32"),
        np.ones(3, "float32"),
        np.full(3, 0.5, "float32"),
    )

    def function(x, times, steps):
        return network([x, times, steps])

    primals = tuple(ops.convert_to_tensor(p) for p in (x, times, steps))
    tangents = tuple(ops.convert_to_tensor(t) for t in tangents)
    outputs, derivative = backend.jvp(function, primals, tangents)
    reference, difference = backend.finite_difference_jvp(
        function, primals, tangents, epsilon=1e-3
    )
    # Equal up to rounding: torch's jvp runs attention on another kernel.
    np.testing.assert_allclose(
        to_numpy(outputs), to_numpy(reference), rtol=1e-5, atol=1e-6
    )
    scale = np.abs(to_numpy(derivative)).max()
    assert scale > 1e-2
    np.testing.assert_allclose(
        to_numpy(derivative), to_numpy(difference), atol=2e-3 * scale
    )


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_the_primal_output_of_jvp_trains_under_fit(run_eagerly):
    """A loss through the JVP's primal output (its tangent stopped, as
    `MeanFlow`'s target) moves every weight on this backend, traced or
    eager (eager TensorFlow had dropped all but the last op's)."""
    network = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(3, activation="swish"),
            keras.layers.Dense(2),
        ]
    )

    class Model(keras.Model):
        def __init__(self):
            super().__init__()
            self.network = network

        def call(self, x):
            return self.network(x)

        def compute_loss(self, x=None, *args, **kwargs):
            x = ops.convert_to_tensor(x)
            outputs, derivative = backend.jvp(self.network, (x,), (x,))
            return ops.mean(
                ops.square(outputs - ops.stop_gradient(derivative) - 1.0)
            )

    model = Model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), run_eagerly=run_eagerly)
    before = [to_numpy(w).copy() for w in network.weights]
    data = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    backend.fit(model, data, epochs=1, batch_size=4, verbose=0)
    for weight, start in zip(network.weights, before):
        assert not np.allclose(to_numpy(weight), start), weight.path
