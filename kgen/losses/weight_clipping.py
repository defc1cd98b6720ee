import keras
from keras import ops

from kgen.utils.argument_validation import validate_float
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class WeightClipping(RecordedConfig, keras.constraints.Constraint):
    """Clips every weight to `[-clip_value, clip_value]` after each update.

    The original WGAN's crude way to keep the critic K-Lipschitz (Arjovsky
    et al., 2017, Algorithm 1); Keras' optimizers apply constraints right
    after the gradient step.

    Args:
        clip_value: float > 0 (the paper's c = 0.01).
    """

    def __init__(self, clip_value=0.01):
        self.clip_value = validate_float(
            clip_value, "clip_value", minimum=0.0, exclusive_minimum=True
        )

    def __call__(self, weights):
        return ops.clip(weights, -self.clip_value, self.clip_value)
