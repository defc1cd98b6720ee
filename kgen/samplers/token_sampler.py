import keras
from keras import ops

from kgen import backend
from kgen.utils.argument_validation import validate_float
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class TokenSampler(RecordedConfig):
    """Base class of the next-token rules of autoregressive decoding.

    A rule maps the logits of the next position to one token per sequence:
    `sampler(logits, seed) -> (batch,) int32`. `seed` is a `(2,)` int
    tensor, so a rule draws statelessly inside an `ops.fori_loop` (a
    `SeedGenerator` cannot advance there under JAX); the decoding loop
    passes a different seed per step. Subclasses override `filter_logits`
    (which tokens may be drawn) and `stochastic`; the draw itself is
    shared: Gumbel-max,

    ```
    token = argmax_v (logits_v / temperature + g_v),  g_v ~ Gumbel(0, 1)
    ```

    which samples `softmax(logits / temperature)` exactly. The names and
    arguments follow keras-hub's samplers, which are TensorFlow-bound.

    A subclass with options of its own returns them from `get_config`:
    `GPT.generate` compiles its loop once per rule and config.

    Args:
        temperature: float > 0. Divides the logits before the draw.
    """

    stochastic = True
    # Rules that also read the token before each position (a watermark's
    # green lists) set this; the decoding loop then passes
    # `previous_tokens=`.
    reads_previous_token = False

    def __init__(self, temperature=1.0):
        self.temperature = validate_float(
            temperature, "temperature", minimum=0.0, exclusive_minimum=True
        )

    def filter_logits(self, logits):
        """The logits with disallowed tokens pushed to a large negative
        value (keeps every token by default)."""
        return logits

    def __call__(self, logits, seed=None):
        """Next tokens from `(batch, vocabulary_size)` logits."""
        logits = ops.cast(logits, "float32") / self.temperature
        logits = self.filter_logits(logits)
        if self.stochastic:
            if seed is None:
                raise ValueError(
                    f"{type(self).__name__} draws at random: pass `seed`, "
                    "a (2,) int tensor."
                )
            uniform = backend.stateless_uniform(ops.shape(logits), seed)
            logits = logits + gumbel_from_uniform(uniform)
        return ops.cast(ops.argmax(logits, axis=-1), "int32")

    def __repr__(self):
        config = self.get_config()
        arguments = ", ".join(f"{k}={v!r}" for k, v in config.items())
        return f"{type(self).__name__}({arguments})"


# Logits of tokens a rule excludes: finite, so `argmax` and the Gumbel sum
# stay NaN-free on every backend, and far below any real logit.
EXCLUDED = -1e9


def gumbel_from_uniform(uniform):
    """Standard Gumbel draws, `-log(-log(u))`, from uniform ones."""
    # Keeps `uniform` inside (0, 1) so neither log reaches 0.
    return -ops.log(-ops.log(uniform * (1.0 - 2e-7) + 1e-7))
