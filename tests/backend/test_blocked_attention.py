"""`kgen/backend/blocked_attention.py`: attention a group of heads at a
time is attention, forward and backward."""

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


@pytest.mark.parametrize("is_causal", [False, True])
@pytest.mark.parametrize("heads", [1, 6])
def test_blocked_attention_is_attention(is_causal, heads):
    query, key, value = (
        RNG.normal(size=(2, 9, heads, 4)).astype("float32") for _ in range(3)
    )
    np.testing.assert_allclose(
        to_numpy(
            blocked_attention.blocked_attention(
                query, key, value, 0.5, is_causal
            )
        ),
        reference(query, key, value, 0.5, is_causal),
        rtol=1e-5,
        atol=1e-5,
    )


def test_its_gradient_is_attentions():
    from kgen import backend

    query, key, value = (
        RNG.normal(size=(2, 7, 2, 4)).astype("float32") for _ in range(3)
    )

    def loss(function):
        return lambda q: keras.ops.sum(
            keras.ops.square(function(q, key, value, scale=0.5))
        )

    blocked = backend.grad(loss(blocked_attention.blocked_attention), query)
    plain = backend.grad(loss(keras.ops.dot_product_attention), query)
    np.testing.assert_allclose(
        to_numpy(blocked), to_numpy(plain), rtol=1e-4, atol=1e-5
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


@pytest.mark.parametrize("argument", [0, 1, 2])
def test_the_backends_attention_differentiates_as_its_formula(argument):
    # On JAX the softmax takes JAX's own derivative (softmax_custom_jvp),
    # not autodiff through exp / sum.
    from kgen import backend

    # Tensors: torch's tensor that needs a gradient refuses NumPy's product.
    *inputs, weights = (
        keras.ops.convert_to_tensor(RNG.normal(size=(2, 5, 2, 4)), "float32")
        for _ in range(4)
    )

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
