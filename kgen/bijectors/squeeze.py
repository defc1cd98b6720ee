import keras
from keras import ops

from kgen.bijectors.bijector import Bijector


@keras.saving.register_keras_serializable(package="kgen")
class Squeeze(Bijector):
    """Space-to-depth: `(h, w, c) -> (h / 2, w / 2, 4 c)`, volume preserving.

    Trades resolution for channels between the scales of RealNVP and Glow,
    so channel couplings can mix neighbouring pixels.
    """

    def __init__(self, **kwargs):
        super().__init__(min_event_ndims=3, **kwargs)

    def build(self, input_shape):
        height, width = input_shape[-3], input_shape[-2]
        if height % 2 or width % 2:
            raise ValueError(
                "Squeeze needs an even height and width; received "
                f"{height}x{width}."
            )
        self.built = True

    def _forward_and_log_det(self, x):
        height, width, channels = x.shape[-3:]
        y = ops.reshape(x, (-1, height // 2, 2, width // 2, 2, channels))
        y = ops.transpose(y, (0, 1, 3, 2, 4, 5))
        return ops.reshape(y, (-1, height // 2, width // 2, 4 * channels)), 0.0

    def _inverse_and_log_det(self, y):
        height, width, channels = y.shape[-3:]
        x = ops.reshape(y, (-1, height, width, 2, 2, channels // 4))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, 2 * height, 2 * width, channels // 4)), 0.0

    def compute_output_shape(self, input_shape):
        *batch, height, width, channels = input_shape
        return tuple(batch) + (height // 2, width // 2, 4 * channels)
