"""kgen's GroupNormalization is Keras' layer, run as one kernel on torch
and with its statistics reduced a channel at a time first on JAX and
TensorFlow; Keras' torch convolutions read channels-last inputs without
copies (kgen/backend/torch.py)."""

import keras
import numpy as np
import pytest

import kgen

BACKEND = keras.backend.backend()


def _pair(groups, **kwargs):
    """kgen's layer and Keras' with the same arguments."""
    ours = kgen.layers.GroupNormalization(groups, **kwargs)
    theirs = keras.layers.GroupNormalization(groups, **kwargs)
    return ours, theirs


def _values_and_input_gradients(layer, x):
    x = keras.ops.convert_to_tensor(x)
    weights = np.linspace(-1.0, 2.0, int(np.prod(x.shape[1:])))
    weights = keras.ops.convert_to_tensor(
        weights.reshape(x.shape[1:]).astype("float32")
    )

    def loss(x):
        return keras.ops.sum(layer(x) * weights)

    gradient = kgen.backend.grad(loss, x)
    return (
        keras.ops.convert_to_numpy(layer(x)),
        keras.ops.convert_to_numpy(gradient),
    )


@pytest.mark.all_backends
@pytest.mark.parametrize(
    "shape", [(3, 10, 16), (2, 6, 5, 16), (2, 3, 4, 4, 16)], ids=str
)
@pytest.mark.parametrize("center_and_scale", [True, False])
def test_values_and_gradients_are_keras(shape, center_and_scale):
    rng = np.random.default_rng(0)
    x = (3 * rng.normal(size=shape) + 1).astype("float32")
    ours, theirs = _pair(
        4, center=center_and_scale, scale=center_and_scale, epsilon=1e-3
    )
    ours.build(shape)
    theirs.build(shape)
    for variable in theirs.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32"))
    ours.set_weights(theirs.get_weights())
    for a, b in zip(
        _values_and_input_gradients(ours, x),
        _values_and_input_gradients(theirs, x),
    ):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.all_backends
def test_channels_on_another_axis_take_keras_path():
    x = np.random.default_rng(1).normal(size=(2, 8, 5, 5)).astype("float32")
    ours, theirs = _pair(4, axis=1)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ours(x)),
        keras.ops.convert_to_numpy(theirs(x)),
        atol=1e-5,
    )


@pytest.mark.all_backends
def test_mixed_precision_keeps_keras_float32_statistics():
    x = np.random.default_rng(2).normal(size=(2, 4, 4, 8)).astype("float32")
    x = 100 + 5 * x  # a large mean: bfloat16 statistics would lose it
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        ours, theirs = _pair(2)
        ours_y, theirs_y = ours(x), theirs(x)
    finally:
        keras.config.set_dtype_policy(previous)
    assert keras.backend.standardize_dtype(ours_y.dtype) == "bfloat16"
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(keras.ops.cast(ours_y, "float32")),
        keras.ops.convert_to_numpy(keras.ops.cast(theirs_y, "float32")),
        atol=0.05,
    )


def test_config_round_trip_keeps_the_class_and_arguments():
    layer = kgen.layers.GroupNormalization(4, epsilon=1e-5, center=False)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert type(restored) is kgen.layers.GroupNormalization
    assert restored.get_config() == layer.get_config()


def test_unet_denoiser_normalizes_with_kgen_layer():
    network = kgen.networks.unet_denoiser((8, 8, 1), widths=(8, 16))
    norms = [
        layer
        for layer in network.layers
        if isinstance(layer, keras.layers.GroupNormalization)
    ]
    assert norms
    assert all(type(n) is kgen.layers.GroupNormalization for n in norms)


def _profiled_ops(function):
    """`(name, input shapes)` of each torch op `function` runs."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile

    with profile(
        activities=[ProfilerActivity.CPU], record_shapes=True
    ) as profiler:
        function()
    return [(event.name, event.input_shapes) for event in profiler.events()]


@pytest.mark.torch_only
def test_torch_group_norm_is_one_kernel():
    layer = kgen.layers.GroupNormalization(4)
    x = np.ones((2, 4, 4, 8), "float32")
    layer(x)
    names = {name for name, _ in _profiled_ops(lambda: layer(x))}
    assert "aten::native_group_norm" in names
    assert "aten::var_mean" not in names and "aten::pow" not in names


@pytest.mark.torch_only
@pytest.mark.parametrize("strides", [1, 2])
def test_torch_convolution_reads_channels_last_inputs_in_place(strides):
    import torch

    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.normal(size=(2, 6, 6, 3)).astype("float32"))
    layer = keras.layers.Conv2D(5, 3, strides=strides, padding="same")
    layer(x)
    # Keras' `.contiguous()` copies are clones; the kernel's few numbers
    # may be cloned into torch's layout, and padding copies into a bigger
    # tensor (stride 2 on an even size pads one side).
    cloned = [
        shapes[0]
        for name, shapes in _profiled_ops(lambda: layer(x))
        if name == "aten::clone"
    ]
    assert [2, 3, 6, 6] not in cloned, "the input was copied"
    # The values are torch's own convolution of a standard NCHW copy.
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in layer.weights)
    padded = torch.nn.functional.pad(
        x.permute(0, 3, 1, 2).contiguous(),
        (1, 1, 1, 1) if strides == 1 else (0, 1, 0, 1),
    )
    expected = torch.nn.functional.conv2d(
        padded,
        torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()),
        torch.from_numpy(bias),
        stride=strides,
    ).permute(0, 2, 3, 1)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(x)), expected.numpy(), atol=1e-5
    )
    # A view that is not channels-last in memory takes Keras' own path.
    strided = x[:, ::2, ::2]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(strided)),
        keras.ops.convert_to_numpy(layer(strided.contiguous())),
        atol=1e-6,
    )
