import math

import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen import bijectors
from kgen.distributions import Distribution
from kgen.distributions import Independent
from kgen.distributions import Normal
from kgen.models import public_inputs
from kgen.models.generative_model import GenerativeModel
from kgen.utils import batch_random
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.argument_validation import validate_shape


@keras.saving.register_keras_serializable(package="kgen")
class FlowModel(GenerativeModel):
    """A normalizing flow `x = f(z)`, `z ~ p_z`, trained by exact likelihood.

    ```
    log p(x) = log p_z(f^-1(x)) + log |det df^-1/dx|
    loss = -E_x log p(x)
    ```

    with `f` any bijector (`kgen.bijectors` or, on the TensorFlow backend,
    a `tfp.bijectors.Bijector` for evaluation) and `p_z` a standard normal
    on the event shape unless `base_distribution` is given. `sample(n,
    temperature)` draws `f(T z)`; `encode` / `decode` are `f^-1` / `f`.

    For discrete data (8-bit images scaled to `[0, 1]`), `num_bins=256`
    trains on uniformly dequantised values `(x (num_bins - 1) + u) /
    num_bins`, `u ~ U[0, 1)`, whose likelihood bounds the discrete one:
    `bits_per_dim` reports that bound (Theis et al. 2016). Glow's `ActNorm`
    layers are initialised from the first training batch.

    Args:
        bijector: the flow `f` (data = forward(base sample)).
        event_shape: tuple. Shape of one example.
        base_distribution: distribution with `log_prob` / `sample` over
            `event_shape`, or `None` for `N(0, I)`.
        num_bins: int or `None`. Dequantise data on this many levels.
        seed: int or `None`.

    Example:

    ```python
    x = kgen.datasets.load_toy("two_moons", 5000)
    flow = kgen.models.RealNVP(event_shape=(2,), num_couplings=6)
    flow.compile(optimizer=keras.optimizers.Adam(1e-3))
    flow.fit(x, epochs=50)
    flow.log_prob(x[:5]), flow.sample(100, seed=0)
    ```
    """

    capabilities = ("sample", "encode", "log_prob", "bits_per_dim")

    def __init__(
        self,
        bijector,
        event_shape,
        base_distribution=None,
        num_bins=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        event_shape = validate_shape(event_shape, "event_shape")
        num_bins = validate_optional_int(num_bins, "num_bins", minimum=2)
        self.bijector = bijector
        self.event_shape = event_shape
        self.base_distribution = base_distribution
        self.num_bins = num_bins
        if isinstance(bijector, keras.layers.Layer) and not bijector.built:
            bijector.build((None,) + event_shape)
        self.initialized = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="initialized"
        )
        self.built = True

    # === Distribution ===

    @property
    def data_shape(self):
        return self.event_shape

    @property
    def data_range(self):
        return (0.0, 1.0) if self.num_bins else None

    @property
    def latent_shape(self):
        """Shape of one latent `z = f^-1(x)`."""
        return self.event_shape

    def base(self):
        if self.base_distribution is not None:
            return self.base_distribution
        zeros = ops.zeros(self.event_shape)
        return Independent(
            Normal(zeros, ops.ones_like(zeros)), len(self.event_shape)
        )

    def encode(self, x):
        """`z = f^-1(x)`."""
        x = public_inputs.check_examples(self, x)
        return self.bijector.inverse(ops.convert_to_tensor(x, "float32"))

    def decode(self, z):
        """`x = f(z)`."""
        z = ops.convert_to_tensor(
            public_inputs.check_codes(z, self.latent_shape, "z"), "float32"
        )
        if isinstance(self.bijector, keras.layers.Layer):
            # One compiled program per batch size on JAX, not one per op.
            return backend.inference_method(self.bijector, "forward", z)
        return self.bijector.forward(z)

    def log_prob(self, x):
        """Exact `log p(x)` (of the dequantised density if `num_bins`)."""
        return self._log_prob(
            public_inputs.check_examples(self, x), training=False
        )

    def _log_prob(self, x, training):
        x = ops.convert_to_tensor(x, "float32")
        event_ndims = len(self.event_shape)
        if isinstance(self.bijector, bijectors.Bijector):
            # kgen bijectors: one pass for both, and the training flag.
            z, log_det = self.bijector.inverse_and_log_det(
                x, event_ndims, training=training
            )
        else:
            z = self.bijector.inverse(x)
            log_det = self.bijector.inverse_log_det_jacobian(x, event_ndims)
        return self.base().log_prob(z) + log_det

    def dequantize(self, x, seed=None):
        """`(x (num_bins - 1) + u) / num_bins`, `u ~ U[0, 1)`: data on
        `num_bins` levels in [0, 1] spread uniformly over their bins."""
        self._check_discrete("dequantize")
        x = ops.convert_to_tensor(
            public_inputs.check_examples(self, x), "float32"
        )
        noise = batch_random.uniform(
            ops.shape(x), public_inputs.seed_source(self, seed), dtype=x.dtype
        )
        return (x * (self.num_bins - 1) + noise) / self.num_bins

    def bits_per_dim(self, x, *, seed=None):
        """`-log2 P(x) / D` bound for data on `num_bins` levels in [0, 1]."""
        self._check_discrete("bits_per_dim")
        x = ops.convert_to_tensor(
            public_inputs.check_examples(self, x), "float32"
        )
        dims = int(np.prod(self.event_shape))
        log_prob = self.log_prob(self.dequantize(x, seed))
        nats = -log_prob + dims * math.log(self.num_bins)
        return nats / (dims * math.log(2.0))

    def _check_discrete(self, method_name):
        """Raises unless the flow models data on `num_bins` levels, which
        the method `method_name` needs."""
        if self.num_bins is None:
            raise ValueError(
                f"{method_name} needs discrete data: build the flow with "
                "`num_bins` (e.g. 256 for 8-bit images)."
            )

    # === Training ===

    def call(self, x, training=False):
        """Per-example `log p(x)`, of the dequantised `x` when `num_bins`:
        the objective `fit` and `evaluate` use. Computed here, not in
        `compute_loss`, so a step runs the flow once and passes the
        training flag to bijectors such as `BatchNormalization`."""
        x = ops.convert_to_tensor(x, "float32")
        if self.num_bins:
            x = self.dequantize(x)
        return self._log_prob(x, training=training)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y_pred is None:
            y_pred = self(x, training=training)
        loss = -y_pred
        if sample_weight is not None:
            return ops.sum(loss * sample_weight) / ops.sum(sample_weight)
        return ops.mean(loss)

    def fit(self, x=None, y=None, *args, **kwargs):
        self._validate_data(x, "x")
        if hasattr(x, "shape") and not float(
            ops.convert_to_numpy(self.initialized)
        ):
            self.initialize(x[: kwargs.get("batch_size") or 256])
        return super().fit(x, y, *args, **kwargs)

    def initialize(self, x):
        """Data-dependent init of every `ActNorm`, data side first."""
        y = ops.convert_to_tensor(x, "float32")
        if self.num_bins:
            y = self.dequantize(y, seed=0)
        if hasattr(self.bijector, "initialize_from_data"):
            self.bijector.initialize_from_data(y)
        self.initialized.assign(1.0)

    # === Sampling ===

    def sample(self, num_samples, *, seed=None, temperature=1.0):
        """`f(T z)`: `temperature` T < 1 trades diversity for quality."""
        public_inputs.check_num_samples(num_samples)
        temperature = validate_float(
            temperature, "temperature", minimum=0.0, exclusive_minimum=True
        )
        seed = public_inputs.seed_source(self, seed)
        base = self.base()
        if not isinstance(base, Distribution):
            # A foreign (TFP) base takes TFP's stateless `(2,)` seed,
            # drawn from the model's own generator.
            seed = seeds.loop_seed(seed)
        z = base.sample(num_samples, seed=seed)
        with backend.no_grad():
            return self.decode(temperature * z)

    def serving_endpoints(self):
        spec = [
            keras.InputSpec(shape=(None,) + self.event_shape, dtype="float32")
        ]
        latent = [
            keras.InputSpec(shape=(None,) + self.latent_shape, dtype="float32")
        ]

        def sample(noise):
            return self.decode(noise)

        def decode(z):
            return self.decode(z)

        def encode(x):
            return self.encode(x)

        def log_prob(x):
            return self.log_prob(x)

        return {
            "sample": (sample, latent),
            "decode": (decode, latent),
            "encode": (encode, spec),
            "log_prob": (log_prob, spec),
        }
