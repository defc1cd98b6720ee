"""Attention a few heads at a time, for XLA on a CPU.

```
y = softmax(q k^T * scale + M) v,  M_ij = -inf where j > i (causal)
```

XLA's CPU attention (what `keras.ops.dot_product_attention` is on JAX,
and on TensorFlow under `jit_compile`) writes the whole `(batch, heads,
queries, keys)` score tensor to memory and reads it back three times
(the maximum, the exponential, the sum). For a DiT at 32 px (256 tokens,
4 heads, batch 32) that is 32 MB a pass, and on one CPU core the pass
took 63 ms where torch's fused CPU kernel (a flash attention) took 17 ms.
Here a group of heads whose scores fit in the core's cache (`CACHE_BYTES`)
is done whole before the next (`keras.ops.map`), and its scores are
recomputed in the backward pass rather than kept (`keras.remat`), as a
flash attention does: 19 ms forward and 56 ms forward and backward,
against 66 and 143 ms.
"""

import keras
from keras import ops

# The scores of one group of heads: half a core's L2 cache on today's
# server CPUs (1-2 MB), so the exponentials are read back from it.
CACHE_BYTES = 2**20
# Below this many score bytes an example (its heads' scores), a batch's
# one-pass attention stays in the cache: the U-Net's 8x8 attention (64
# tokens, 4 heads: 64 kB an example) gained nothing from blocking.
MIN_SCORE_BYTES_PER_EXAMPLE = 2**18


def dot_product_attention(query, key, value, scale, is_causal, on_cpu):
    """Blocked on a CPU where the scores outgrow its cache; Keras'
    `dot_product_attention` (a fused kernel on a GPU) otherwise."""
    if on_cpu and is_worth_blocking(query, key):
        return blocked_attention(query, key, value, scale, is_causal)
    return keras.ops.dot_product_attention(
        query, key, value, scale=scale, is_causal=is_causal
    )


def is_worth_blocking(query, key):
    """Whether the score tensor of `query` `(batch, queries, heads, dim)`
    and `key` `(batch, keys, heads, dim)` outgrows a CPU's cache."""
    _, length, heads, _ = query.shape
    keys = key.shape[1]
    # A free or symbolic length (an export for any sequence length)
    # keeps the one-pass attention, which serves every length.
    if not all(isinstance(d, int) for d in (length, keys, heads)):
        return False
    return heads * length * keys * 4 >= MIN_SCORE_BYTES_PER_EXAMPLE


def blocked_attention(query, key, value, scale, is_causal=False):
    """`softmax(q k^T * scale (+ causal mask)) v` over `(batch, length,
    heads, dim)` inputs, a group of heads at a time; float32 scores."""
    _, length, heads, dim = query.shape
    keys = key.shape[1]
    group = _group_size(heads, length * keys * 4)

    def to_groups(x):
        # (batch, length, heads, dim) -> (batch * heads / group, group,
        # length, dim), heads outermost within a batch row.
        x = ops.transpose(x, (0, 2, 1, 3))
        return ops.reshape(x, (-1, group) + tuple(x.shape[2:]))

    @keras.remat
    def attend(group_inputs):
        q, k, v = group_inputs
        scores = ops.einsum("gqd,gkd->gqk", q, k)
        scores = ops.cast(scores, "float32") * scale
        if is_causal:
            visible = ops.arange(keys)[None, :] <= ops.arange(length)[:, None]
            scores = ops.where(visible[None], scores, -1e9)
        weights = ops.cast(ops.softmax(scores, axis=-1), v.dtype)
        return ops.einsum("gqk,gkd->gqd", weights, v)

    outputs = ops.map(attend, tuple(map(to_groups, (query, key, value))))
    outputs = ops.reshape(outputs, (-1, heads, length, dim))
    return ops.transpose(outputs, (0, 2, 1, 3))


def _group_size(heads, bytes_per_head):
    """The most heads (a divisor of `heads`) whose scores fit in
    `CACHE_BYTES`; at least one."""
    fitting = max(1, CACHE_BYTES // bytes_per_head)
    return max(
        d for d in range(1, heads + 1) if heads % d == 0 and d <= fitting
    )
