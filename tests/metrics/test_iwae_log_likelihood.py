import numpy as np
import pytest

import kgen


@pytest.fixture(scope="module")
def vae():
    model = kgen.models.VAE(
        kgen.networks.vae_encoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        kgen.networks.vae_decoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        latent_dim=2,
        seed=3,
    )
    model(np.zeros((1, 8, 8, 1), "float32"))
    return model


def test_a_prefix_gets_the_same_estimates(vae, digits):
    images = kgen.datasets.binarize(digits[0][:12], seed=0)
    whole = kgen.metrics.iwae_log_likelihood(vae, images, 8, batch_size=4)
    prefix = kgen.metrics.iwae_log_likelihood(vae, images[:8], 8, batch_size=4)
    assert whole.shape == (12,) and np.all(np.isfinite(whole))
    np.testing.assert_array_equal(whole[:8], prefix)
    # The bound rises towards log p(x) with K (on average).
    one = kgen.metrics.iwae_log_likelihood(vae, images, 1, batch_size=4)
    assert whole.mean() >= one.mean()


def test_bad_counts_are_named(vae, digits):
    with pytest.raises(ValueError, match="`num_importance_samples`"):
        kgen.metrics.iwae_log_likelihood(vae, digits[0][:4], 0)
    with pytest.raises(ValueError, match="`batch_size`"):
        kgen.metrics.iwae_log_likelihood(vae, digits[0][:4], 2, batch_size=0)
