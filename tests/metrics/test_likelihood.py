import math
import re

import keras
import numpy as np
import pytest

import kgen
from tests.conftest import to_numpy


def test_bits_per_dim_converts_nats():
    assert float(to_numpy(kgen.metrics.bits_per_dim(64 * math.log(2), 64))) == (
        pytest.approx(1.0)
    )


def test_iwae_bound_is_log_mean_exp():
    log_weights = np.random.default_rng(0).normal(size=(50, 7)) * 3
    expected = np.log(np.mean(np.exp(log_weights), axis=0))
    np.testing.assert_allclose(
        to_numpy(kgen.metrics.iwae_bound(log_weights.astype("float32"))),
        expected,
        rtol=1e-5,
    )
    # K = 1: the ELBO itself. Jensen: the bound is >= the mean log weight.
    np.testing.assert_allclose(
        to_numpy(kgen.metrics.iwae_bound(log_weights[:1].astype("float32"))),
        log_weights[0],
        rtol=1e-6,
    )
    assert np.all(expected >= log_weights.mean(axis=0))


def test_negative_elbo_of_a_vae(digits):
    model = kgen.models.VAE(
        kgen.networks.vae_encoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        kgen.networks.vae_decoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        latent_dim=2,
    )
    value = float(
        to_numpy(kgen.metrics.negative_elbo(model, digits[0], 3, seed=1))
    )
    expected = np.mean(
        [to_numpy(-model.elbo(digits[0], seed=s)).mean() for s in (1, 2, 3)]
    )
    assert value == pytest.approx(expected, rel=1e-5)
    assert isinstance(model, keras.Model)


def test_nats_per_sample_is_the_mean_over_batches():
    model = kgen.models.WaveNet(
        num_levels=16,
        dilations=(1, 2),
        residual_channels=4,
        skip_channels=4,
        num_classes=3,
        seed=0,
    )
    x = np.random.default_rng(0).integers(0, 16, (7, 12)).astype("int32")
    labels = np.arange(7) % 3
    expected = to_numpy(model.nats_per_sample(x, labels=labels)).mean()
    nats = kgen.metrics.nats_per_sample(model, x, labels, batch_size=3)
    np.testing.assert_allclose(nats, expected, rtol=1e-5)
    with pytest.raises(ValueError, match="nats_per_sample"):
        kgen.metrics.nats_per_sample(object(), x)


@pytest.mark.parametrize(
    "metric, method",
    [
        ("negative_log_likelihood", "log_prob(x)"),
        ("nats_per_sample", "nats_per_sample(x, *, labels)"),
        ("negative_elbo", "elbo(x, seed)"),
    ],
)
def test_a_model_without_the_metrics_method_is_refused(metric, method):
    with pytest.raises(
        ValueError, match=re.escape(f"must have the method `{method}`")
    ):
        getattr(kgen.metrics, metric)(object(), np.zeros((2, 3)))
