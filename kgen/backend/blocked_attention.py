"""Attention a few heads at a time, for a CPU.

```
y = softmax(s) v,   s = q k^T * scale + M,   M_ij = -inf where j > i
                                              (causal)
```

XLA's CPU attention (what `keras.ops.dot_product_attention` is on JAX,
and on TensorFlow under `jit_compile`) writes the whole `(batch, heads,
queries, keys)` score tensor to memory and reads it back three times
(the maximum, the exponential, the sum). For a DiT at 32 px (256 tokens,
4 heads, batch 32) that is 32 MB a pass, and on one CPU core the pass
took 63 ms where torch's fused CPU kernel (a flash attention) took 17 ms.
Both paths here do a few heads' scores whole in the core's cache before
the next heads' (`keras.ops.map`) and recompute them in the backward
pass rather than keep them, as a flash attention does.

`blocked_attention` (JAX, and TensorFlow under XLA) takes one head at
a time and flash attention's backward pass, from the saved
log-normalizers `lse_i = log sum_j exp(s_ij)`:

```
p = exp(s - lse)                      (the attention weights)
dv = p^T dy
ds = p * (dy v^T - delta) * scale,    delta_i = sum_d dy_id y_id
dq = ds k,  dk = ds^T q
```

with no reduction over the keys (autodiff's softmax needs two). Why by
hand: XLA's CPU backend hands a matrix product to its fast library
(YNNPACK) only where the left operand is contracted over its last axis;
autodiff's products through the queries (`p^T dy`, `ds^T q`) are not,
and ran 4x slower on Eigen. Here every product has that form: the
backward pass works on the transposed scores `s^T` (keys by queries),
and `dq^T = k^T ds^T` takes the keys laid out by feature. Intel Xeon,
one core, the DiT's attention (batch 32, 256 tokens, 4 heads of 32)
forward and backward under `jax.jit`: 58-68 ms, where the
rematerialized groups of heads took 74-79 ms and torch's flash kernel
48-56 ms; the DiT's training round 9-12% shorter. Blocks of 2 or 4
heads (batched products) took 77-79 ms, so a block is one head.

`rematerialized_attention` (TensorFlow without XLA) takes as many heads
as fit the cache and autodiff's backward pass through `keras.remat`.
Keras trains on TensorFlow without XLA on a CPU, where TensorFlow's
fused softmax kernel and its gradient outrun the exponential and sums
written out (72-75 ms forward and backward against 93-97); under XLA
the flash backward pass is faster (70 against 112 ms), and the DiT
trained under `jit_compile=True` 13-20% faster with it.

Under `kgen.backend.jvp` attention is Keras' one pass: forward mode
differentiates neither a custom gradient nor TensorFlow's
rematerialization (`recompute_grad` refuses it).
"""

import keras
from keras import ops

from kgen.backend import forward_mode

# Below this many score bytes an example (its heads' scores), a batch's
# one-pass attention stays in the cache: the U-Net's 8x8 attention (64
# tokens, 4 heads: 64 kB an example) gained nothing from blocking.
MIN_SCORE_BYTES_PER_EXAMPLE = 2**18
# The scores of one group of heads in `rematerialized_attention`: half a
# core's L2 cache on today's server CPUs (1-2 MB), so the exponentials
# are read back from it.
CACHE_BYTES = 2**20
# The masked scores: their exponential (less the maximum, or lse) is 0.
MASKED_SCORE = -1e9


def dot_product_attention(
    query, key, value, scale, is_causal, on_cpu, flash_backward
):
    """On a CPU where the scores outgrow its cache, a head at a time
    with flash attention's backward pass (`flash_backward`) or a group of
    heads at a time, rematerialized; Keras' `dot_product_attention` (a
    fused kernel on a GPU) otherwise, and under `jvp`: forward mode
    differentiates neither a custom gradient nor TensorFlow's
    rematerialization."""
    if (
        not on_cpu
        or forward_mode.is_active()
        or not is_worth_blocking(query, key)
    ):
        return keras.ops.dot_product_attention(
            query, key, value, scale=scale, is_causal=is_causal
        )
    if flash_backward:
        return blocked_attention(query, key, value, scale, is_causal)
    return rematerialized_attention(query, key, value, scale, is_causal)


def is_worth_blocking(query, key):
    """Whether the score tensor of `query` `(batch, queries, heads, dim)`
    and `key` `(batch, keys, heads, dim)` outgrows a CPU's cache."""
    _, length, heads, _ = query.shape
    return scores_outgrow_cache(heads, length, key.shape[1])


def scores_outgrow_cache(heads, queries, keys):
    """Whether an example's attention scores, `heads` of `queries` by
    `keys`, outgrow a CPU's cache (float32)."""
    # A free or symbolic length (an export for any sequence length)
    # keeps the one-pass attention, which serves every length.
    if not all(isinstance(d, int) for d in (heads, queries, keys)):
        return False
    return heads * queries * keys * 4 >= MIN_SCORE_BYTES_PER_EXAMPLE


