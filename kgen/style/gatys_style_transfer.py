"""Style transfer by optimising the pixels (Gatys et al. 2016)."""

import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen.losses.style import content_loss
from kgen.losses.style import gram_matrix
from kgen.losses.style import gram_style_loss
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import validate_array


def gatys_style_transfer(
    content_images,
    style_images,
    feature_network,
    *,
    num_steps=200,
    learning_rate=0.05,
    content_weight=1.0,
    style_weight=100.0,
):
    """Images with the content of one image and the style of another.

    Minimises, over the pixels `x` of each image (Gatys et al. 2016,
    eq. 7, with the per-layer terms averaged):

    ```
    L(x) = content_weight * |F_L(x) - F_L(c)|**2
           + style_weight * mean_l |G(F_l(x)) - G(F_l(s))|**2
    ```

    where `F_l` are the feature network's maps (the deepest, `F_L`, is
    the content layer) and `G` their Gram matrices. The pixels are
    `x = sigmoid(u)`, so they stay in [0, 1] without clipping; `u` starts
    at the content image and takes `num_steps` Adam steps (Gatys et al.
    use L-BFGS, which Keras does not offer; Adam on the pixels is the
    common substitute).

    Args:
        content_images: array `(batch, height, width, channels)` in
            [0, 1].
        style_images: array of the same shape, or of one image (the same
            style for every content image), in [0, 1].
        feature_network: images in [0, 1] -> list of feature maps,
            shallow to deep (`kgen.style.inception_feature_network`).
        num_steps: int.
        learning_rate: float, Adam's, on the logits `u`.
        content_weight, style_weight: floats >= 0.

    Returns:
        float32 NumPy images of the content images' shape, in [0, 1].

    References:
        [1] Gatys, Ecker & Bethge. Image Style Transfer Using
            Convolutional Neural Networks. CVPR 2016.
    """
    content_images = np.asarray(ops.convert_to_numpy(content_images), "float32")
    shape = content_images.shape[1:]
    validate_array(content_images, shape, "content_images", (0.0, 1.0))
    style_images = np.asarray(ops.convert_to_numpy(style_images), "float32")
    validate_array(style_images, shape, "style_images", (0.0, 1.0))
    if len(style_images) not in (1, len(content_images)):
        raise ValueError(
            "`style_images` must hold one image or one per content image "
            f"({len(content_images)}); received {len(style_images)}."
        )
    num_steps = validate_int(num_steps, "num_steps")
    learning_rate = validate_float(
        learning_rate, "learning_rate", 0.0, exclusive_minimum=True
    )
    content_weight = validate_float(content_weight, "content_weight", 0.0)
    style_weight = validate_float(style_weight, "style_weight", 0.0)

    # 1. Targets: the content layer of the content images, the Gram
    #    matrices of the style images.
    content_target = feature_network(content_images)[-1]
    style_targets = [gram_matrix(f) for f in feature_network(style_images)]

    # 2. Pixels as logits, starting at the content images.
    start = np.clip(content_images, 0.02, 0.98)
    logits = keras.Variable(np.log(start / (1.0 - start)), name="pixels")
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build([logits])

    def loss(u):
        features = feature_network(ops.sigmoid(u))
        return content_weight * content_loss(
            features[-1], content_target
        ) + style_weight * gram_style_loss(features, style_targets)

    # 3. Adam steps; each image's loss depends on its own pixels only, so
    #    the gradient of the summed loss is every image's own.
    for _ in range(num_steps):
        gradient = backend.grad(loss, logits.value)
        optimizer.apply([gradient], [logits])
    return np.asarray(ops.convert_to_numpy(ops.sigmoid(logits.value)))
