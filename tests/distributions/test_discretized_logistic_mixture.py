import numpy as np

from kgen.distributions import DiscretizedLogisticMixture
from tests.conftest import to_numpy
from tests.distributions.tfp_reference import tfp_distributions

RNG = np.random.default_rng(0)
PIXELS = RNG.integers(0, 256, size=(4, 50)).astype("float32")
PIXELS[0, :3] = [0, 255, 128]  # both edge bins
LOGITS = RNG.normal(0, 1, size=(4, 50, 5)).astype("float32")
LOC = RNG.uniform(-0.1, 1.1, size=(4, 50, 5)).astype("float32")
SCALE = RNG.uniform(0.01, 0.3, size=(4, 50, 5)).astype("float32")


def test_log_prob_equals_tfp_mixture_of_quantized_logistics():
    tfd = tfp_distributions()
    reference = tfd.MixtureSameFamily(
        tfd.Categorical(logits=LOGITS),
        tfd.QuantizedDistribution(
            tfd.Logistic(LOC * 255.0 - 0.5, SCALE * 255.0), low=0.0, high=255.0
        ),
    )
    ours = DiscretizedLogisticMixture(LOGITS, LOC, SCALE).log_prob(
        PIXELS / 255.0
    )
    np.testing.assert_allclose(
        to_numpy(ours), reference.log_prob(PIXELS).numpy(), rtol=1e-4, atol=1e-4
    )


def test_level_logits_are_normalised_and_sampling_follows_them():
    mixture = DiscretizedLogisticMixture(
        np.array([[0.0, 1.0, -1.0]], "float32"),
        np.array([[0.2, 0.5, 0.97]], "float32"),
        np.array([[0.05, 0.1, 0.02]], "float32"),
        num_bins=16,
    )
    probabilities = np.exp(to_numpy(mixture.level_logits()))[0]
    assert probabilities.shape == (16,)
    np.testing.assert_allclose(probabilities.sum(), 1.0, atol=1e-5)
    draws = to_numpy(mixture.sample(20000, seed=3))[:, 0]
    levels = np.round(draws * 15).astype(int)
    np.testing.assert_allclose(draws * 15, levels, atol=1e-4)
    frequencies = np.bincount(levels, minlength=16) / len(levels)
    # Total variation; Monte Carlo error at 20,000 draws is about 0.01.
    assert 0.5 * np.abs(frequencies - probabilities).sum() < 0.02
    mean = (probabilities * np.arange(16) / 15).sum()
    assert abs(to_numpy(mixture.mean())[0] - mean) < 0.01
