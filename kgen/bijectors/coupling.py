import keras
import numpy as np
from keras import layers
from keras import ops

from kgen.bijectors.bijector import Bijector
from kgen.utils.mixed_precision import to_float32

MASKS = ("half", "checkerboard", "channel")


@keras.saving.register_keras_serializable(package="kgen")
class Coupling(Bijector):
    """Base of the coupling layers: a mask and a conditioner network.

    With a binary mask `b` (1: passed through and conditioned on, 0:
    transformed), the transformed part goes through an invertible map
    whose parameters a conditioner network `NN` computes from the kept
    part `b * x`. The kept part is unchanged, so the inverse sees the
    same conditioner input, and the Jacobian is triangular:
    `log |det dy/dx|` sums the map's log-derivatives over the transformed
    part. The conditioner's last layer starts at zero, so a subclass
    whose map is the identity at zero parameters starts as the identity.

    Masks: `"half"` keeps the first half of a vector's features (the
    second with `reverse=True`); for images, `"checkerboard"` keeps
    alternating pixels and `"channel"` the first half of the channels.
    A subclass sets `conditioner_units(event_shape)` (outputs per
    position) and implements the two directions with `conditioner_outputs(x)`.

    Args:
        mask: str. `"half"` (vectors), `"checkerboard"` or `"channel"`
            (images, `(height, width, channels)`).
        reverse: bool. Swap the kept and transformed parts.
        hidden_dim: int. Width (units or filters) of the conditioner.
        num_layers: int. Hidden layers of the conditioner.
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
            coupling_mask(self.mask, event_shape, self.reverse), "float32"
        )
        self.conditioner = conditioner_layers(
            self.mask,
            event_shape,
            self.hidden_dim,
            self.num_layers,
            self.conditioner_units(event_shape),
        )
        self.built = True

    def conditioner_units(self, event_shape):
        raise NotImplementedError

    def conditioner_outputs(self, x):
        """The conditioner network's output on the kept part of `x`."""
        h = self.mask_values * x
        for layer in self.conditioner:
            h = layer(h)
        return to_float32(h)

    def sum_event(self, values):
        axes = tuple(range(-self.min_event_ndims, 0))
        return ops.sum(values, axis=axes)


def coupling_mask(mask, event_shape, reverse=False):
    """A coupling's binary mask over one event: 1 kept, 0 transformed."""
    if mask == "half":
        features = event_shape[-1]
        if features % 2:
            raise ValueError(
                "A half-split coupling needs an even number of features; "
                f"received {features}. Pad the data or use a "
                "MaskedAutoregressive bijector."
            )
        values = np.zeros(features)
        values[: features // 2] = 1.0
    elif mask == "checkerboard":
        height, width, channels = event_shape
        rows, columns = np.indices((height, width))
        values = ((rows + columns) % 2 == 0).astype("float64")
        values = np.repeat(values[..., None], channels, axis=-1)
    else:
        height, width, channels = event_shape
        if channels % 2:
            raise ValueError(
                "A channel coupling needs an even number of channels; "
                f"received {channels}. Squeeze the images first."
            )
        values = np.zeros(event_shape)
        values[..., : channels // 2] = 1.0
    return 1.0 - values if reverse else values


def conditioner_layers(mask, event_shape, hidden_dim, num_layers, units):
    """A coupling's conditioner network as built layers; the last starts
    at zero, so the coupling starts as the identity.

    A list, not a Sequential: Dense layers then accept any number of
    leading batch axes."""
    if mask == "half":
        hidden = [
            layers.Dense(hidden_dim, activation="relu")
            for _ in range(num_layers)
        ]
        output = layers.Dense(units, kernel_initializer="zeros")
    else:
        hidden = [
            layers.Conv2D(hidden_dim, 3, padding="same", activation="relu")
            for _ in range(num_layers)
        ]
        output = layers.Conv2D(
            units, 3, padding="same", kernel_initializer="zeros"
        )
    conditioner = hidden + [output]
    shape = (None,) + tuple(event_shape)
    for layer in conditioner:
        layer.build(shape)
        shape = layer.compute_output_shape(shape)
    return conditioner
