"""`kgen.layers.MultiHeadAttention`: Keras' layer, attending through
`kgen.backend.dot_product_attention`."""

import keras
import numpy as np
import pytest

from kgen.layers import MultiHeadAttention
from tests.conftest import to_numpy

RNG = np.random.default_rng(0)


def twin_layers(x, **arguments):
    """kgen's layer and Keras' built on `x`, with the same random
    weights."""
    arguments = dict(num_heads=2, key_dim=4, **arguments)
    ours = MultiHeadAttention(**arguments)
    theirs = keras.layers.MultiHeadAttention(**arguments)
    ours(x, x)
    theirs(x, x)
    theirs.set_weights(
        [RNG.normal(size=w.shape) * 0.5 for w in ours.get_weights()]
    )
    ours.set_weights(theirs.get_weights())
    return ours, theirs


# 512 tokens make 2 MB of scores an example: blocked on a CPU under JAX
# and TensorFlow (kgen/backend/blocked_attention.py); 6 do not.
@pytest.mark.parametrize("length", [6, 512])
@pytest.mark.parametrize("use_causal_mask", [False, True])
def test_it_computes_keras_attention(length, use_causal_mask):
    x = RNG.normal(size=(2, length, 8)).astype("float32")
    ours, theirs = twin_layers(x)
    np.testing.assert_allclose(
        to_numpy(ours(x, x, use_causal_mask=use_causal_mask)),
        to_numpy(theirs(x, x, use_causal_mask=use_causal_mask)),
        rtol=1e-4,
        atol=1e-5,
    )


def test_a_mask_goes_to_keras_attention():
    x = RNG.normal(size=(1, 5, 8)).astype("float32")
    mask = np.tril(np.ones((1, 5, 5), bool))
    ours, theirs = twin_layers(x)
    outputs = [layer(x, x, attention_mask=mask) for layer in (ours, theirs)]
    np.testing.assert_allclose(*map(to_numpy, outputs), rtol=1e-5, atol=1e-6)


def test_it_round_trips_through_its_config():
    layer = MultiHeadAttention(num_heads=3, key_dim=2, dropout=0.1)
    clone = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert type(clone) is MultiHeadAttention
    assert clone.get_config() == layer.get_config()


def tokens(length):
    """`(2, length, 8)` tokens as a tensor, so that `layer(x, x)` passes
    one object twice: kgen's self-attention (NumPy arrays are converted
    one by one)."""
    return keras.ops.convert_to_tensor(
        RNG.normal(size=(2, length, 8)), "float32"
    )


@pytest.mark.all_backends
@pytest.mark.parametrize("length", [6, 512])
@pytest.mark.parametrize("use_causal_mask", [False, True])
def test_self_attention_projects_once_and_computes_keras_attention(
    length, use_causal_mask
):
    from kgen import backend

    x, weights = tokens(length), tokens(length)
    ours, theirs = twin_layers(x)
    # The three projections as one product: the layer never calls them.
    calls = []
    for dense in (ours._query_dense, ours._key_dense, ours._value_dense):
        dense.call = lambda *args, dense=dense, **kw: calls.append(dense)

    def gradients(layer):
        def loss():
            y = layer(x, x, use_causal_mask=use_causal_mask)
            return keras.ops.sum(y * weights), y

        (_, y), grads = backend.value_and_grad(loss, layer.trainable_weights)
        return [to_numpy(y)] + [to_numpy(g) for g in grads]

    for a, b in zip(gradients(ours), gradients(theirs), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    assert calls == []


@pytest.mark.all_backends
def test_self_attention_keeps_other_output_shapes():
    x = tokens(6)
    ours, theirs = twin_layers(x, output_shape=(2, 5))
    np.testing.assert_allclose(
        to_numpy(ours(x, x)), to_numpy(theirs(x, x)), rtol=1e-5, atol=1e-5
    )
    assert tuple(ours(x, x).shape) == (2, 6, 2, 5)


@pytest.mark.all_backends
def test_self_attention_adds_lora_adapters():
    x = tokens(6)
    ours, theirs = twin_layers(x)
    for layer in (ours, theirs):
        for dense in (layer._query_dense, layer._value_dense):
            dense.enable_lora(2)
    for a, b in zip(ours.weights, theirs.weights, strict=True):
        b.assign(RNG.normal(size=b.shape) * 0.5)
        a.assign(b)
    np.testing.assert_allclose(
        to_numpy(ours(x, x)), to_numpy(theirs(x, x)), rtol=1e-5, atol=1e-5
    )


@pytest.mark.all_backends
def test_self_attention_computes_in_the_layers_dtype():
    x = tokens(6)
    ours, _ = twin_layers(x)
    half = MultiHeadAttention(2, 4, dtype="mixed_bfloat16")
    half(x, x)
    half.set_weights(ours.get_weights())
    y = half(x, x)
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    np.testing.assert_allclose(
        to_numpy(keras.ops.cast(y, "float32")),
        to_numpy(ours(x, x)),
        rtol=3e-2,
        atol=5e-2,
    )
