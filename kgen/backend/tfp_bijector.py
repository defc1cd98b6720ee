"""A kgen bijector as a `tfp.bijectors.Bijector` (TensorFlow backend only).

TFP's bijectors are TensorFlow objects, so the adapter exists only where
Keras runs on TensorFlow; `kgen.bijectors.Bijector.to_tfp` explains this on
other backends.
"""

import keras


def to_tfp(bijector):
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "A TFP adapter needs the TensorFlow backend (TFP's bijectors "
            "are TensorFlow objects); run with KERAS_BACKEND=tensorflow. "
            "On other backends use the kgen bijector directly: it has the "
            "same method names."
        )
    try:
        import tensorflow_probability as tfp
    except ImportError:
        raise ImportError(
            "`to_tfp()` needs TensorFlow Probability, an extra of kgen: "
            "`pip install kgen[tfp]`."
        ) from None

    class KgenBijector(tfp.bijectors.Bijector):
        def __init__(self):
            super().__init__(
                forward_min_event_ndims=bijector.min_event_ndims,
                name=f"kgen_{bijector.name}",
            )

        def _forward(self, x):
            return bijector.forward(x)

        def _inverse(self, y):
            return bijector.inverse(y)

        def _forward_log_det_jacobian(self, x):
            return bijector.forward_log_det_jacobian(
                x, bijector.min_event_ndims
            )

        def _inverse_log_det_jacobian(self, y):
            return bijector.inverse_log_det_jacobian(
                y, bijector.min_event_ndims
            )

    return KgenBijector()
