"""The two numbers every style transfer is judged by."""

import numpy as np
from keras import ops

from kgen.losses.style import content_loss
from kgen.losses.style import gram_style_loss


def style_transfer_losses(
    feature_network, images, content_images, style_images
):
    """Content loss (deepest layer) and Gram style loss (every layer) of
    `images` against their content and style images, per example.

    The stylised image should keep most of its content image's deep
    features while taking on the style image's Gram matrices: the content
    image itself has zero content loss and its own style loss, the "before"
    of every style transfer.

    Args:
        feature_network: images -> list of feature maps
            (`inception_feature_network`).
        images, content_images: arrays of the same shape.
        style_images: an array of as many images, or of one (every image
            the same style).

    Returns:
        dict of float64 NumPy arrays `(batch,)`: `content_loss`,
        `style_loss`.
    """
    features = feature_network(images)
    content = feature_network(content_images)[-1]
    style = feature_network(style_images)
    return {
        "content_loss": _numpy(content_loss(features[-1], content)),
        "style_loss": _numpy(gram_style_loss(features, style)),
    }


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(x), "float64")
