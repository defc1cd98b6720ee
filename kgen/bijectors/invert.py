import keras

from kgen.bijectors.bijector import Bijector


@keras.saving.register_keras_serializable(package="kgen")
class Invert(Bijector):
    """Swaps a bijector's directions: `Invert(b).forward = b.inverse`.

    `Invert(MaskedAutoregressive(...))` is an inverse autoregressive flow
    (IAF): one-pass sampling, sequential density.

    Args:
        bijector: the bijector to invert.
    """

    def __init__(self, bijector, **kwargs):
        super().__init__(min_event_ndims=bijector.min_event_ndims, **kwargs)
        self.bijector = bijector

    def build(self, input_shape):
        if not self.bijector.built:
            self.bijector.build(tuple(input_shape))
        self.built = True

    def _forward_and_log_det(self, x):
        return self.bijector.inverse_and_log_det(x)

    def _inverse_and_log_det(self, y):
        return self.bijector.forward_and_log_det(y)
