import keras

from kgen.bijectors.bijector import Bijector


@keras.saving.register_keras_serializable(package="kgen")
class Chain(Bijector):
    """Composition `Chain([f, g])(x) = f(g(x))`, in TFP's order.

    ```
    log |det d(f o g)/dx| = log |det dg/dx| + log |det df/dg(x)|
    ```

    Args:
        bijectors: list of bijectors, applied last to first in `forward`.
    """

    takes_training = True

    def __init__(self, bijectors, **kwargs):
        bijectors = list(bijectors)
        if not bijectors:
            raise ValueError("`bijectors` must hold at least one bijector.")
        super().__init__(
            min_event_ndims=max(b.min_event_ndims for b in bijectors),
            **kwargs,
        )
        self.bijectors = bijectors

    def build(self, input_shape):
        shape = tuple(input_shape)
        for bijector in reversed(self.bijectors):
            if not bijector.built:
                bijector.build(shape)
            shape = tuple(bijector.compute_output_shape(shape))
        self.built = True

    def _forward_and_log_det(self, x):
        total = 0.0
        for bijector in reversed(self.bijectors):
            x, log_det = bijector.forward_and_log_det(x, self.min_event_ndims)
            total = total + log_det
        return x, total

    def _inverse_and_log_det(self, y, training=None):
        total = 0.0
        for bijector in self.bijectors:
            y, log_det = bijector.inverse_and_log_det(
                y, self.min_event_ndims, training=training
            )
            total = total + log_det
        return y, total

    def initialize_from_data(self, y):
        for bijector in self.bijectors:
            y = bijector.initialize_from_data(y)
        return y

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for bijector in reversed(self.bijectors):
            shape = tuple(bijector.compute_output_shape(shape))
        return shape
