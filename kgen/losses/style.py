"""Style and content losses on feature maps (Gatys et al.; AdaIN).

Notation: `F` is a `(batch, height, width, channels)` feature map of one
layer, `N = height * width`. Every loss is per example, shape `(batch,)`,
averaged over the listed layers' terms, and minimised.
"""

from keras import ops


def gram_matrix(features):
    """`G = F^T F / N`: channel co-activations, `(batch, C, C)`.

    Position-free second moments of a layer: what Gatys et al. call a
    texture's style (eq. 3).
    """
    features = ops.convert_to_tensor(features, "float32")
    shape = ops.shape(features)
    flat = ops.reshape(features, (shape[0], -1, shape[-1]))
    count = ops.cast(ops.shape(flat)[1], "float32")
    return ops.matmul(ops.transpose(flat, (0, 2, 1)), flat) / count


def gram_style_loss(features, style_features):
    """`mean_l mean_ij (G_l(F)_ij - G_l(S)_ij) ** 2` over the layers.

    Args:
        features: list of feature maps of the images being styled.
        style_features: list of the style images' maps, layer by layer
            (Gram matrices may be given instead: `(batch, C, C)`).
    """
    losses = []
    for layer, style in zip(features, style_features):
        target = style if len(ops.shape(style)) == 3 else gram_matrix(style)
        losses.append(
            ops.mean(ops.square(gram_matrix(layer) - target), axis=(1, 2))
        )
    return ops.mean(ops.stack(losses, axis=0), axis=0)


def moment_style_loss(features, style_features, epsilon=1e-5):
    """`mean_l (|mu_l(F) - mu_l(S)|**2 + |sigma_l(F) - sigma_l(S)|**2)`,
    per-channel spatial means and standard deviations matched layer by
    layer (Huang & Belongie 2017, eq. 13: what AdaIN transfers)."""
    losses = []
    for layer, style in zip(features, style_features):
        mean, std = channel_moments(layer, epsilon)
        style_mean, style_std = channel_moments(style, epsilon)
        losses.append(
            ops.mean(ops.square(mean - style_mean), axis=-1)
            + ops.mean(ops.square(std - style_std), axis=-1)
        )
    return ops.mean(ops.stack(losses, axis=0), axis=0)


def content_loss(features, content_features):
    """`mean (F - P) ** 2` of one layer per example (Gatys et al., eq. 1,
    averaged rather than summed)."""
    features = ops.convert_to_tensor(features, "float32")
    axes = tuple(range(1, len(ops.shape(features))))
    return ops.mean(ops.square(features - content_features), axis=axes)


def channel_moments(features, epsilon=1e-5):
    """`(mean, std)` over the spatial axes, each `(batch, channels)`."""
    features = ops.convert_to_tensor(features, "float32")
    mean = ops.mean(features, axis=(1, 2))
    variance = ops.var(features, axis=(1, 2))
    return mean, ops.sqrt(variance + epsilon)
