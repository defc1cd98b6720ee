import keras
import numpy as np
from keras import ops

from kgen.distributions import Normal
from tests.conftest import to_numpy
from tests.distributions.tfp_reference import tfp_distributions

LOC = np.array([[0.0, 1.5, -3.0], [2.0, -0.5, 0.25]], "float32")
SCALE = np.array([[1.0, 0.3, 2.5], [0.05, 1.7, 4.0]], "float32")
VALUE = np.array([[0.3, 1.0, -9.0], [2.01, 3.0, 0.0]], "float32")


def test_log_prob_entropy_and_moments_equal_tfp():
    tfd = tfp_distributions()
    ours, theirs = Normal(LOC, SCALE), tfd.Normal(LOC, SCALE)
    for method in ("entropy", "mean", "stddev", "variance"):
        np.testing.assert_allclose(
            to_numpy(getattr(ours, method)()),
            getattr(theirs, method)().numpy(),
            rtol=1e-5,
            atol=1e-6,
        )
    np.testing.assert_allclose(
        to_numpy(ours.log_prob(VALUE)),
        theirs.log_prob(VALUE).numpy(),
        rtol=1e-5,
        atol=1e-5,
    )


def test_log_prob_matches_scipy_on_every_backend():
    from scipy import stats

    expected = stats.norm(LOC, SCALE).logpdf(VALUE)
    np.testing.assert_allclose(
        to_numpy(Normal(LOC, SCALE).log_prob(VALUE)), expected, rtol=1e-5
    )


def test_sample_shape_and_moments():
    distribution = Normal(np.float32(2.0), np.float32(0.5))
    samples = to_numpy(
        distribution.sample((20000,), seed=keras.random.SeedGenerator(0))
    )
    assert samples.shape == (20000,)
    assert abs(samples.mean() - 2.0) < 0.02
    assert abs(samples.std() - 0.5) < 0.02
    batch = Normal(LOC, SCALE).sample(7, seed=1)
    assert tuple(ops.shape(batch)) == (7, 2, 3)


def test_fixed_seed_reproduces_samples():
    distribution = Normal(LOC, SCALE)
    np.testing.assert_array_equal(
        to_numpy(distribution.sample(3, seed=42)),
        to_numpy(distribution.sample(3, seed=42)),
    )


def test_serialization_round_trip():
    distribution = Normal(LOC, SCALE)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(distribution)
    )
    assert isinstance(restored, Normal)
    np.testing.assert_array_equal(to_numpy(restored.scale), SCALE)
