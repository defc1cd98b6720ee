"""The decoder of an AdaIN style-transfer model."""

import keras
from keras import layers

from kgen.networks.image_shapes import check_image_shape
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_shape


@keras.saving.register_keras_serializable(package="kgen")
def style_decoder(
    feature_shape, image_shape, filters=64, num_layers=3, name="decoder"
):
    """Feature map -> image in [0, 1]: 3x3 convolutions, resized to the
    image's grid if the features lie on another, a sigmoid at the end.

    Huang & Belongie's decoder mirrors VGG up to relu4_1 with nearest
    upsampling; here the features (`kgen.style.inception_feature_network`'s
    deepest, 28x28x192 for 28x28 images) lie on the image's own grid, so
    convolutions alone decode them.

    Args:
        feature_shape: `(h, w, channels)` of the AdaIN layer.
        image_shape: `(height, width, channels)` of the images.
        filters: int. Channels of the first convolution; halved per layer
            (at least 16).
        num_layers: int >= 1. Hidden convolutions.
        name: str.

    Returns:
        A functional `keras.Model` `(batch, *feature_shape) -> (batch,
        *image_shape)`.
    """
    feature_shape = validate_shape(feature_shape, "feature_shape", rank=3)
    image_shape = check_image_shape(image_shape)
    filters = validate_int(filters, "filters")
    num_layers = validate_int(num_layers, "num_layers")
    features = keras.Input(feature_shape, name="features")
    x = features
    if feature_shape[:2] != image_shape[:2]:
        x = layers.Resizing(*image_shape[:2], interpolation="bilinear")(x)
    for index in range(num_layers):
        x = layers.Conv2D(
            max(filters // 2**index, 16), 3, padding="same", activation="relu"
        )(x)
    images = layers.Conv2D(
        image_shape[-1], 3, padding="same", activation="sigmoid"
    )(x)
    return keras.Model(features, images, name=name)
