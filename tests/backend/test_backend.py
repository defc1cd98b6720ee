"""`kgen.backend`: gradients and the stateful-step trainer, on every backend.

Each caveat of the JAX adapter (../shared/DESIGN.md section 2) is pinned
here: the private Keras method it uses, models whose `call` does not take
the data, and input-gradient functions that would update state.
"""

import importlib.util
import inspect

import keras
import numpy as np
import pytest
from keras import ops

from kgen import backend
from tests.conftest import BACKEND
from tests.conftest import iterations
from tests.conftest import to_numpy


def test_value_and_grad_matches_closed_form():
    # loss = sum((w * x)**2)  =>  dloss/dw = 2 w x**2
    w = keras.Variable(np.array([1.0, -2.0, 3.0], "float32"))
    x = ops.convert_to_tensor(np.array([0.5, 1.0, 2.0], "float32"))
    (loss, aux), grads = backend.value_and_grad(
        lambda: (ops.sum(ops.square(w * x)), "aux"), [w]
    )
    np.testing.assert_allclose(to_numpy(loss), 0.25 + 4.0 + 36.0, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(grads[0]), [0.5, -4.0, 24.0], rtol=1e-6)
    assert aux == "aux"


def test_grad_is_the_input_gradient():
    x = ops.convert_to_tensor(np.array([[1.0, -2.0], [0.5, 3.0]], "float32"))
    gradient = backend.grad(lambda x: x**3, x)
    np.testing.assert_allclose(to_numpy(gradient), 3 * to_numpy(x) ** 2)


def test_grad_nests_inside_value_and_grad():
    # penalty(w) = sum((d/dx sum(w x**2))**2) = sum((2 w x)**2)
    # d penalty / dw = 8 w sum(x**2): the inner gradient must be
    # differentiable with respect to the network's weights.
    w = keras.Variable(np.array(1.5, "float32"))
    x = ops.convert_to_tensor(np.array([1.0, 2.0, -1.0], "float32"))

    def penalty():
        inner = backend.grad(lambda x: w * x**2, x)
        return ops.sum(ops.square(inner)), None

    (value, _), (dw,) = backend.value_and_grad(penalty, [w])
    np.testing.assert_allclose(to_numpy(value), 4 * 1.5**2 * 6.0, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(dw), 8 * 1.5 * 6.0, rtol=1e-6)


class PenalisedRegressor(backend.Trainer, keras.Model):
    """A stateful step: value_and_grad + grad + a metric + a seed draw."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1)
        self.seed_generator = keras.random.SeedGenerator(0)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, x):
        return self.dense(x)

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, data):
        x, y = data
        noise = keras.random.normal(ops.shape(x), seed=self.seed_generator)
        variables = self.trainable_variables

        def loss_fn():
            prediction = self.dense(x + 0.01 * noise)
            slope = backend.grad(self.dense, x)
            penalty = ops.mean(ops.square(slope))
            return ops.mean(ops.square(prediction - y)) + 0.01 * penalty, None

        (loss, _), grads = backend.value_and_grad(loss_fn, variables)
        self.optimizer.apply(grads, variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        x, y = data
        self.loss_tracker.update_state(ops.mean(ops.square(self.dense(x) - y)))
        return {"loss": self.loss_tracker.result()}


def test_stateful_train_step_runs_under_fit_and_evaluate():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3
    model = PenalisedRegressor()
    # JAX compiles the step with XLA; the other backends keep Keras' default.
    jit_compile = True if BACKEND == "jax" else "auto"
    model.compile(
        optimizer=keras.optimizers.Adam(0.05), jit_compile=jit_compile
    )
    model(x[:1])  # builds the Dense layer
    seed_state = to_numpy(model.seed_generator.state)
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    if BACKEND == "jax":
        assert model.jit_compile is True
    assert iterations(model.optimizer) == 8 * 8
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    # The seed generator advanced inside the step (state carried out).
    assert not np.array_equal(seed_state, to_numpy(model.seed_generator.state))
    logs = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
    assert logs["loss"] < 0.1 * history.history["loss"][0]


@pytest.mark.skipif(BACKEND != "jax", reason="JAX-only caveat")
def test_grad_rejects_functions_that_update_state_on_jax():
    normalization = keras.layers.BatchNormalization()
    normalization.build((None, 2))
    x = ops.ones((4, 2))
    with pytest.raises(ValueError, match="assigned variables"):
        backend.grad(lambda x: normalization(x, training=True), x)


def test_grad_can_discard_the_state_updates_of_random_layers():
    # A random layer in training mode inside an input gradient (WaveGAN's
    # phase shuffle in its penalty): the draw leaves the seed state as it
    # was on every backend, and the gradient still trains the weights.
    seed = keras.random.SeedGenerator(3)
    before = to_numpy(seed.state)
    w = keras.Variable(np.array(2.0, "float32"))
    x = ops.ones((3,))

    def penalty():
        def noisy(x):
            return w * x * keras.random.uniform((3,), seed=seed)

        inner = backend.grad(noisy, x, discard_state_updates=True)
        return ops.sum(inner), inner

    (value, inner), (dw,) = backend.value_and_grad(penalty, [w])
    np.testing.assert_array_equal(before, to_numpy(seed.state))
    np.testing.assert_allclose(to_numpy(value), to_numpy(dw) * 2.0, rtol=1e-5)
    assert 0.0 < to_numpy(dw) < 3.0


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="jax not installed"
)
def test_keras_is_the_tested_minor_and_keeps_the_private_jax_hook():
    # kgen.backend.jax wraps steps with JAXTrainer._make_function(step),
    # a private Keras method. A Keras upgrade must fail here, loudly,
    # before it fails obscurely inside fit.
    major, minor = (int(p) for p in keras.__version__.split(".")[:2])
    assert (major, minor) == (3, 15), (
        f"kgen is tested with Keras 3.15.x; found {keras.__version__}. "
        "Re-verify kgen/backend/jax.py and widen setup.py's pin."
    )
    from keras.src.backend.jax.trainer import JAXTrainer

    parameters = list(inspect.signature(JAXTrainer._make_function).parameters)
    assert parameters[:2] == ["self", "step_function"]


def test_half_precision_single_filter_convolution_has_gradients():
    # A one-filter convolution (a discriminator's logit) on channels-last
    # inputs, in bfloat16: torch's CPU backward raised "grad_weight must
    # be contiguous" until kgen.backend.torch gave such kernels the
    # standard layout. The gradient must be torch's float32 one, rounded.
    layer = keras.layers.Conv2D(1, 3, padding="same", dtype="mixed_bfloat16")
    x = ops.convert_to_tensor(
        np.random.default_rng(0).normal(size=(2, 4, 4, 4)).astype("float32")
    )
    layer.build(x.shape)
    reference = keras.layers.Conv2D(1, 3, padding="same")
    reference.build(x.shape)
    reference.set_weights(layer.get_weights())

    def loss_of(conv):
        return lambda: (ops.mean(ops.cast(conv(x), "float32") ** 2), None)

    _, grads = backend.value_and_grad(loss_of(layer), layer.trainable_weights)
    _, expected = backend.value_and_grad(
        loss_of(reference), reference.trainable_weights
    )
    for gradient, wanted in zip(grads, expected):
        np.testing.assert_allclose(
            to_numpy(gradient), to_numpy(wanted), rtol=0.05, atol=0.02
        )
