"""A model's parameters counted without allocating them."""

import keras
import pytest

from kgen.utils.unallocated_count import count_unallocated_parameters

# Keras' StatelessScope is backend-neutral; one backend proves it.
pytestmark = pytest.mark.tensorflow_only


def dense_model(width):
    inputs = keras.Input((width,))
    return keras.Model(inputs, keras.layers.Dense(width)(inputs))


def test_a_model_is_counted_as_built_and_leaves_nothing_behind():
    assert count_unallocated_parameters(lambda: dense_model(8)) == 72
    # 2**34 float32 values (64 GiB) are counted, never allocated.
    assert count_unallocated_parameters(lambda: dense_model(2**17)) == (
        2**34 + 2**17
    )
    # The next real model initializes as usual: no counted variable is
    # left waiting to be initialized with it.
    model = dense_model(4)
    assert model.count_params() == 20
    assert all(v.value is not None for v in model.weights)
