import keras
from keras import ops

from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class Bijector(RecordedConfig, keras.layers.Layer):
    """An invertible map `y = f(x)` with a tractable Jacobian determinant.

    TensorFlow Probability's interface in `keras.ops`, so a kgen bijector
    and a `tfp.bijectors.Bijector` are interchangeable where only these
    methods are used:

    ```
    forward(x) = y            inverse(y) = x
    forward_log_det_jacobian(x, event_ndims) = log |det df/dx|
    inverse_log_det_jacobian(y, event_ndims) = -forward_log_det_jacobian(x)
    ```

    The log-determinants are summed over the last `event_ndims` axes and
    have the remaining (batch) shape. A bijector with weights is a Keras
    layer (`call` is `forward`), so a `FlowModel` trains it with `fit`.

    Subclasses implement `_forward_and_log_det(x)` and
    `_inverse_and_log_det(y)`, each returning the value and the log-det
    summed over the bijector's own `min_event_ndims` axes. The inverse
    (data-to-latent, the training direction) takes Keras' `training`
    flag; a subclass that uses it (`BatchNormalization`) or passes it on
    (`Chain`, `MultiScale`) sets `takes_training = True` and accepts it in
    `_inverse_and_log_det(y, training)`.

    Args:
        min_event_ndims: int. Rank of one event the map mixes (0 for an
            elementwise map, 1 for vectors, 3 for images).
    """

    takes_training = False

    def __init__(self, min_event_ndims=1, **kwargs):
        # Log-determinants are float32 under a mixed policy: a bijector
        # computes in float32 and only its conditioner network in the
        # policy's dtype (kgen.utils.mixed_precision).
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.min_event_ndims = min_event_ndims

    # === Public TFP-style interface ===

    def forward(self, x):
        return self.forward_and_log_det(x)[0]

    def inverse(self, y, training=None):
        return self.inverse_and_log_det(y, training=training)[0]

    def forward_log_det_jacobian(self, x, event_ndims=None):
        return self.forward_and_log_det(x, event_ndims)[1]

    def inverse_log_det_jacobian(self, y, event_ndims=None, training=None):
        return self.inverse_and_log_det(y, event_ndims, training)[1]

    def forward_and_log_det(self, x, event_ndims=None):
        """`(f(x), log |det df/dx|)` in one pass."""
        x = ops.convert_to_tensor(x)
        self._maybe_build(x)
        y, log_det = self._forward_and_log_det(x)
        return y, self._reduce(log_det, x, event_ndims)

    def inverse_and_log_det(self, y, event_ndims=None, training=None):
        """`(f^-1(y), log |det df^-1/dy|)` in one pass.

        `training=True` (a `FlowModel` in `fit`) lets layers normalise by
        the batch and move their statistics; `None` means inference."""
        y = ops.convert_to_tensor(y)
        self._maybe_build(y)
        if self.takes_training:
            x, log_det = self._inverse_and_log_det(y, training=training)
        else:
            x, log_det = self._inverse_and_log_det(y)
        return x, self._reduce(log_det, y, event_ndims)

    def call(self, x):
        return self.forward(x)

    def to_tfp(self):
        """This bijector as a `tfp.bijectors.Bijector` (TensorFlow backend),
        e.g. inside `tfp.distributions.TransformedDistribution`; the weights
        stay this layer's. Needs kgen's `tfp` extra (`pip install
        kgen[tfp]`)."""
        from kgen.backend.tfp_bijector import to_tfp

        return to_tfp(self)

    def initialize_from_data(self, y):
        """Data-dependent initialisation from a batch on the data side;
        returns `inverse(y)` so a container can pass it on. Only layers
        such as `ActNorm` change anything."""
        return self.inverse(y)

    # === Subclass interface ===

    def _forward_and_log_det(self, x):
        raise NotImplementedError

    def _inverse_and_log_det(self, y):
        raise NotImplementedError

    # === Helpers ===

    def _maybe_build(self, x):
        if not self.built:
            self.build(tuple(x.shape))

    def _reduce(self, log_det, x, event_ndims):
        """Sums a log-det over `event_ndims - min_event_ndims` more axes."""
        if event_ndims is None:
            event_ndims = self.min_event_ndims
        if event_ndims < self.min_event_ndims:
            raise ValueError(
                f"`event_ndims` must be >= {self.min_event_ndims} for "
                f"{type(self).__name__}; received {event_ndims}."
            )
        rank = len(x.shape)
        batch_rank = rank - self.min_event_ndims
        log_det = ops.convert_to_tensor(log_det, x.dtype)
        # A constant log-det (permutations, squeezes) broadcasts first.
        log_det = log_det + ops.zeros(ops.shape(x)[:batch_rank], x.dtype)
        extra = event_ndims - self.min_event_ndims
        if extra:
            axes = tuple(range(batch_rank - extra, batch_rank))
            log_det = ops.sum(log_det, axis=axes)
        return log_det

    def compute_output_shape(self, input_shape):
        return input_shape
