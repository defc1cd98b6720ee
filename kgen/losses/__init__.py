"""Losses: adversarial objectives and penalties, style and content losses
on feature maps, and perceptual image distances, as functions and
classes."""

from kgen.losses.adversarial import gradient_penalty
from kgen.losses.adversarial import hinge_discriminator_loss
from kgen.losses.adversarial import hinge_generator_loss
from kgen.losses.adversarial import least_squares_discriminator_loss
from kgen.losses.adversarial import least_squares_generator_loss
from kgen.losses.adversarial import minimax_discriminator_loss
from kgen.losses.adversarial import minimax_generator_loss
from kgen.losses.adversarial import non_saturating_generator_loss
from kgen.losses.adversarial import r1_penalty
from kgen.losses.adversarial import wasserstein_discriminator_loss
from kgen.losses.adversarial import wasserstein_generator_loss
from kgen.losses.adversarial_loss import AdversarialLoss
from kgen.losses.perceptual import watson_dct_loss
from kgen.losses.style import channel_moments
from kgen.losses.style import content_loss
from kgen.losses.style import gram_matrix
from kgen.losses.style import gram_style_loss
from kgen.losses.style import moment_style_loss
from kgen.losses.weight_clipping import WeightClipping

__all__ = [
    "AdversarialLoss",
    "WeightClipping",
    "channel_moments",
    "content_loss",
    "gram_matrix",
    "gram_style_loss",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "moment_style_loss",
    "non_saturating_generator_loss",
    "r1_penalty",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "watson_dct_loss",
]
