import keras
from keras import ops

from kgen.distributions import kl_registry
from kgen.utils import seeds
from kgen.utils.recorded_config import RecordedConfig


class Distribution(RecordedConfig):
    """Base class of kgen distributions, with TFP's method names.

    A kgen distribution is a plain Python object holding backend tensors,
    so it works inside `call`, `compute_loss` and `train_step` on every Keras
    backend. Method names and shapes follow `tfp.distributions`, so on the
    TensorFlow backend a `tfp` distribution can stand in wherever kgen takes
    one (a VAE prior, for instance).

    Subclasses implement `_log_prob`, `_sample_n` and the moments they have;
    its config is its constructor's arguments (`RecordedConfig`), tensors as
    Python lists, so the distribution serializes inside a model's config.
    """

    def log_prob(self, value):
        """`log p(value)`, one number per batch member."""
        return self._log_prob(ops.convert_to_tensor(value, self.dtype))

    def prob(self, value):
        return ops.exp(self.log_prob(value))

    def sample(self, sample_shape=(), seed=None):
        """Draws `sample_shape + batch_shape + event_shape` values.

        Args:
            sample_shape: int or tuple of ints.
            seed: int, `keras.random.SeedGenerator` or `None` (see
                `kgen.utils.seeds`).
        """
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        return self._sample_n(tuple(sample_shape), seeds.seed_generator(seed))

    def kl_divergence(self, other):
        """`KL(self || other)`; see `kgen.distributions.kl_divergence`."""
        return kl_registry.kl_divergence(self, other)

    def stddev(self):
        return ops.sqrt(self.variance())

    @property
    def dtype(self):
        return keras.config.floatx()

    @property
    def batch_shape(self):
        raise NotImplementedError

    @property
    def event_shape(self):
        return ()
