import keras
import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import reloaded
from tests.conftest import to_numpy
from tests.distributions.tfp_reference import tfp_distributions

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)


def hierarchical_vae(decoder_skip=False):
    encoder = kgen.networks.vae_encoder(SHAPE, 8, 8, 32)  # 16 features
    model = kgen.models.HierarchicalVAE(
        encoder,
        kgen.networks.vae_decoder(SHAPE, 6 if decoder_skip else 4, 8, 32),
        latent_dims=(4, 2),
        hidden_dim=16,
        decoder_skip=decoder_skip,
        seed=0,
    )
    model.compile(optimizer="adam")
    return model


def test_fit_logs_per_layer_kl(digits):
    model = hierarchical_vae()
    history = model.fit(digits[0], batch_size=64, epochs=3, verbose=0)
    assert {"loss", "reconstruction_loss", "kl_z1", "kl_z2"} <= set(
        history.history
    )
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert iterations(model.optimizer) == 6


def test_iwae_bound_is_above_the_elbo(digits):
    model = hierarchical_vae()
    model.fit(digits[0], batch_size=64, epochs=3, verbose=0)
    x = digits[0][:64]
    elbo = np.mean([to_numpy(model.elbo(x, seed=s)).mean() for s in range(5)])
    assert to_numpy(model.log_likelihood(x, 30, seed=1)).mean() > elbo


@pytest.mark.tensorflow_only  # TFP as the reference
def test_kl_terms_equal_tfp(digits):
    tfd = tfp_distributions()
    model = hierarchical_vae()
    x = digits[0][:8]
    q_z2, z2, p_z1, q_z1, _, _ = model._pass(x, seed=3)
    _, kl_z1, kl_z2 = model.loss_terms(x, seed=3)

    def tfp_normal(distribution):
        return tfd.Independent(
            tfd.Normal(
                distribution.distribution.loc, distribution.distribution.scale
            ),
            1,
        )

    np.testing.assert_allclose(
        to_numpy(kl_z1),
        tfd.kl_divergence(tfp_normal(q_z1), tfp_normal(p_z1)).numpy(),
        rtol=1e-5,
        atol=1e-6,
    )
    standard = tfd.Independent(tfd.Normal(np.zeros(2, "float32"), 1.0), 1)
    np.testing.assert_allclose(
        to_numpy(kl_z2),
        tfd.kl_divergence(tfp_normal(q_z2), standard).numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_bad_latent_dims():
    with pytest.raises(ValueError, match="latent_dims"):
        kgen.models.HierarchicalVAE(
            kgen.networks.vae_encoder(SHAPE, 8),
            kgen.networks.vae_decoder(SHAPE, 4),
            latent_dims=(4,),
        )


def test_decoder_skip_fits_and_round_trips(digits, tmp_path):
    model = hierarchical_vae(decoder_skip=True)
    history = model.fit(digits[0], batch_size=64, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    config = model.get_config()
    assert config["decoder_skip"] is True
    assert tuple(config["latent_dims"]) == (4, 2)
    assert config["hidden_dim"] == 16
    restored = reloaded(model, tmp_path)
    assert restored.decoder_skip
    x = digits[0][:8]
    np.testing.assert_allclose(
        to_numpy(restored.log_likelihood(x, 10, seed=2)),
        to_numpy(model.log_likelihood(x, 10, seed=2)),
        rtol=1e-5,
    )


def test_prior_starts_standard_and_posterior_is_residual(digits):
    model = hierarchical_vae()
    x = digits[0][:8]
    _, z2, p_z1, q_z1, _, _ = model._pass(x, seed=3)
    # The zero-initialised prior head gives N(0, I) before training.
    np.testing.assert_allclose(to_numpy(p_z1.distribution.loc), 0.0)
    np.testing.assert_allclose(to_numpy(p_z1.distribution.scale), 1.0)
    model.fit(digits[0], batch_size=64, epochs=1, verbose=0)
    _, z2, p_z1, q_z1, _, _ = model._pass(x, seed=3)
    features = model.encoder(x)
    delta = to_numpy(
        model.z1_posterior(keras.ops.concatenate([features, z2], axis=-1))
    )
    delta_mean, delta_log_variance = np.split(delta, 2, axis=-1)
    np.testing.assert_allclose(
        to_numpy(q_z1.distribution.loc) - to_numpy(p_z1.distribution.loc),
        delta_mean,
        rtol=1e-4,
        atol=1e-5,
    )
    np.testing.assert_allclose(
        to_numpy(q_z1.distribution.scale) / to_numpy(p_z1.distribution.scale),
        np.exp(0.5 * delta_log_variance),
        rtol=1e-4,
    )


def test_int_seed_is_reproducible(digits):
    model = hierarchical_vae()
    x = digits[0][:8]
    np.testing.assert_allclose(
        to_numpy(model.elbo(x, seed=4)), to_numpy(model.elbo(x, seed=4))
    )
    np.testing.assert_allclose(
        to_numpy(model.sample(2, seed=4)), to_numpy(model.sample(2, seed=4))
    )
