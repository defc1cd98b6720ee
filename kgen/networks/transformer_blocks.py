"""Pre-norm bidirectional Transformer blocks on functional tensors."""

from keras import layers

from kgen.layers.multi_head_attention import MultiHeadAttention


def bidirectional_blocks(h, num_layers, num_heads, name):
    """`num_layers` residual blocks of full self-attention and a GELU MLP:

    ```
    h = h + MHA(LN(h), LN(h));  h = h + W_2 gelu(W_1 LN(h))   (per block)
    ```

    Args:
        h: a `(batch, length, width)` functional tensor; `width` must be
            divisible by `num_heads`.
        num_layers: int.
        num_heads: int.
        name: str. Prefix of the layers' names (`{name}{index}_...`).
    """
    width = h.shape[-1]
    for index in range(num_layers):
        update = layers.LayerNormalization(name=f"{name}{index}_norm1")(h)
        update = MultiHeadAttention(
            num_heads, width // num_heads, name=f"{name}{index}_attention"
        )(update, update)
        h = h + update
        update = layers.LayerNormalization(name=f"{name}{index}_norm2")(h)
        update = layers.Dense(
            4 * width, activation="gelu", name=f"{name}{index}_dense1"
        )(update)
        h = h + layers.Dense(width, name=f"{name}{index}_dense2")(update)
    return h
