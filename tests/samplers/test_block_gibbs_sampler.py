import itertools

import keras
import numpy as np
import pytest

from kgen import samplers
from tests.conftest import to_numpy

# A tiny RBM in plain arrays, so the sampler is tested without the model.
RNG = np.random.default_rng(3)
KERNEL = RNG.normal(0, 1, (4, 3)).astype("float32")
VISIBLE_BIAS = RNG.normal(0, 1, 4).astype("float32")
HIDDEN_BIAS = RNG.normal(0, 1, 3).astype("float32")


def hidden_given_visible(visible):
    pre_activation = keras.ops.matmul(visible, KERNEL) + HIDDEN_BIAS
    return keras.ops.sigmoid(pre_activation)


def visible_given_hidden(hidden):
    pre_activation = keras.ops.matmul(hidden, KERNEL.T) + VISIBLE_BIAS
    return keras.ops.sigmoid(pre_activation)


class TinyRBM:
    """The target of a block Gibbs sampler: the two conditionals."""

    def __init__(self, hidden_probabilities, visible_probabilities):
        self.hidden_probabilities = hidden_probabilities
        self.visible_probabilities = visible_probabilities


TARGET = TinyRBM(hidden_given_visible, visible_given_hidden)


def exact_visible_distribution():
    """`p(v)` over the 16 visible states, by enumerating the hidden ones."""
    v = np.array(list(itertools.product((0.0, 1.0), repeat=4)))
    h = np.array(list(itertools.product((0.0, 1.0), repeat=3)))
    log_terms = (v @ VISIBLE_BIAS)[:, None] + (h @ HIDDEN_BIAS)[None]
    log_terms = log_terms + v @ KERNEL @ h.T
    log_p = np.logaddexp.reduce(log_terms, axis=1)
    return np.exp(log_p - np.logaddexp.reduce(log_p))


def seed(a=1, b=2):
    return keras.ops.convert_to_tensor(np.array([a, b], "int32"))


def start(num_chains):
    return np.zeros((num_chains, 4), "float32")


def run(sampler, initial, seed_tensor, num_steps=None):
    return to_numpy(
        sampler.run(TARGET, initial, seed_tensor, num_steps=num_steps)
    )


def test_chains_reach_the_exact_distribution():
    samples = run(samplers.BlockGibbsSampler(30), start(4000), seed())
    assert samples.shape == (4000, 4)
    assert samples.dtype == np.float32
    assert set(np.unique(samples)) <= {0.0, 1.0}
    codes = (samples @ (2 ** np.arange(3, -1, -1))).astype(int)
    frequencies = np.bincount(codes, minlength=16) / len(codes)
    # Total variation; its Monte Carlo error at 4,000 chains is ~0.03.
    total_variation = 0.5 * np.abs(frequencies - exact_visible_distribution())
    assert total_variation.sum() < 0.05


def test_seeds_are_reproducible_and_compose_step_by_step():
    sampler = samplers.BlockGibbsSampler(2)
    first = run(sampler, start(256), seed())
    np.testing.assert_array_equal(first, run(sampler, start(256), seed()))
    assert (first != run(sampler, start(256), seed(1, 3))).any()
    # Step k draws with seed + [0, 2k] and [0, 2k + 1]: two runs of one
    # step with the seed moved on by 2 equal one run of two steps.
    one = samplers.BlockGibbsSampler(1)
    halfway = run(one, start(256), seed())
    np.testing.assert_array_equal(first, run(one, halfway, seed(1, 4)))


def test_num_steps_overrides_the_sampler_s_own():
    short, longer = samplers.BlockGibbsSampler(1), samplers.BlockGibbsSampler(5)
    np.testing.assert_array_equal(
        run(short, start(64), seed(), num_steps=5),
        run(longer, start(64), seed()),
    )


def test_certain_conditionals_give_certain_states():
    def always_on(x):
        return keras.ops.ones_like(keras.ops.matmul(x, KERNEL))

    def always_off(x):
        return keras.ops.zeros_like(keras.ops.matmul(x, KERNEL.T))

    sampler = samplers.BlockGibbsSampler(3)
    on = TinyRBM(always_on, lambda h: 1.0 - always_off(h))
    ones = to_numpy(sampler.run(on, start(8), seed()))
    np.testing.assert_array_equal(ones, np.ones((8, 4)))
    off = TinyRBM(always_on, always_off)
    zeros = to_numpy(sampler.run(off, np.ones((8, 4)), [5, 6]))
    np.testing.assert_array_equal(zeros, np.zeros((8, 4)))


def test_config_round_trip():
    sampler = samplers.BlockGibbsSampler(num_steps=7)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(sampler)
    )
    assert isinstance(restored, samplers.BlockGibbsSampler)
    assert restored.get_config() == {"num_steps": 7}


@pytest.mark.parametrize("num_steps", [0, -1, 1.5, True, "3"])
def test_bad_num_steps_raise(num_steps):
    with pytest.raises(ValueError, match="num_steps"):
        samplers.BlockGibbsSampler(num_steps)
    with pytest.raises(ValueError, match="num_steps"):
        samplers.BlockGibbsSampler().run(
            TARGET,
            start(2),
            seed(),
            num_steps=num_steps,
        )
