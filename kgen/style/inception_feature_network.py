"""Feature maps of small images from the FID-Inception stem, offline."""

import keras

from kgen.metrics.fid_inception import fid_inception_v3
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_range
from kgen.utils.argument_validation import validate_shape

# At the default 128x128 input: 63x63x32, 61x61x64 and 28x28x192, the
# stem's three stages (its first conv, the last conv before the first
# pool, the last before the second). The last is the content layer and
# AdaIN's: the 28x28 grid of MNIST itself.
STYLE_LAYERS = ("conv_relu", "conv_2_relu", "conv_4_relu")


def inception_feature_network(
    image_shape,
    layer_names=STYLE_LAYERS,
    image_size=128,
    value_range=(0.0, 1.0),
    weights_path=None,
):
    """A frozen multi-output feature network for style transfer.

    Style transfer needs the features of a network trained on natural
    images (Gatys et al. use VGG-19); none can be downloaded here, but
    kgen already reads the genuine FID-Inception weights
    (`kgen.metrics.fid_inception.fid_inception_v3`). Its stem sees
    `image_size` pixels: the images are resized bilinearly (grey ones
    repeated to RGB) and scaled to Inception's `x / 128 - 1` of 8-bit
    levels.

    Args:
        image_shape: `(height, width, channels)`, 1 or 3 channels.
        layer_names: names of FID-Inception layers, shallow to deep (the
            deepest is the content and AdaIN layer); default
            `STYLE_LAYERS`.
        image_size: int >= 75, the side the images are resized to.
        value_range: `(low, high)` of the images.
        weights_path: the FID-Inception weights (see `find_weights`).

    Returns:
        A frozen functional `keras.Model`: images -> list of feature maps
        `(batch, h, w, c)`, one per layer name.
    """
    image_shape = validate_shape(image_shape, "image_shape", rank=3)
    if image_shape[-1] not in (1, 3):
        raise ValueError(
            f"`image_shape` must have 1 or 3 channels; received {image_shape}."
        )
    image_size = validate_int(image_size, "image_size", minimum=75)
    low, high = validate_range(value_range, "value_range")
    inception = fid_inception_v3(weights_path, image_size=image_size)
    names = [layer.name for layer in inception.layers]
    unknown = [name for name in layer_names if name not in names]
    if not layer_names or unknown:
        raise ValueError(
            f"`layer_names` must name FID-Inception layers; {unknown or []} "
            "are not among them (e.g. 'conv_relu', 'conv_2_relu', "
            "'conv_4_relu', 'mixed')."
        )
    stem = keras.Model(
        inception.inputs,
        [inception.get_layer(name).output for name in layer_names],
        name="inception_stem",
    )
    images = keras.Input(image_shape, name="images")
    # [low, high] -> [0, 255] -> x / 128 - 1.
    scale = 255.0 / (128.0 * (high - low))
    x = keras.layers.Rescaling(scale, offset=-low * scale - 1.0)(images)
    x = keras.layers.Resizing(image_size, image_size, "bilinear")(x)
    if image_shape[-1] == 1:
        x = keras.layers.Concatenate()([x, x, x])
    network = keras.Model(images, stem(x), name="inception_feature_network")
    network.trainable = False
    return network
