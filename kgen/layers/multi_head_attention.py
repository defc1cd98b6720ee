import keras

from kgen import backend


@keras.saving.register_keras_serializable(package="kgen")
class MultiHeadAttention(keras.layers.MultiHeadAttention):
    """`keras.layers.MultiHeadAttention` attending through
    `kgen.backend.dot_product_attention`.

    ```
    y = W_o concat_h softmax(Q_h K_h^T / sqrt(d)) V_h
    ```

    The same layer, weights and arguments as Keras' (its `get_config`
    and checkpoints are Keras'), whose attention is the backend's best on
    the device: a fused kernel on torch and on GPUs, and on a CPU under
    JAX and TensorFlow a head or a few heads at a time (`kgen/backend/
    blocked_attention.py`), where XLA's one-pass attention streams the
    score tensor through memory: a DiT at 32 px trained 1.24x faster on
    one core under JAX, and 1.1x again with flash attention's backward
    pass (benchmarks/results/dit_vs_diffusers_cpu.json).
    With a mask, dropout or returned scores it is Keras' attention
    unchanged.

    Example:

    >>> layer = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = keras.ops.ones((1, 3, 8))
    >>> tuple(layer(x, x).shape)
    (1, 3, 8)
    """

    def _compute_attention(
        self,
        query,
        key,
        value,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        # Keras' overridable step; `(batch, length, heads, dim)` inputs.
        if (
            attention_mask is not None
            or return_attention_scores
            or self._dropout > 0.0
            or len(query.shape) != 4
        ):
            return super()._compute_attention(
                query,
                key,
                value,
                attention_mask,
                training,
                return_attention_scores,
                use_causal_mask,
            )
        output = backend.dot_product_attention(
            query,
            key,
            value,
            scale=self._inverse_sqrt_key_dim,
            is_causal=use_causal_mask,
        )
        return output, None
