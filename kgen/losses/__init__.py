"""Losses as pure functions of logits and samples."""

from kgen.losses.adversarial import non_saturating_discriminator_loss
from kgen.losses.adversarial import non_saturating_generator_loss

__all__ = [
    "non_saturating_discriminator_loss",
    "non_saturating_generator_loss",
]
