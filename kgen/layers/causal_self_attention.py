import math

import keras
from keras import layers
from keras import ops

from kgen import backend
from kgen.layers.dropout import Dropout
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_probability
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class CausalSelfAttention(RecordedConfig, keras.layers.Layer):
    """Multi-head causal self-attention with an optional key/value cache.

    ```
    q, k, v = split(x W_qkv)                          (per head)
    A = softmax(q k^T / sqrt(head_dim) + M),  M_ij = 0 if j <= i else -inf
    y = concat_heads(A v) W_o
    ```

    Position `i` attends to positions `<= i` only. Called with a `cache`
    of shape `(batch, 2, max_length, num_heads, head_dim)` and an integer
    `cache_index`, the keys and values of the `length` new positions are
    written at `cache_index` and the queries attend to everything the
    cache holds up to their own position, so a decoder generating one
    token per step costs one position per step instead of the whole
    prefix.

    `keras.layers.MultiHeadAttention` has no cache (keras-hub adds one in
    a subclass that reaches into its private projections), hence this
    layer; its fused query/key/value projection is one matrix product
    instead of three. Without a cache, and without dropout in training,
    the attention is one fused call (`kgen.backend.
    dot_product_attention`: cuDNN's or torch's flash kernel on a GPU).

    Args:
        num_heads: int. Attention heads; must divide the input width.
        dropout: float. Dropout on the attention weights in training.

    Example:

    >>> layer = CausalSelfAttention(num_heads=2)
    >>> tuple(layer(keras.ops.ones((1, 5, 8))).shape)
    (1, 5, 8)

    References:
        1. Vaswani et al. Attention Is All You Need. 2017.
           arXiv:1706.03762.
    """

    def __init__(self, num_heads, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        num_heads = validate_int(num_heads, "num_heads")
        dropout = validate_probability(
            dropout, "dropout", exclusive_maximum=True
        )
        self.num_heads = num_heads
        self.dropout = dropout
        self.dropout_layer = Dropout(dropout)

    def build(self, input_shape):
        hidden_dim = input_shape[-1]
        if hidden_dim % self.num_heads:
            raise ValueError(
                f"The input width ({hidden_dim}) must be divisible by "
                f"`num_heads` ({self.num_heads})."
            )
        self.head_dim = hidden_dim // self.num_heads
        self.qkv_dense = layers.Dense(3 * hidden_dim, name="qkv")
        self.qkv_dense.build(input_shape)
        self.output_dense = layers.Dense(hidden_dim, name="output")
        self.output_dense.build(input_shape)

    def call(self, x, cache=None, cache_index=0, training=False):
        """Attends causally over `x`, or over the cache plus `x`.

        Args:
            x: `(batch, length, hidden_dim)`.
            cache: `None`, or `(batch, 2, max_length, num_heads,
                head_dim)` keys and values of earlier positions.
            cache_index: int or int scalar tensor. The position of
                `x[:, 0]` (where its keys and values go in the cache).

        Returns:
            `y` of `x`'s shape; `(y, updated_cache)` when `cache` is given.
        """
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        qkv = ops.reshape(
            self.qkv_dense(x),
            (batch, length, 3, self.num_heads, self.head_dim),
        )
        query, key, value = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        if cache is None and not (training and self.dropout > 0):
            # The whole sequence, no dropout on the weights (which the
            # fused kernels Keras reaches do not take): one fused call.
            attended = backend.dot_product_attention(
                query,
                key,
                value,
                scale=1.0 / math.sqrt(self.head_dim),
                is_causal=True,
            )
            return self.output_dense(ops.reshape(attended, (batch, length, -1)))
        query_positions = ops.arange(length)
        if cache is not None:
            start = ops.cast(cache_index, "int32")
            cache = ops.slice_update(
                cache,
                [0, 0, start, 0, 0],
                ops.cast(ops.stack([key, value], axis=1), cache.dtype),
            )
            key, value = cache[:, 0], cache[:, 1]
            query_positions = query_positions + start
        key_positions = ops.arange(ops.shape(key)[1])
        visible = key_positions[None, :] <= query_positions[:, None]

        scores = ops.einsum("bqhd,bkhd->bhqk", query, key) / math.sqrt(
            self.head_dim
        )
        # The softmax is float32 under a mixed policy (float16 cannot hold
        # the mask value, and its sums lose the small weights). A large
        # finite mask, not -inf: fully masked rows never occur here, and
        # -inf turns into NaN in some backends' fused softmax.
        scores = ops.where(
            visible[None, None], ops.cast(scores, "float32"), -1e9
        )
        weights = ops.cast(ops.softmax(scores, axis=-1), value.dtype)
        weights = self.dropout_layer(weights, training=training)
        attended = ops.einsum("bhqk,bkhd->bqhd", weights, value)
        outputs = self.output_dense(ops.reshape(attended, (batch, length, -1)))
        if cache is None:
            return outputs
        return outputs, cache

    def compute_output_shape(self, input_shape):
        return input_shape
