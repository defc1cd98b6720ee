import keras
import numpy as np
import pytest

from kgen import samplers
from tests.conftest import to_numpy

MEAN = np.array([1.0, -2.0], "float32")
COVARIANCE = np.array([[1.0, 0.6], [0.6, 0.8]], "float32")
PRECISION = np.linalg.inv(COVARIANCE).astype("float32")
NUM_CHAINS = 4000


def gaussian_energy(x):
    """`E(x) = (x - mu)**T P (x - mu) / 2`: p ~ N(mu, P**-1)."""
    centred = x - keras.ops.convert_to_tensor(MEAN)
    precision = keras.ops.convert_to_tensor(PRECISION)
    return 0.5 * keras.ops.sum(
        keras.ops.matmul(centred, precision) * centred, axis=-1
    )


def start():
    return np.random.default_rng(0).normal(0, 3, (NUM_CHAINS, 2))


def seed(a=1, b=2):
    return keras.ops.convert_to_tensor(np.array([a, b], "int32"))


def check_moments(x, atol):
    # Monte Carlo error of the moments at 4,000 chains is about 0.02.
    np.testing.assert_allclose(x.mean(0), MEAN, atol=atol)
    np.testing.assert_allclose(np.cov(x.T), COVARIANCE, atol=atol)


def test_langevin_samples_a_gaussian_energy():
    # Unadjusted: the stationary covariance is off by O(step size), about
    # 5% of the narrow axis' variance (0.015) at 0.03. 300 steps shrink
    # the start's spread along the wide axis by exp(-6) (0.03 * 300 /
    # 1.51, its variance).
    sampler = samplers.LangevinSampler(step_size=0.03, num_steps=300)
    x = to_numpy(sampler.run(gaussian_energy, start(), seed()))
    check_moments(x, atol=0.08)
    again = to_numpy(sampler.run(gaussian_energy, start(), seed()))
    np.testing.assert_array_equal(x, again)


def test_mala_is_exact_at_a_large_step():
    sampler = samplers.MetropolisAdjustedLangevin(step_size=0.3, num_steps=150)
    x, results = sampler.run(
        gaussian_energy, start(), seed(), return_kernel_results=True
    )
    check_moments(to_numpy(x), atol=0.08)
    acceptance = to_numpy(results["acceptance_rate"])
    assert acceptance.shape == (NUM_CHAINS,)
    np.testing.assert_array_equal(
        to_numpy(sampler.run(gaussian_energy, start(), seed())), to_numpy(x)
    )
    assert 0.3 < acceptance.mean() < 0.95
    # Unadjusted Langevin at the same step is visibly biased.
    biased = samplers.LangevinSampler(step_size=0.3, num_steps=150)
    y = to_numpy(biased.run(gaussian_energy, start(), seed()))
    assert np.abs(np.cov(y.T) - COVARIANCE).max() > 0.2


def test_clipping_options_and_configs():
    sampler = samplers.LangevinSampler(
        step_size=0.1,
        num_steps=5,
        noise_scale=0.0,
        gradient_clip=0.5,
        clip_range=(-1.0, 1.0),
    )
    x = to_numpy(sampler.run(gaussian_energy, start()[:8], seed()))
    assert np.abs(x).max() <= 1.0
    for instance in (sampler, samplers.MetropolisAdjustedLangevin(0.2, 7)):
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(instance)
        )
        assert restored.get_config() == instance.get_config()


def test_bad_arguments():
    with pytest.raises(ValueError, match="step_size"):
        samplers.LangevinSampler(step_size=0.0)
    with pytest.raises(ValueError, match="num_steps"):
        samplers.LangevinSampler(num_steps=0)
    with pytest.raises(ValueError, match="noise_scale"):
        samplers.LangevinSampler(noise_scale=-1.0)
    with pytest.raises(ValueError, match="step_size"):
        samplers.MetropolisAdjustedLangevin(step_size=-0.1)


def test_every_kernel_has_one_interface():
    """The same `run(target, initial_state, seed, num_steps,
    return_kernel_results)` for every kernel: steps compose (two runs of
    one step with the seed moved on equal one run of two steps)."""
    for sampler in (
        samplers.LangevinSampler(step_size=0.05, num_steps=2),
        samplers.MetropolisAdjustedLangevin(step_size=0.05, num_steps=2),
    ):
        assert isinstance(sampler, samplers.MarkovChainSampler)
        initial = start()[:16]
        both = to_numpy(sampler.run(gaussian_energy, initial, seed()))
        half = sampler.run(gaussian_energy, initial, seed(), num_steps=1)
        step = sampler.draws_per_step
        again = sampler.run(gaussian_energy, half, seed(1, 2 + step), 1)
        np.testing.assert_allclose(to_numpy(again), both, rtol=1e-5, atol=1e-5)
        _, results = sampler.run(
            gaussian_energy, initial, seed(), return_kernel_results=True
        )
        assert isinstance(results, dict)
