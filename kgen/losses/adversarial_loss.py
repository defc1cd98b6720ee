import keras
from keras import ops

from kgen.losses import adversarial
from kgen.utils.recorded_config import RecordedConfig

OBJECTIVES = {
    "minimax": (
        adversarial.minimax_discriminator_loss,
        adversarial.minimax_generator_loss,
    ),
    "non_saturating": (
        adversarial.minimax_discriminator_loss,
        adversarial.non_saturating_generator_loss,
    ),
    "wasserstein": (
        adversarial.wasserstein_discriminator_loss,
        adversarial.wasserstein_generator_loss,
    ),
    "hinge": (
        adversarial.hinge_discriminator_loss,
        adversarial.hinge_generator_loss,
    ),
    "least_squares": (
        adversarial.least_squares_discriminator_loss,
        adversarial.least_squares_generator_loss,
    ),
}

# Objectives whose discriminator output is a logit of "real".
_LOGIT_OBJECTIVES = ("minimax", "non_saturating")


@keras.saving.register_keras_serializable(package="kgen")
class AdversarialLoss(RecordedConfig):
    """A GAN objective: the pair of discriminator and generator losses.

    Args:
        objective: `"minimax"`, `"non_saturating"`, `"wasserstein"`,
            `"hinge"` or `"least_squares"` (see `kgen.losses.adversarial`).

    Any object with `discriminator_loss(real, fake)` and
    `generator_loss(fake)` can replace it in `kgen.models.GAN(loss=...)`.
    """

    def __init__(self, objective="non_saturating"):
        if objective not in OBJECTIVES:
            raise ValueError(
                f"`objective` must be one of {sorted(OBJECTIVES)}; received "
                f"{objective!r}."
            )
        self.objective = objective
        self._discriminator_loss, self._generator_loss = OBJECTIVES[objective]

    def discriminator_loss(self, real_outputs, fake_outputs):
        return self._discriminator_loss(real_outputs, fake_outputs)

    def generator_loss(self, fake_outputs):
        return self._generator_loss(fake_outputs)

    def score(self, outputs):
        """What the discriminator says of a batch, for logging: the mean
        probability of "real" for logit objectives, the mean raw score
        otherwise."""
        if self.objective in _LOGIT_OBJECTIVES:
            return ops.mean(ops.sigmoid(outputs))
        return ops.mean(outputs)


def get(identifier):
    """An `AdversarialLoss` from a name, or the object itself."""
    if isinstance(identifier, str):
        return AdversarialLoss(identifier)
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    for method in ("discriminator_loss", "generator_loss"):
        if not callable(getattr(identifier, method, None)):
            raise ValueError(
                "`loss` must be an objective name or an object with "
                f"`discriminator_loss` and `generator_loss`; {identifier!r} "
                f"has no `{method}`."
            )
    return identifier