def blocked_attention(query, key, value, scale, is_causal=False):
    """`softmax(q k^T * scale (+ causal mask)) v` over `(batch, length,
    heads, dim)` inputs, a head at a time, with flash attention's
    backward pass; float32 scores."""
    query, key, value = map(ops.convert_to_tensor, (query, key, value))
    _, length, heads, _ = query.shape
    keys = key.shape[1]

    def forward_block(block):
        q, k, v = block
        scores = ops.cast(ops.matmul(q, _transpose(k)), "float32") * scale
        if is_causal:
            scores = ops.where(_visible(length, keys), scores, MASKED_SCORE)
        maximum = ops.max(scores, axis=-1, keepdims=True)
        weights = ops.exp(scores - maximum)
        total = ops.sum(weights, axis=-1, keepdims=True)
        outputs = ops.matmul(ops.cast(weights, v.dtype), v)
        outputs = outputs / ops.cast(total, v.dtype)
        return outputs, (maximum + ops.log(total))[:, 0]

    def backward_block(block):
        q, k, keys_by_feature, v, upstream, outputs, lse = block
        delta = ops.sum(
            ops.cast(upstream, "float32") * ops.cast(outputs, "float32"), -1
        )
        # Keys by queries throughout: every product below contracts its
        # left operand over the last axis.
        scores = ops.cast(ops.matmul(k, _transpose(q)), "float32") * scale
        if is_causal:
            scores = ops.where(
                _transpose(_visible(length, keys)), scores, MASKED_SCORE
            )
        weights = ops.exp(scores - lse[None, :])
        d_value = ops.matmul(ops.cast(weights, v.dtype), upstream)
        d_weights = ops.cast(ops.matmul(v, _transpose(upstream)), "float32")
        d_scores = weights * (d_weights - delta[None, :]) * scale
        d_scores = ops.cast(d_scores, q.dtype)
        d_key = ops.matmul(d_scores, q)
        d_query_by_feature = ops.matmul(keys_by_feature, d_scores)
        return d_query_by_feature, d_key, d_value

    @ops.custom_gradient
    def attention(query, key, value):
        blocks = tuple(map(_heads_first, (query, key, value)))
        outputs, lse = ops.map(forward_block, blocks)

        def gradient(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            q, k, v = blocks
            # Keys by feature: the left operand of `dq^T = k^T ds^T`.
            d_query, d_key, d_value = ops.map(
                backward_block,
                (q, k, _transpose(k), v, _heads_first(upstream), outputs, lse),
            )
            return tuple(
                ops.cast(_heads_last(d, heads), x.dtype)
                for d, x in zip(
                    (_transpose(d_query), d_key, d_value), (query, key, value)
                )
            )

        return _heads_last(outputs, heads), gradient

    return attention(query, key, value)


def rematerialized_attention(query, key, value, scale, is_causal=False):
    """`softmax(q k^T * scale (+ causal mask)) v` over `(batch, length,
    heads, dim)` inputs, a group of heads at a time, rematerialized in
    the backward pass; float32 scores."""
    _, length, heads, _ = query.shape
    keys = key.shape[1]
    group = _group_size(heads, length * keys * 4)

    def to_groups(x):
        # (batch * heads / group, group, length, dim), heads outermost
        # within a batch row.
        x = _heads_first(x)
        return ops.reshape(x, (-1, group) + tuple(x.shape[1:]))

    @keras.remat
    def attend(group_inputs):
        q, k, v = group_inputs
        scores = ops.einsum("gqd,gkd->gqk", q, k)
        scores = ops.cast(scores, "float32") * scale
        if is_causal:
            scores = ops.where(
                _visible(length, keys)[None], scores, MASKED_SCORE
            )
        weights = ops.cast(ops.softmax(scores, axis=-1), v.dtype)
        return ops.einsum("gqk,gkd->gqd", weights, v)

    outputs = ops.map(attend, tuple(map(to_groups, (query, key, value))))
    return _heads_last(outputs, heads)


def _group_size(heads, bytes_per_head):
    """The most heads (a divisor of `heads`) whose scores fit in
    `CACHE_BYTES`; at least one."""
    fitting = max(1, CACHE_BYTES // bytes_per_head)
    return max(
        d for d in range(1, heads + 1) if heads % d == 0 and d <= fitting
    )


def _heads_first(x):
    """`(batch, length, heads, dim)` -> `(batch * heads, length, dim)`."""
    x = ops.transpose(x, (0, 2, 1, 3))
    return ops.reshape(x, (-1,) + tuple(x.shape[2:]))


def _heads_last(x, heads):
    """The inverse of `_heads_first` (any axes between the batch and the
    last two): `(batch, length, heads, dim)`."""
    x = ops.reshape(x, (-1, heads) + tuple(x.shape[-2:]))
    return ops.transpose(x, (0, 2, 1, 3))


def _transpose(x):
    """Swaps the last two axes."""
    return ops.swapaxes(x, -1, -2)


def _visible(length, keys):
    """`(length, keys)`: key `j` is visible to query `i` where `j <= i`."""
    return ops.arange(keys)[None, :] <= ops.arange(length)[:, None]
