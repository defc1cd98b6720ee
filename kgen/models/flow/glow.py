import keras
import numpy as np

from kgen import bijectors
from kgen.distributions import Independent
from kgen.distributions import Normal
from kgen.models.flow.flow_model import FlowModel


@keras.saving.register_keras_serializable(package="kgen")
class Glow(FlowModel):
    """Glow: multi-scale flow of ActNorm, invertible 1x1 convolution and
    affine coupling steps, with factor-out between levels.

    Each of `num_levels` levels squeezes the image, applies `num_steps`
    steps `[ActNorm, InvertibleConv1x1, AffineCoupling("channel")]`
    (density direction) and factors half of the channels out to the
    latent (`kgen.bijectors.MultiScale`); the latent is `N(0, I)`.

    Args:
        event_shape: `(height, width, channels)`, divisible by
            `2 ** num_levels`.
        num_levels: int. Scales.
        num_steps: int. Flow steps per level.
        hidden_dim: int. Coupling conditioner filters.
        num_bins: int or `None`. Dequantisation levels, see `FlowModel`.
        seed: int or `None`.

    References:
        1. Kingma & Dhariwal. Glow: Generative Flow with Invertible 1x1
           Convolutions. 2018. arXiv:1807.03039.
    """

    def __init__(
        self,
        event_shape,
        num_levels=2,
        num_steps=4,
        hidden_dim=64,
        num_bins=256,
        seed=None,
        **kwargs,
    ):
        event_shape = tuple(event_shape)
        if len(event_shape) != 3:
            raise ValueError(
                "Glow models images; `event_shape` must be (height, width, "
                f"channels), received {event_shape}."
            )
        levels = []
        for level in range(num_levels):
            steps = []
            for step in range(num_steps):
                steps += [
                    bijectors.ActNorm(event_ndims=3),
                    bijectors.InvertibleConv1x1(seed=100 * level + step),
                    bijectors.AffineCoupling(
                        "channel",
                        reverse=bool(step % 2),
                        hidden_dim=hidden_dim,
                        num_layers=2,
                    ),
                ]
            levels.append(bijectors.Chain(steps))
        size = int(np.prod(event_shape))
        base = Independent(Normal(np.zeros(size, "float32"), 1.0), 1)
        super().__init__(
            bijectors.MultiScale(levels),
            event_shape,
            base_distribution=base,
            num_bins=num_bins,
            seed=seed,
            **kwargs,
        )
        self.num_levels = num_levels
        self.num_steps = num_steps
        self.hidden_dim = hidden_dim

    @property
    def latent_shape(self):
        return (int(np.prod(self.event_shape)),)
