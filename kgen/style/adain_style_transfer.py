"""Arbitrary style transfer in one pass (Huang & Belongie 2017)."""

import keras
import numpy as np
from keras import ops

from kgen.losses.style import channel_moments
from kgen.losses.style import content_loss
from kgen.losses.style import moment_style_loss
from kgen.utils.argument_validation import validate_float
from kgen.utils.data_validation import validate_array
from kgen.utils.recorded_config import RecordedConfig


def adaptive_instance_normalization(content_features, style_features):
    """`AdaIN(x, y) = sigma(y) (x - mu(x)) / sigma(x) + mu(y)`: the content
    features with the style features' per-channel spatial moments
    (Huang & Belongie 2017, eq. 8). Unlike
    `kgen.layers.AdaptiveInstanceNormalization` (StyleGAN's, whose moments
    come from a learned map of a style vector), the moments here are the
    style image's own."""
    content_features = ops.convert_to_tensor(content_features, "float32")
    mean, std = channel_moments(content_features)
    style_mean, style_std = channel_moments(style_features)
    normalized = (content_features - mean[:, None, None, :]) / std[
        :, None, None, :
    ]
    return (
        normalized * style_std[:, None, None, :] + style_mean[:, None, None, :]
    )


@keras.saving.register_keras_serializable(package="kgen")
class AdaINStyleTransfer(RecordedConfig, keras.Model):
    """Style transfer by adaptive instance normalization: one forward pass
    for any content and style image, trained once by `fit`.

    A frozen encoder maps both images to feature maps; the content's
    deepest map takes the style's per-channel means and standard
    deviations (`adaptive_instance_normalization`, target `t`), and a
    trained decoder `g` turns `t` back into an image. Loss (eq. 11-13):

    ```
    L = |f(g(t)) - t|**2 + style_weight * mean_l (
            |mu(f_l(g(t))) - mu(f_l(s))|**2
            + |sigma(f_l(g(t))) - sigma(f_l(s))|**2 )
    ```

    Args:
        encoder: frozen `keras.Model`, images in [0, 1] -> list of
            feature maps, shallow to deep
            (`kgen.style.inception_feature_network`).
        decoder: `keras.Model`, the deepest feature map -> images in
            [0, 1] (`kgen.networks.style_decoder`).
        style_weight: float >= 0 (lambda in the paper).

    Example:

    ```python
    encoder = kgen.style.inception_feature_network((28, 28, 1))
    decoder = kgen.networks.style_decoder(
        encoder.output[-1].shape[1:], (28, 28, 1)
    )
    model = kgen.style.AdaINStyleTransfer(encoder, decoder)
    model.compile(optimizer="adam")
    model.fit({"content": digits, "style": textures}, batch_size=16)
    styled = model.stylize(digits[:8], textures[:8])
    ```

    References:
        [1] Huang & Belongie. Arbitrary Style Transfer in Real-time with
            Adaptive Instance Normalization. ICCV 2017. arXiv:1703.06868.
    """

    def __init__(self, encoder, decoder, style_weight=10.0, **kwargs):
        super().__init__(**kwargs)
        # === Layers ===
        self.encoder = encoder
        self.encoder.trainable = False
        self.decoder = decoder
        # === Config ===
        self.style_weight = validate_float(style_weight, "style_weight", 0.0)
        self.image_shape = tuple(encoder.input_shape[1:])
        self.content_tracker = keras.metrics.Mean(name="content_loss")
        self.style_tracker = keras.metrics.Mean(name="style_loss")

    @property
    def metrics(self):
        return super().metrics + [self.content_tracker, self.style_tracker]

    def _targets(self, content, style, alpha=1.0):
        style_features = self.encoder(style)
        content_features = self.encoder(content)[-1]
        target = adaptive_instance_normalization(
            content_features, style_features[-1]
        )
        # alpha < 1 trades style for content (eq. 14).
        target = alpha * target + (1.0 - alpha) * content_features
        return target, style_features

    def call(self, inputs, training=False):
        target, _ = self._targets(inputs["content"], inputs["style"])
        return self.decoder(target, training=training)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        target, style_features = self._targets(x["content"], x["style"])
        images = self.decoder(target, training=training)
        features = self.encoder(images)
        content = content_loss(features[-1], target)
        style = moment_style_loss(features, style_features)
        self.content_tracker.update_state(content)
        self.style_tracker.update_state(style)
        return ops.mean(content + self.style_weight * style)

    def stylize(self, content_images, style_images, alpha=1.0, batch_size=64):
        """The content images in the style images' styles.

        Args:
            content_images: array `(batch, *image_shape)` in [0, 1].
            style_images: as many style images, or one for all.
            alpha: float in [0, 1]: 1 full style, 0 the content's own
                features decoded.
            batch_size: int.

        Returns:
            float32 NumPy images in [0, 1].
        """
        content = np.asarray(ops.convert_to_numpy(content_images), "float32")
        style = np.asarray(ops.convert_to_numpy(style_images), "float32")
        validate_array(content, self.image_shape, "content_images", (0, 1))
        validate_array(style, self.image_shape, "style_images", (0, 1))
        if len(style) not in (1, len(content)):
            raise ValueError(
                "`style_images` must hold one image or one per content "
                f"image ({len(content)}); received {len(style)}."
            )
        alpha = validate_float(alpha, "alpha", 0.0, 1.0)
        if len(style) == 1:
            style = np.repeat(style, len(content), axis=0)
        outputs = []
        for start in range(0, len(content), batch_size):
            target, _ = self._targets(
                content[start : start + batch_size],
                style[start : start + batch_size],
                alpha,
            )
            outputs.append(ops.convert_to_numpy(self.decoder(target)))
        return np.concatenate(outputs)
