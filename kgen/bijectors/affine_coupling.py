import keras
import numpy as np
from keras import layers
from keras import ops

from kgen.bijectors.bijector import Bijector

MASKS = ("half", "checkerboard", "channel")


@keras.saving.register_keras_serializable(package="kgen")
class AffineCoupling(Bijector):
    """RealNVP's affine coupling layer.

    With a binary mask `b` (1: passed through and conditioned on, 0:
    transformed) and a conditioner network `NN` of the kept part:

    ```
    shift, raw = NN(b * x)
    log_scale = (1 - b) * scale_factor * tanh(raw)
    y = b * x + (1 - b) * (x * exp(log_scale) + shift)
    log |det dy/dx| = sum(log_scale)
    ```

    The `tanh` bound on the log-scale (with a learned per-feature
    `scale_factor`) keeps early training stable (Dinh et al. 2017,
    section 4.1). The conditioner's last layer starts at zero, so the
    layer starts as the identity.

    Masks: `"half"` keeps the first half of a vector's features (the second
    with `reverse=True`); for images, `"checkerboard"` keeps alternating
    pixels and `"channel"` the first half of the channels.

    Args:
        mask: str. `"half"` (vectors), `"checkerboard"` or `"channel"`
            (images, `(height, width, channels)`).
        reverse: bool. Swap the kept and transformed parts.
        hidden_dim: int. Width (units or filters) of the conditioner.
        num_layers: int. Hidden layers of the conditioner.

    References:
        1. Dinh et al. Density estimation using Real NVP. 2017.
           arXiv:1605.08803.
    """

    def __init__(
        self, mask="half", reverse=False, hidden_dim=64, num_layers=2, **kwargs
    ):
        if mask not in MASKS:
            raise ValueError(
                f"`mask` must be one of {MASKS}; received {mask!r}."
            )
        super().__init__(min_event_ndims=1 if mask == "half" else 3, **kwargs)
        self.mask = mask
        self.reverse = reverse
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers

    def build(self, input_shape):
        event_shape = tuple(input_shape[-self.min_event_ndims :])
        self.mask_values = ops.convert_to_tensor(
            self._make_mask(event_shape), "float32"
        )
        if self.mask == "half":
            hidden = [
                layers.Dense(self.hidden_dim, activation="relu")
                for _ in range(self.num_layers)
            ]
            output = layers.Dense(
                2 * event_shape[-1], kernel_initializer="zeros"
            )
        else:
            hidden = [
                layers.Conv2D(
                    self.hidden_dim, 3, padding="same", activation="relu"
                )
                for _ in range(self.num_layers)
            ]
            output = layers.Conv2D(
                2 * event_shape[-1],
                3,
                padding="same",
                kernel_initializer="zeros",
            )
        # A list, not a Sequential: Dense layers then accept any number of
        # leading batch axes.
        self.conditioner = hidden + [output]
        shape = (None,) + event_shape
        for layer in self.conditioner:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.scale_factor = self.add_weight(
            shape=(event_shape[-1],), initializer="ones", name="scale_factor"
        )
        self.built = True

    def _make_mask(self, event_shape):
        if self.mask == "half":
            features = event_shape[-1]
            if features % 2:
                raise ValueError(
                    "A half-split coupling needs an even number of features; "
                    f"received {features}. Pad the data or use a "
                    "MaskedAutoregressive bijector."
                )
            mask = np.zeros(features)
            mask[: features // 2] = 1.0
        elif self.mask == "checkerboard":
            height, width, channels = event_shape
            rows, columns = np.indices((height, width))
            mask = ((rows + columns) % 2 == 0).astype("float64")
            mask = np.repeat(mask[..., None], channels, axis=-1)
        else:
            height, width, channels = event_shape
            if channels % 2:
                raise ValueError(
                    "A channel coupling needs an even number of channels; "
                    f"received {channels}. Squeeze the images first."
                )
            mask = np.zeros(event_shape)
            mask[..., : channels // 2] = 1.0
        return 1.0 - mask if self.reverse else mask

    def shift_and_log_scale(self, x):
        """`(shift, log_scale)` computed from the kept part of `x`."""
        kept = self.mask_values * x
        h = kept
        for layer in self.conditioner:
            h = layer(h)
        shift, raw = ops.split(h, 2, axis=-1)
        transformed = 1.0 - self.mask_values
        log_scale = transformed * self.scale_factor * ops.tanh(raw)
        return transformed * shift, log_scale

    def _sum_event(self, values):
        axes = tuple(range(-self.min_event_ndims, 0))
        return ops.sum(values, axis=axes)

    def _forward_and_log_det(self, x):
        shift, log_scale = self.shift_and_log_scale(x)
        y = x * ops.exp(log_scale) + shift
        return y, self._sum_event(log_scale)

    def _inverse_and_log_det(self, y):
        # The kept part is unchanged, so the conditioner sees the same input.
        shift, log_scale = self.shift_and_log_scale(y)
        x = (y - shift) * ops.exp(-log_scale)
        return x, -self._sum_event(log_scale)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mask": self.mask,
                "reverse": self.reverse,
                "hidden_dim": self.hidden_dim,
                "num_layers": self.num_layers,
            }
        )
        return config
