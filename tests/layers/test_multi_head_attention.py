"""`kgen.layers.MultiHeadAttention`: Keras' layer, attending through
`kgen.backend.dot_product_attention`."""

import keras
import numpy as np
import pytest

from kgen.layers import MultiHeadAttention
from tests.conftest import to_numpy

RNG = np.random.default_rng(0)


def twin_layers(x):
    """kgen's layer and Keras' built on `x`, with the same random
    weights."""
    ours = MultiHeadAttention(num_heads=2, key_dim=4)
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
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
