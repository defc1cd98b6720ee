import functools

import keras

from kgen import bijectors
from kgen.models.flow.flow_model import FlowModel


@keras.saving.register_keras_serializable(package="kgen")
class RealNVP(FlowModel):
    """RealNVP: a stack of affine couplings with alternating masks.

    Vectors (`event_shape=(d,)`, `d` even): half-split couplings with a
    reversal permutation after each, so the halves alternate and every
    feature is transformed (Dinh et al. 2017; TFP's RealNVP + Permute).
    Images: alternating checkerboard couplings, an `ActNorm` after each.

    Args:
        event_shape: tuple. `(d,)` or `(height, width, channels)`.
        num_couplings: int. Coupling layers.
        hidden_dim: int. Conditioner width.
        num_layers: int. Conditioner hidden layers.
        num_bins: int or `None`. Dequantisation levels, see `FlowModel`.
        seed: int or `None`.

    References:
        1. Dinh et al. Density estimation using Real NVP. 2017.
           arXiv:1605.08803.
    """

    def __init__(
        self,
        event_shape,
        num_couplings=6,
        hidden_dim=64,
        num_layers=2,
        num_bins=None,
        seed=None,
        **kwargs,
    ):
        event_shape = tuple(event_shape)
        coupling = functools.partial(
            bijectors.AffineCoupling,
            hidden_dim=hidden_dim,
            num_layers=num_layers,
        )
        super().__init__(
            coupling_stack(event_shape, num_couplings, coupling),
            event_shape,
            num_bins=num_bins,
            seed=seed,
            **kwargs,
        )
        self.num_couplings = num_couplings
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers


def coupling_stack(event_shape, num_couplings, make_coupling):
    """RealNVP's layout with any coupling: `make_coupling(mask,
    reverse=...)`.

    Vectors: half-split couplings, each followed by a reversal, so the
    halves alternate. Images: checkerboard couplings of alternating
    parity, each followed by an `ActNorm`. Returns the `Chain`, data =
    forward(latent)."""
    layers = []
    for index in range(num_couplings):
        if len(event_shape) == 1:
            # The reversal after each coupling alternates the halves;
            # alternating `reverse` as well would undo it and leave one
            # half never transformed.
            layers.append(make_coupling("half", reverse=False))
            layers.append(bijectors.Permute(list(range(event_shape[0]))[::-1]))
        else:
            layers.append(
                make_coupling("checkerboard", reverse=bool(index % 2))
            )
            layers.append(bijectors.ActNorm(event_ndims=3))
    return bijectors.Chain(layers[::-1])
