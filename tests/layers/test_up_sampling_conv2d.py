import keras
import numpy as np
import pytest

import kgen


def _reference(layer, x):
    """`UpSampling2D(2)` then a `Conv2D(filters, 3, padding="same")` with
    `layer`'s weights, moved by `set_weights` (the same kernel and bias in
    the same order)."""
    conv = keras.layers.Conv2D(
        layer.filters, 3, padding="same", activation=layer.activation
    )
    conv.build((None, 2 * x.shape[1], 2 * x.shape[2], x.shape[3]))
    conv.set_weights(layer.get_weights())
    return keras.ops.convert_to_numpy(conv(keras.layers.UpSampling2D(2)(x)))


def _random_layer(filters, x, **kwargs):
    layer = kgen.layers.UpSamplingConv2D(filters, **kwargs)
    layer.build(x.shape)
    rng = np.random.default_rng(1)
    # A random bias too, so a wrong bias path shows.
    layer.set_weights(
        [rng.normal(size=w.shape).astype("float32") for w in layer.weights]
    )
    return layer


@pytest.mark.parametrize("height, width", [(5, 7), (1, 1), (4, 4)])
def test_equals_upsampling_then_a_same_convolution(height, width):
    x = np.random.default_rng(0).normal(size=(3, height, width, 4))
    x = x.astype("float32")
    layer = _random_layer(6, x, activation="relu")
    y = keras.ops.convert_to_numpy(layer(x))
    assert y.shape == (3, 2 * height, 2 * width, 6)
    np.testing.assert_allclose(y, _reference(layer, x), atol=2e-5)
    assert layer.compute_output_shape(x.shape) == y.shape


def test_config_round_trips_with_only_its_arguments():
    layer = kgen.layers.UpSamplingConv2D(8, use_bias=False, name="up1")
    config = layer.get_config()
    for fixed in ("kernel_size", "strides", "padding", "dilation_rate"):
        assert fixed not in config
    clone = kgen.layers.UpSamplingConv2D.from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert isinstance(restored, kgen.layers.UpSamplingConv2D)
    assert restored.get_config() == config


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"kernel_size": 5}, "kernel_size=5"),
        ({"strides": 2}, "strides=2"),
        ({"data_format": "channels_first"}, "data_format"),
        ({"groups": 2}, "groups"),
    ],
)
def test_fixed_arguments_are_refused_by_name(kwargs, named):
    with pytest.raises(ValueError, match=named):
        kgen.layers.UpSamplingConv2D(4, **kwargs)
