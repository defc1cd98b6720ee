import keras
from keras import ops

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

    Self-attention of `(batch, length, width)` tokens (`layer(x, x)`)
    projects the tokens once, by the query, key and value kernels side
    by side, and the heads out as one matrix product:

    ```
    [Q K V] = X [W_q W_k W_v] + [b_q b_k b_v]
    ```

    the same sums as Keras' three 3-D einsums, with the same weights
    (`kgen.lora`'s adapters included). In a profile of the DiT's step
    on JAX, XLA on a CPU copied the tokens to a transposed layout before
    each 3-D einsum's weight gradient; one 2-D product copies them once.
    On one Xeon core the DiT benchmark's training rounds took 10% less
    time on JAX (0.88x -> 0.99x diffusers) and 3% less on TensorFlow.
    With a mask, dropout, returned scores, a gate, a sliding window or
    quantized kernels it is Keras' attention unchanged.

    Example:

    >>> layer = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = keras.ops.ones((1, 3, 8))
    >>> tuple(layer(x, x).shape)
    (1, 3, 8)
    """

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        if key is None:
            key = value
        # Keras' `Layer.__call__` passes the tokens' own masks (`_keras_mask`)
        # as `query_mask` and `value_mask`.
        masks = (query_mask, value_mask, key_mask, attention_mask)
        if (
            query is not value
            or key is not value
            or any(mask is not None for mask in masks)
            or return_attention_scores
            or not self._projects_plainly(query)
        ):
            return super().call(
                query,
                value,
                key,
                query_mask,
                value_mask,
                key_mask,
                attention_mask,
                return_attention_scores,
                training,
                use_causal_mask,
            )
        return self._self_attention(query, training, use_causal_mask)

    def _projects_plainly(self, tokens):
        """Whether the projections are plain products `_self_attention`
        may sum itself: 3-D tokens, values as wide as the keys, no
        dropout, gate or window, and kernels that are not quantized."""
        denses = (
            self._query_dense,
            self._key_dense,
            self._value_dense,
            self._output_dense,
        )
        return (
            len(tokens.shape) == 3
            and self._value_dim == self._key_dim
            and self._dropout == 0.0
            and not getattr(self, "_use_gate", False)
            and getattr(self, "_sliding_window", None) is None
            and all(
                getattr(dense, "quantization_mode", None) is None
                for dense in denses
            )
        )

    def _self_attention(self, tokens, training, use_causal_mask):
        """Self-attention with the projections as 2-D products (see the
        class docstring)."""
        width = tokens.shape[-1]
        length = ops.shape(tokens)[1]
        denses = (self._query_dense, self._key_dense, self._value_dense)
        kernels = [ops.reshape(dense.kernel, (width, -1)) for dense in denses]
        projected = ops.matmul(
            ops.reshape(tokens, (-1, width)), ops.concatenate(kernels, 1)
        )
        if self._use_bias:
            biases = [ops.reshape(dense.bias, (-1,)) for dense in denses]
            projected = projected + ops.concatenate(biases, 0)
        # Split, not sliced: TensorFlow's gradient of a strided slice pads
        # each slice back to the whole array (15% of a DiT's step there).
        # In equal parts: Keras' split at indices reads them back from a
        # tensor, which torch's graph tracing refuses.
        query, key, value = (
            ops.reshape(part, (-1, length, self._num_heads, self._key_dim))
            for part in ops.split(projected, 3, axis=1)
        )
        attended, _ = self._compute_attention(
            query,
            key,
            value,
            training=training,
            use_causal_mask=use_causal_mask,
        )
        output = self._output_dense
        kernel = output.kernel
        heads_by_dim = kernel.shape[0] * kernel.shape[1]
        outputs = ops.matmul(
            ops.reshape(attended, (-1, heads_by_dim)),
            ops.reshape(kernel, (heads_by_dim, -1)),
        )
        if self._use_bias:
            outputs = outputs + ops.reshape(output.bias, (-1,))
        return ops.reshape(outputs, (-1, length) + tuple(kernel.shape[2:]))

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
