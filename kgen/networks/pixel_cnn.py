"""The PixelCNN network: masked or gated convolutions over one-hot grids."""

import keras
from keras import layers

from kgen.layers.gated_pixel_cnn_block import GatedPixelCNNBlock
from kgen.layers.masked_conv2d import MaskedConv2D


@keras.saving.register_keras_serializable(package="kgen")
def pixel_cnn_network(
    width,
    num_levels,
    filters=64,
    num_layers=5,
    condition_channels=0,
    num_classes=None,
    architecture="gated",
    outputs_per_pixel=None,
):
    """`{"grids"[, "condition"][, "labels"]} -> (batch, H, W, outputs)`.

    Any height: `PixelCNN.sample` runs it on a window of rows.

    Args:
        width: int. Grid width.
        num_levels: int. Levels per pixel; the `grids` input is one-hot.
        filters: int. Channels of every layer.
        num_layers: int. 3x3 layers after the 7x7 mask-A one.
        condition_channels: int. Channels of a per-pixel condition map
            input (0: none).
        num_classes: int or `None`. Adds an int `labels` input.
        architecture: `"gated"` (van den Oord et al. 2016b: vertical and
            horizontal stacks, no blind spot) or `"plain"` (the original
            masked stack).
        outputs_per_pixel: int. Channels of the output (`num_levels` by
            default: categorical logits).
    """
    rows = (None, width)
    inputs = {"grids": keras.Input(rows + (num_levels,), name="grids")}
    if condition_channels:
        inputs["condition"] = keras.Input(
            rows + (condition_channels,), name="condition"
        )
    if num_classes:
        inputs["labels"] = keras.Input((), dtype="int32", name="labels")
    if architecture == "gated":
        h = _gated_stacks(inputs, filters, num_layers, num_classes)
    else:
        h = _masked_stack(inputs, filters, num_layers, num_classes)
    h = layers.Conv2D(filters, 1, activation="relu")(
        layers.Activation("relu")(h)
    )
    outputs = layers.Conv2D(outputs_per_pixel or num_levels, 1)(h)
    return keras.Model(inputs, outputs, name="pixel_cnn")


def _gated_stacks(inputs, filters, num_layers, num_classes):
    """Gated vertical/horizontal stacks: a 7x7 first layer (mask A), then
    `num_layers` 3x3 ones; returns the horizontal stack."""
    conditions = _conditions(inputs, filters, num_classes)
    grids = inputs["grids"]
    vertical, horizontal = GatedPixelCNNBlock(filters, 7, "A")(
        [grids, grids] + conditions
    )
    for _ in range(num_layers):
        vertical, horizontal = GatedPixelCNNBlock(filters, 3, "B")(
            [vertical, horizontal] + conditions
        )
    return horizontal


def _masked_stack(inputs, filters, num_layers, num_classes):
    """The original PixelCNN: a 7x7 mask-A convolution, then residual 3x3
    mask-B ones (with the blind spot up and right of each pixel)."""
    conditions = _conditions(inputs, filters, num_classes)

    def conditioned(h):
        for condition in conditions:
            if len(condition.shape) == 4:
                h = h + layers.Conv2D(filters, 1)(condition)
            else:
                bias = layers.Dense(filters)(condition)
                h = h + layers.Reshape((1, 1, filters))(bias)
        return h

    h = conditioned(MaskedConv2D("A", filters, 7)(inputs["grids"]))
    for _ in range(num_layers):
        update = layers.Activation("relu")(h)
        update = conditioned(MaskedConv2D("B", filters, 3)(update))
        h = h + update
    return h


def _conditions(inputs, filters, num_classes):
    """The condition map and/or the label embedding, as the blocks take
    them (a map per pixel, a vector per example)."""
    conditions = []
    if "condition" in inputs:
        conditions.append(inputs["condition"])
    if "labels" in inputs:
        conditions.append(
            layers.Embedding(num_classes, filters)(inputs["labels"])
        )
    return conditions
