import keras
import numpy as np
import pytest
from keras import ops

from kgen.distributions import Bernoulli
from tests.conftest import to_numpy
from tests.distributions.tfp_reference import tfp_distributions

LOGITS = np.array([[-30.0, -2.0, 0.0], [0.7, 5.0, 40.0]], "float32")
# Binary values and grey levels: VAEs apply Bernoulli to [0, 1] pixels.
VALUES = np.array([[0.0, 1.0, 1.0], [0.25, 0.0, 0.9]], "float32")


def test_log_prob_entropy_and_mean_equal_tfp():
    tfd = tfp_distributions()
    ours, theirs = Bernoulli(logits=LOGITS), tfd.Bernoulli(logits=LOGITS)
    binary = (VALUES > 0.5).astype("float32")
    np.testing.assert_allclose(
        to_numpy(ours.log_prob(binary)),
        theirs.log_prob(binary).numpy(),
        rtol=1e-5,
        atol=1e-5,
    )
    # Grey levels: TFP's float-dtype Bernoulli evaluates them unrounded.
    grey = tfd.Bernoulli(logits=LOGITS, dtype="float32")
    np.testing.assert_allclose(
        to_numpy(ours.log_prob(VALUES)),
        grey.log_prob(VALUES).numpy(),
        rtol=1e-5,
        atol=1e-5,
    )
    for method in ("entropy", "mean", "variance"):
        np.testing.assert_allclose(
            to_numpy(getattr(ours, method)()),
            getattr(theirs, method)().numpy(),
            rtol=1e-5,
            atol=1e-6,
        )


def test_probs_and_logits_agree():
    probs = np.array([0.1, 0.5, 0.8], "float32")
    from_probs = Bernoulli(probs=probs)
    from_logits = Bernoulli(logits=np.log(probs / (1 - probs)))
    values = np.array([1.0, 0.0, 1.0], "float32")
    np.testing.assert_allclose(
        to_numpy(from_probs.log_prob(values)),
        to_numpy(from_logits.log_prob(values)),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        to_numpy(from_probs.log_prob(values)),
        np.log([0.1, 0.5, 0.8]),
        rtol=1e-5,
    )


def test_sample_frequency_and_dtype():
    distribution = Bernoulli(probs=np.float32(0.3))
    samples = to_numpy(
        distribution.sample(20000, seed=keras.random.SeedGenerator(3))
    )
    assert samples.dtype == np.int32
    assert set(np.unique(samples)) <= {0, 1}
    assert abs(samples.mean() - 0.3) < 0.015
    assert tuple(ops.shape(Bernoulli(logits=LOGITS).sample(4, seed=0))) == (
        4,
        2,
        3,
    )


def test_needs_exactly_one_parameter():
    with pytest.raises(ValueError, match="exactly one of `logits` and `probs`"):
        Bernoulli()
    with pytest.raises(ValueError, match="exactly one of `logits` and `probs`"):
        Bernoulli(logits=0.0, probs=0.5)
