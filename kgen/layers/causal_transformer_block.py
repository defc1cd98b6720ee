import keras
from keras import layers

from kgen.layers.causal_self_attention import CausalSelfAttention
from kgen.layers.dropout import Dropout
from kgen.utils.argument_validation import validate_int
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class CausalTransformerBlock(RecordedConfig, keras.layers.Layer):
    """A pre-norm Transformer decoder block (GPT-2 layout).

    ```
    h = x + Dropout(CausalSelfAttention(LayerNorm(x)))
    y = h + Dropout(W_2 gelu(W_1 LayerNorm(h)))
    ```

    Passes a key/value `cache` through to its attention (see
    `CausalSelfAttention`), so a decoder stack generates with one
    position per step. keras-hub's `TransformerDecoder` is not a Keras
    core layer, and kgen depends on Keras alone.

    Args:
        num_heads: int. Attention heads.
        intermediate_dim: int. Width of the feed-forward layer.
        dropout: float. Residual and attention dropout in training.
        layer_norm_epsilon: float.

    Example:

    >>> block = CausalTransformerBlock(num_heads=2, intermediate_dim=32)
    >>> tuple(block(keras.ops.ones((1, 5, 8))).shape)
    (1, 5, 8)

    References:
        1. Radford et al. Language Models are Unsupervised Multitask
           Learners. 2019 (GPT-2).
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        intermediate_dim = validate_int(intermediate_dim, "intermediate_dim")
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        # === Layers ===
        self.attention_norm = layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="attention_norm"
        )
        self.attention = CausalSelfAttention(
            num_heads, dropout=dropout, name="attention"
        )
        self.feedforward_norm = layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="feedforward_norm"
        )
        self.feedforward_dropout = Dropout(dropout)
        self.attention_dropout = Dropout(dropout)

    def build(self, input_shape):
        hidden_dim = input_shape[-1]
        self.attention_norm.build(input_shape)
        self.attention.build(input_shape)
        self.feedforward_norm.build(input_shape)
        self.feedforward_in = layers.Dense(
            self.intermediate_dim, activation="gelu", name="feedforward_in"
        )
        self.feedforward_in.build(input_shape)
        self.feedforward_out = layers.Dense(hidden_dim, name="feedforward_out")
        self.feedforward_out.build(
            tuple(input_shape[:-1]) + (self.intermediate_dim,)
        )

    def call(self, x, cache=None, cache_index=0, training=False):
        """`y`, or `(y, updated_cache)` when `cache` is given."""
        attended = self.attention(
            self.attention_norm(x),
            cache=cache,
            cache_index=cache_index,
            training=training,
        )
        if cache is not None:
            attended, cache = attended
        h = x + self.attention_dropout(attended, training=training)
        update = self.feedforward_out(
            self.feedforward_in(self.feedforward_norm(h))
        )
        y = h + self.feedforward_dropout(update, training=training)
        if cache is None:
            return y
        return y, cache

    def compute_output_shape(self, input_shape):
        return input_shape
