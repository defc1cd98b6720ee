import keras
import numpy as np
import pytest

from kgen import samplers
from tests.conftest import to_numpy

PROBABILITIES = np.array([0.5, 0.3, 0.15, 0.05])
NUM_DRAWS = 4000


def draws(sampler, probabilities=PROBABILITIES, seed=(3, 4)):
    """`NUM_DRAWS` independent tokens: one row of logits per draw."""
    logits = np.tile(np.log(probabilities), (NUM_DRAWS, 1)).astype("float32")
    return to_numpy(
        sampler(
            keras.ops.convert_to_tensor(logits),
            keras.ops.convert_to_tensor(np.array(seed, "int32")),
        )
    )


def frequencies(tokens):
    return np.bincount(tokens, minlength=len(PROBABILITIES)) / len(tokens)


def test_greedy_takes_the_argmax():
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 2.0, 1.0]], "float32")
    np.testing.assert_array_equal(
        to_numpy(samplers.GreedySampler()(logits)), [1, 0]
    )


def test_random_sampler_matches_the_softmax():
    # Binomial standard error of a frequency at n=4000 is <= 0.008.
    np.testing.assert_allclose(
        frequencies(draws(samplers.RandomSampler())), PROBABILITIES, atol=0.03
    )
    # Temperature 0.5 squares the probabilities (renormalised).
    sharpened = PROBABILITIES**2 / np.sum(PROBABILITIES**2)
    np.testing.assert_allclose(
        frequencies(draws(samplers.RandomSampler(temperature=0.5))),
        sharpened,
        atol=0.03,
    )


def test_same_seed_same_tokens_other_seed_other_tokens():
    sampler = samplers.RandomSampler()
    np.testing.assert_array_equal(draws(sampler), draws(sampler))
    assert not np.array_equal(draws(sampler), draws(sampler, seed=(5, 6)))


def test_top_k_draws_among_the_k_most_likely():
    kept = PROBABILITIES[:2] / PROBABILITIES[:2].sum()
    np.testing.assert_allclose(
        frequencies(draws(samplers.TopKSampler(k=2))),
        np.concatenate([kept, [0, 0]]),
        atol=0.03,
    )


# p between the prefix masses (0.5, 0.8, 0.95, 1): at a mass exactly, the
# float32 softmax decides the tie either way.
@pytest.mark.parametrize(
    "p, kept_tokens", [(0.45, 1), (0.7, 2), (0.85, 3), (0.99, 4), (1.0, 4)]
)
def test_top_p_keeps_the_smallest_prefix_reaching_p(p, kept_tokens):
    tokens = draws(samplers.TopPSampler(p=p))
    assert tokens.max() == kept_tokens - 1
    kept = PROBABILITIES[:kept_tokens] / PROBABILITIES[:kept_tokens].sum()
    np.testing.assert_allclose(
        frequencies(tokens)[:kept_tokens], kept, atol=0.03
    )


def test_get_serialization_and_errors():
    for name, sampler_class in samplers.TOKEN_SAMPLERS.items():
        sampler = samplers.get(name)
        assert isinstance(sampler, sampler_class)
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(sampler)
        )
        assert type(restored) is sampler_class
        assert restored.get_config() == sampler.get_config()
    assert samplers.get("top_k", k=7).k == 7
    with pytest.raises(ValueError, match="Unknown token sampler"):
        samplers.get("beam")
    with pytest.raises(ValueError, match="temperature"):
        samplers.RandomSampler(temperature=0.0)
    with pytest.raises(ValueError, match="`k`"):
        samplers.TopKSampler(k=0)
    with pytest.raises(ValueError, match="`p`"):
        samplers.TopPSampler(p=0.0)
    with pytest.raises(ValueError, match="pass `seed`"):
        samplers.RandomSampler()(np.zeros((1, 3), "float32"))
