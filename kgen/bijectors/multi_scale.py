import keras
import numpy as np
from keras import ops

from kgen.bijectors.bijector import Bijector
from kgen.bijectors.squeeze import Squeeze


@keras.saving.register_keras_serializable(package="kgen")
class MultiScale(Bijector):
    """RealNVP / Glow multi-scale architecture with factor-out.

    In the density direction (`inverse`, data -> latent), each level
    squeezes `(h, w, c) -> (h / 2, w / 2, 4 c)`, runs its flow, and
    factors out half of the channels straight to the latent; the rest go on
    to the next level. The latent is the flat concatenation of the
    factored-out parts and the last level's output (`D` values for `D`
    pixels), so deeper levels model coarser structure at lower cost
    (Dinh et al. 2017, section 3.6; Kingma & Dhariwal 2018, figure 2).

    ```
    inverse: x -> [z_1, z_2, ..., z_L]     log |det| = sum of the levels'
    forward: the reverse, images out       (squeeze and split add 0)
    ```

    Args:
        levels: list of image bijectors, one per level (e.g. `Chain`s of
            Glow steps); level `i` sees `4 c_i` channels after squeezing.

    References:
        1. Dinh et al. Density estimation using Real NVP. 2017.
           arXiv:1605.08803.
        2. Kingma & Dhariwal. Glow: Generative Flow with Invertible 1x1
           Convolutions. 2018. arXiv:1807.03039.
    """

    takes_training = True

    def __init__(self, levels, **kwargs):
        super().__init__(min_event_ndims=3, **kwargs)
        self.levels = list(levels)
        if not self.levels:
            raise ValueError("`levels` must hold at least one bijector.")
        self.squeeze = Squeeze()

    def build(self, input_shape):
        height, width, channels = input_shape[-3:]
        self.level_shapes, self.factored_shapes = [], []
        for index, level in enumerate(self.levels):
            if height % 2 or width % 2:
                raise ValueError(
                    f"MultiScale level {index} cannot squeeze a "
                    f"{height}x{width} image; use fewer levels."
                )
            height, width, channels = height // 2, width // 2, 4 * channels
            self.level_shapes.append((height, width, channels))
            if not level.built:
                level.build((None, height, width, channels))
            if index < len(self.levels) - 1:
                if channels % 2:
                    raise ValueError("Factor-out needs an even channel count.")
                channels //= 2
                self.factored_shapes.append((height, width, channels))
        self.event_size = int(np.prod(input_shape[-3:]))
        # Built from the data side: sampling first calls it from the latent
        # side, whose coarsest level may be odd (a 7x7 of a 28x28 image).
        if not self.squeeze.built:
            self.squeeze.build(input_shape)
        self.built = True

    def _inverse_and_log_det(self, x, training=None):
        parts, total, h = [], 0.0, x
        for index, level in enumerate(self.levels):
            h = self.squeeze.forward(h)
            h, log_det = level.inverse_and_log_det(h, 3, training=training)
            total = total + log_det
            if index < len(self.levels) - 1:
                factored, h = ops.split(h, 2, axis=-1)
                parts.append(ops.reshape(factored, (ops.shape(x)[0], -1)))
        parts.append(ops.reshape(h, (ops.shape(x)[0], -1)))
        return ops.concatenate(parts, axis=-1), total

    def _forward_and_log_det(self, z):
        sizes = [int(np.prod(s)) for s in self.factored_shapes]
        offsets = np.cumsum([0] + sizes)
        batch = ops.shape(z)[0]
        h = ops.reshape(z[:, offsets[-1] :], (batch,) + self.level_shapes[-1])
        total = 0.0
        for index in reversed(range(len(self.levels))):
            if index < len(self.levels) - 1:
                factored = ops.reshape(
                    z[:, offsets[index] : offsets[index + 1]],
                    (batch,) + self.factored_shapes[index],
                )
                h = ops.concatenate([factored, h], axis=-1)
            h, log_det = self.levels[index].forward_and_log_det(h, 3)
            total = total + log_det
            h = self.squeeze.inverse(h)
        return h, total

    def forward_and_log_det(self, x, event_ndims=None):
        # The latent side is flat (rank 2), the data side images (rank 4):
        # log-dets are per example either way.
        x = ops.convert_to_tensor(x)
        return self._forward_and_log_det(x)

    def inverse_and_log_det(self, y, event_ndims=None, training=None):
        y = ops.convert_to_tensor(y)
        self._maybe_build(y)
        return self._inverse_and_log_det(y, training=training)

    def initialize_from_data(self, y):
        parts, h = [], y
        for index, level in enumerate(self.levels):
            h = level.initialize_from_data(self.squeeze.forward(h))
            if index < len(self.levels) - 1:
                factored, h = ops.split(h, 2, axis=-1)
                parts.append(ops.reshape(factored, (ops.shape(y)[0], -1)))
        parts.append(ops.reshape(h, (ops.shape(y)[0], -1)))
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[-3:])))
