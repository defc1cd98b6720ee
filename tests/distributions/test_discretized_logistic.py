import keras
import numpy as np

from kgen.distributions import DiscretizedLogistic
from tests.conftest import to_numpy
from tests.distributions.tfp_reference import tfp_distributions

RNG = np.random.default_rng(0)
PIXELS = RNG.integers(0, 256, size=(4, 50)).astype("float32")
PIXELS[0, :3] = [0, 255, 128]  # both edge bins
LOC = RNG.uniform(-0.1, 1.1, size=(4, 50)).astype("float32")
SCALE = RNG.uniform(0.01, 0.3, size=(4, 50)).astype("float32")


def test_log_prob_equals_tfp_quantized_logistic():
    tfd = tfp_distributions()
    reference = tfd.QuantizedDistribution(
        tfd.Logistic(LOC * 255.0 - 0.5, SCALE * 255.0), low=0.0, high=255.0
    )
    ours = DiscretizedLogistic(LOC, SCALE).log_prob(PIXELS / 255.0)
    np.testing.assert_allclose(
        to_numpy(ours), reference.log_prob(PIXELS).numpy(), rtol=1e-4, atol=1e-4
    )


def test_masses_sum_to_one_over_all_bins():
    grid = np.arange(256, dtype="float32")[:, None] / 255.0
    distribution = DiscretizedLogistic(
        np.array([0.2, 0.97], "float32"), np.array([0.05, 0.02], "float32")
    )
    masses = np.exp(to_numpy(distribution.log_prob(grid)))
    np.testing.assert_allclose(masses.sum(axis=0), 1.0, atol=1e-4)


def test_samples_lie_on_the_pixel_grid():
    distribution = DiscretizedLogistic(
        np.full(1000, 0.5, "float32"), np.full(1000, 0.1, "float32")
    )
    samples = to_numpy(distribution.sample(seed=keras.random.SeedGenerator(1)))
    np.testing.assert_allclose(
        samples * 255, np.round(samples * 255), atol=1e-3
    )
    assert abs(samples.mean() - 0.5) < 0.02
