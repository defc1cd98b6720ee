"""A small image classifier, for domain metrics (IS, domain FID)."""

import keras
from keras import layers

from kgen.layers.dropout import Dropout
from kgen.networks.image_shapes import check_image_shape
from kgen.networks.image_shapes import num_resolution_steps


@keras.saving.register_keras_serializable(package="kgen")
def image_classifier(
    image_shape,
    num_classes=10,
    filters=32,
    features_dim=128,
    name="classifier",
):
    """Strided convolutions, a named feature layer, softmax over classes.

    Args:
        image_shape: `(height, width, channels)`, images in [0, 1].
        num_classes: int.
        filters: int. Channels of the first stage; doubled per stage.
        features_dim: int. Width of the `"features"` layer, the embedding
            a domain FID compares (see `classifier_features`).
        name: str.

    Returns:
        A functional `keras.Model` `(batch, *image_shape) -> (batch,
        num_classes)` probabilities.
    """
    image_shape = check_image_shape(image_shape)
    images = keras.Input(image_shape, name="images")
    x = images
    for step in range(max(num_resolution_steps(image_shape), 1)):
        x = layers.Conv2D(
            filters * 2**step, 3, strides=2, padding="same", activation="relu"
        )(x)
    x = layers.Flatten()(x)
    features = layers.Dense(features_dim, activation="relu", name="features")(x)
    x = Dropout(0.3)(features)
    probabilities = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(images, probabilities, name=name)


@keras.saving.register_keras_serializable(package="kgen")
def classifier_features(classifier, layer_name="features"):
    """The sub-model from a classifier's input to one of its layers."""
    return keras.Model(
        classifier.inputs,
        classifier.get_layer(layer_name).output,
        name=f"{classifier.name}_{layer_name}",
    )
