import keras
import numpy as np
from keras import ops

from kgen.bijectors.bijector import Bijector


@keras.saving.register_keras_serializable(package="kgen")
class Permute(Bijector):
    """Reorders the last axis: `y[..., i] = x[..., permutation[i]]`.

    Volume preserving (`log |det| = 0`); between couplings it lets every
    coordinate be transformed.

    Args:
        permutation: list of ints, a permutation of `range(d)`.
    """

    def __init__(self, permutation, **kwargs):
        super().__init__(min_event_ndims=1, **kwargs)
        permutation = [int(i) for i in permutation]
        if sorted(permutation) != list(range(len(permutation))):
            raise ValueError(
                "`permutation` must be a permutation of range(d); received "
                f"{permutation}."
            )
        self.permutation = permutation

    def build(self, input_shape):
        if input_shape[-1] != len(self.permutation):
            raise ValueError(
                f"Permute of {len(self.permutation)} features got inputs "
                f"with {input_shape[-1]} on the last axis."
            )
        self.built = True

    def _forward_and_log_det(self, x):
        return ops.take(x, self.permutation, axis=-1), 0.0

    def _inverse_and_log_det(self, y):
        inverse = np.argsort(self.permutation).tolist()
        return ops.take(y, inverse, axis=-1), 0.0
