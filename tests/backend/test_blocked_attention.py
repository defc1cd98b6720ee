"""`kgen/backend/blocked_attention.py`: attention a head or a group of
heads at a time is attention, forward and backward."""

import keras
import numpy as np
import pytest

from kgen.backend import blocked_attention
from tests.conftest import to_numpy

RNG = np.random.default_rng(0)


def reference(query, key, value, scale, is_causal):
    scores = np.einsum("bqhd,bkhd->bhqk", query, key) * scale
    if is_causal:
        length, keys = query.shape[1], key.shape[1]
        visible = np.arange(keys)[None] <= np.arange(length)[:, None]
        scores = np.where(visible, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return np.einsum("bhqk,bkhd->bqhd", weights, value)


BLOCKED = [
    blocked_attention.blocked_attention,
    blocked_attention.rematerialized_attention,
]


@pytest.mark.parametrize("attention", BLOCKED)
@pytest.mark.parametrize("is_causal", [False, True])
@pytest.mark.parametrize("heads", [1, 6])
def test_blocked_attention_is_attention(attention, is_causal, heads):
    query, key, value = (
        RNG.normal(size=(2, 9, heads, 4)).astype("float32") for _ in range(3)
    )
    np.testing.assert_allclose(
        to_numpy(attention(query, key, value, 0.5, is_causal)),
        reference(query, key, value, 0.5, is_causal),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize("attention", BLOCKED)
@pytest.mark.parametrize("is_causal", [False, True])
@pytest.mark.parametrize("argument", [0, 1, 2])
def test_its_gradient_is_attentions(attention, is_causal, argument):
    # One backward pass is written by hand (flash attention's).
    from kgen import backend

    *inputs, weights = (
        keras.ops.convert_to_tensor(RNG.normal(size=(2, 7, 3, 4)), "float32")
        for _ in range(4)
    )

    def gradient(function):
        def loss(x):
            arguments = list(inputs)
            arguments[argument] = x
            outputs = function(*arguments, scale=0.5, is_causal=is_causal)
            return keras.ops.sum(outputs * weights)

        return to_numpy(backend.grad(loss, inputs[argument]))

    np.testing.assert_allclose(
        gradient(attention),
        gradient(keras.ops.dot_product_attention),
        rtol=1e-4,
        atol=1e-5,
    )


def test_keys_may_outnumber_queries():
    from kgen import backend

    query = RNG.normal(size=(2, 3, 2, 4)).astype("float32")
    key, value = (
        RNG.normal(size=(2, 8, 2, 4)).astype("float32") for _ in range(2)
    )
    np.testing.assert_allclose(
        to_numpy(blocked_attention.blocked_attention(query, key, value, 0.5)),
        reference(query, key, value, 0.5, False),
        rtol=1e-5,
        atol=1e-5,
    )

    def key_gradient(attention):
        def loss(k):
            outputs = attention(query, k, value, scale=0.5)
            return keras.ops.sum(keras.ops.square(outputs))

        return to_numpy(backend.grad(loss, keras.ops.convert_to_tensor(key)))

    np.testing.assert_allclose(
        key_gradient(blocked_attention.blocked_attention),
        key_gradient(keras.ops.dot_product_attention),
        rtol=1e-4,
        atol=1e-5,
    )


def test_forward_mode_differentiates_attention_past_the_cache():
    # A custom gradient has no forward-mode derivative: under `jvp` the
    # one-pass attention serves, even where a CPU would block it.
    from kgen import backend

    query, key, value, direction = (
        keras.ops.convert_to_tensor(RNG.normal(size=(1, 256, 1, 4)), "float32")
        for _ in range(4)
    )
    assert blocked_attention.is_worth_blocking(query, key)

    def attention(query):
        return backend.dot_product_attention(query, key, value, 0.5)

    _, derivative = backend.jvp(attention, (query,), (direction,))
    _, difference = backend.finite_difference_jvp(
        attention, (query,), (direction,), epsilon=1e-2
    )
    np.testing.assert_allclose(
        to_numpy(derivative), to_numpy(difference), rtol=1e-2, atol=1e-3
    )


@pytest.mark.parametrize("is_causal", [False, True])
def test_the_backends_attention_is_attention(is_causal):
    # torch's calls `scaled_dot_product_attention` on strided views.
    from kgen import backend

    query, key, value = (
        RNG.normal(size=(2, 9, 3, 4)).astype("float32") for _ in range(3)
    )
    np.testing.assert_allclose(
        to_numpy(
            backend.dot_product_attention(query, key, value, 0.5, is_causal)
        ),
        reference(query, key, value, 0.5, is_causal),
        rtol=1e-5,
        atol=1e-5,
    )


# 256 tokens of 2 heads outgrow the cache: blocked on a CPU under JAX and
# TensorFlow; 5 do not.
@pytest.mark.parametrize("length", [5, 256])
@pytest.mark.parametrize("argument", [0, 1, 2])
def test_the_backends_attention_differentiates_as_its_formula(argument, length):
    # On JAX the softmax takes JAX's own derivative (softmax_custom_jvp),
    # not autodiff through exp / sum, or flash attention's backward pass.
    from kgen import backend

    # Tensors: torch's tensor that needs a gradient refuses NumPy's product.
    *inputs, weights = (
        keras.ops.convert_to_tensor(
            RNG.normal(size=(1, length, 2, 4)), "float32"
        )
        for _ in range(4)
    )
    assert blocked_attention.is_worth_blocking(*inputs[:2]) == (length > 5)

    def formula(query, key, value, scale):
        scores = keras.ops.einsum("bqhd,bkhd->bhqk", query, key) * scale
        scores = scores - keras.ops.max(scores, axis=-1, keepdims=True)
        exp = keras.ops.exp(scores)
        probs = exp / keras.ops.sum(exp, axis=-1, keepdims=True)
        return keras.ops.einsum("bhqk,bkhd->bqhd", probs, value)

    def gradient(attention):
        def loss(x):
            arguments = list(inputs)
            arguments[argument] = x
            return keras.ops.sum(attention(*arguments, 0.5) * weights)

        return to_numpy(backend.grad(loss, inputs[argument]))

    np.testing.assert_allclose(
        gradient(backend.dot_product_attention),
        gradient(formula),
        rtol=1e-4,
        atol=1e-5,
    )


def test_groups_of_heads_fill_the_cache_and_divide_the_heads():
    # A DiT's 256 tokens: 256 kB of scores a head, four heads to 1 MB.
    assert blocked_attention._group_size(4, 256 * 256 * 4) == 4
    assert blocked_attention._group_size(6, 256 * 256 * 4) == 3
    assert blocked_attention._group_size(6, 2**22) == 1


def test_only_scores_past_the_cache_are_blocked():
    small = np.zeros((32, 64, 4, 8), "float32")  # the U-Net's 8x8 level
    large = np.zeros((1, 256, 4, 8), "float32")  # a DiT's 256 tokens
    assert not blocked_attention.is_worth_blocking(small, small)
    assert blocked_attention.is_worth_blocking(large, large)


def test_a_free_length_keeps_the_one_pass_attention():
    # A symbolic sequence length (an export for every length) cannot be
    # compared with the cache's size.
    query = keras.KerasTensor((None, None, 4, 8))
    assert not blocked_attention.is_worth_blocking(query, query)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow's XLA"
)
def test_tensorflow_takes_the_flash_backward_pass_where_xla_compiles():
    import tensorflow as tf

    from kgen.backend import tensorflow as tf_backend

    assert not tf_backend.is_compiled_by_xla()
    inside = {}

    def traced(jit_compile):
        def probe():
            inside[jit_compile] = tf_backend.is_compiled_by_xla()
            return tf.constant(0)

        tf.function(probe, jit_compile=jit_compile)()

    traced(True)
    traced(False)
    assert inside == {True: True, False: False}

    # The gradient compiled by XLA (the blocked path: 256 tokens, 2 heads)
    # is attention's.
    query, key, value, weights = (
        tf.constant(RNG.normal(size=(1, 256, 2, 4)), "float32")
        for _ in range(4)
    )

    def gradients(attention):
        with tf.GradientTape() as tape:
            tape.watch([query, key, value])
            outputs = attention(query, key, value, 0.5)
            loss = tf.reduce_sum(outputs * weights)
        return tape.gradient(loss, [query, key, value])

    compiled = tf.function(
        lambda: gradients(tf_backend.dot_product_attention), jit_compile=True
    )()
    plain = gradients(
        lambda q, k, v, s: keras.ops.dot_product_attention(q, k, v, scale=s)
    )
    for ours, theirs in zip(compiled, plain):
        np.testing.assert_allclose(
            ours.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-5
        )
