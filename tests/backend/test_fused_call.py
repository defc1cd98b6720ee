"""`kgen.backend.fused_call`: a transformer block's call, one XLA cluster
where TensorFlow trains without XLA on a CPU and the block's attention
scores outgrow the cache, the same call elsewhere."""

import keras
import numpy as np
import pytest

import kgen
from tests.conftest import BACKEND
from tests.conftest import weights_of

WIDTH, CONDITIONING = 8, 6
# Two heads' 256 x 256 float32 scores (512 kB) outgrow the cache; 4 x 4 fit.
LONG, SHORT = 256, 4


def block_model(length, seed=0):
    """A DiT block with every weight drawn (its gates start at zero, which
    would hide the attention and the MLP from the gradients)."""
    keras.utils.set_random_seed(seed)
    tokens = keras.Input((length, WIDTH))
    conditioning = keras.Input((CONDITIONING,))
    block = kgen.layers.DiTBlock(num_heads=2, name="block")
    model = keras.Model([tokens, conditioning], block([tokens, conditioning]))
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(0.3 * rng.normal(size=variable.shape))
    return model


def data(length, num_examples=8):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(num_examples, length, WIDTH)).astype("float32")
    c = rng.normal(size=(num_examples, CONDITIONING)).astype("float32")
    y = rng.normal(size=(num_examples, length, WIDTH)).astype("float32")
    return [x, c], y


def fitted_weights(model, run_eagerly):
    length = model.inputs[0].shape[1]
    model.compile(
        optimizer=keras.optimizers.SGD(0.1), loss="mse", run_eagerly=run_eagerly
    )
    inputs, targets = data(length)
    # kgen's `fit` of a plain Keras model: its arrays through a pipeline
    # that does not autotune (the test workers' garbage collections).
    kgen.backend.fit(
        model, inputs, targets, batch_size=4, epochs=2, shuffle=False, verbose=0
    )
    return weights_of(model)


@pytest.fixture
def compiled_by_xla(monkeypatch):
    """Records, for each trace of a DiT block's branches, whether XLA
    compiles the graph being traced (TensorFlow)."""
    if BACKEND != "tensorflow":
        return None
    from kgen.backend import tensorflow as tensorflow_backend

    records = []
    branches = kgen.layers.DiTBlock._residual_branches

    def recording(self, inputs):
        if not keras.backend.is_keras_tensor(inputs[0]):
            records.append(tensorflow_backend.is_compiled_by_xla())
        return branches(self, inputs)

    monkeypatch.setattr(kgen.layers.DiTBlock, "_residual_branches", recording)
    return records


@pytest.mark.parametrize("length", [LONG, SHORT])
def test_a_block_trains_to_its_eager_weights(compiled_by_xla, length):
    eager = fitted_weights(block_model(length), run_eagerly=True)
    if compiled_by_xla is not None:
        # Called eagerly, the block's ops run one by one.
        assert compiled_by_xla and not any(compiled_by_xla)
        compiled_by_xla.clear()
    traced = fitted_weights(block_model(length), run_eagerly=False)
    if compiled_by_xla is not None:
        # Traced into Keras' step (no XLA on a CPU), the block was XLA's
        # where its scores outgrow the cache, TensorFlow's kernels' else.
        assert compiled_by_xla
        assert all(record == (length == LONG) for record in compiled_by_xla)
    assert len(eager) == len(traced)
    for a, b in zip(eager, traced):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # The weights moved: the comparison is of two trainings.
    initial = weights_of(block_model(length))[0]
    assert np.abs(traced[0] - initial).max() > 1e-3


def test_lora_adapters_added_later_train_through_the_block():
    # The block's XLA cluster, traced before the adapters existed, is
    # traced again with them: their `B` gets gradients.
    model = block_model(LONG)
    fitted_weights(model, run_eagerly=False)
    kgen.lora.enable_lora(model, rank=2)
    adapters = [v for v in model.trainable_weights if "lora_kernel_b" in v.path]
    assert len(adapters) == 2  # the query and the value
    before = [keras.ops.convert_to_numpy(v) for v in adapters]
    fitted_weights(model, run_eagerly=False)
    for b, v in zip(before, adapters):
        assert np.abs(keras.ops.convert_to_numpy(v) - b).max() > 1e-4


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow's graphs")
def test_forward_mode_differentiates_a_traced_block(compiled_by_xla):
    # `tf.autodiff.ForwardAccumulator` differentiates no XLA cluster.
    import tensorflow as tf

    model = block_model(LONG)
    (x, c), _ = data(LONG, 2)
    x, c = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(c)
    tangent = np.random.default_rng(2).normal(size=x.shape).astype("float32")

    def tokens_to_output(x):
        return model([x, c])

    @tf.function
    def traced_jvp(x, tangent):
        return kgen.backend.jvp(tokens_to_output, (x,), (tangent,))[1]

    exact = traced_jvp(x, tangent).numpy()
    assert compiled_by_xla == [False]
    estimate = kgen.backend.finite_difference_jvp(
        tokens_to_output, (x,), (tangent,)
    )[1]
    np.testing.assert_allclose(exact, estimate, atol=1e-3)
