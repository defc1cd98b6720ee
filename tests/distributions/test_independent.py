import keras
import numpy as np
import pytest
from keras import ops

from kgen.distributions import Bernoulli
from kgen.distributions import Independent
from kgen.distributions import Normal
from tests.conftest import to_numpy
from tests.distributions.tfp_reference import tfp_distributions

LOC = np.linspace(-2.0, 2.0, 24, dtype="float32").reshape(2, 3, 4)
SCALE = np.linspace(0.2, 3.0, 24, dtype="float32").reshape(2, 3, 4)
VALUE = np.cos(np.arange(24, dtype="float32")).reshape(2, 3, 4)


@pytest.mark.parametrize("ndims", [0, 1, 2])
def test_log_prob_and_entropy_equal_tfp(ndims):
    tfd = tfp_distributions()
    ours = Independent(Normal(LOC, SCALE), ndims)
    theirs = tfd.Independent(tfd.Normal(LOC, SCALE), ndims)
    np.testing.assert_allclose(
        to_numpy(ours.log_prob(VALUE)),
        theirs.log_prob(VALUE).numpy(),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        to_numpy(ours.entropy()), theirs.entropy().numpy(), rtol=1e-5
    )
    assert ours.event_shape == tuple(theirs.event_shape)
    assert ours.batch_shape == tuple(theirs.batch_shape)


def test_default_reinterprets_all_but_the_first_axis():
    distribution = Independent(Bernoulli(logits=LOC))
    assert distribution.reinterpreted_batch_ndims == 2
    assert tuple(ops.shape(distribution.log_prob(VALUE > 0))) == (2,)


def test_rejects_too_many_event_dims():
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        Independent(Normal(LOC, SCALE), 4)


def test_serialization_round_trip():
    distribution = Independent(Normal(LOC, SCALE), 2)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(distribution)
    )
    np.testing.assert_allclose(
        to_numpy(restored.log_prob(VALUE)),
        to_numpy(distribution.log_prob(VALUE)),
    )
