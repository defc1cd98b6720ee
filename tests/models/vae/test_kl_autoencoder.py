import keras
import numpy as np
import pytest

import kgen
from kgen.distributions import Independent
from kgen.distributions import Normal
from kgen.distributions import kl_divergence
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)


def autoencoder(**kwargs):
    networks = kgen.networks.kl_autoencoder_networks(
        SHAPE, latent_channels=2, filters=8, max_steps=1
    )
    return kgen.models.KLAutoencoder(*networks, seed=0, **kwargs)


def test_the_latent_keeps_the_image_layout():
    model = autoencoder()
    assert model.latent_shape == (4, 4, 2)
    assert model.data_shape == SHAPE
    images = np.random.default_rng(0).uniform(-1, 1, (3,) + SHAPE)
    posterior = model.encode(images.astype("float32"))
    assert tuple(posterior.mean().shape) == (3, 4, 4, 2)
    assert tuple(posterior.log_prob(posterior.mean()).shape) == (3,)
    assert tuple(model.sample(5, seed=1).shape) == (5,) + SHAPE


def test_the_kl_term_is_the_posteriors_divergence_from_the_prior():
    model = autoencoder(kl_weight=1.0, reconstruction_loss="mse")
    images = np.random.default_rng(1).uniform(-1, 1, (4,) + SHAPE)
    images = images.astype("float32")
    outputs = model(images)
    loss = model.compute_loss(images, y_pred=outputs, training=False)
    posterior = Independent(
        Normal(outputs["posterior_mean"], outputs["posterior_scale"]), 3
    )
    prior = Independent(
        Normal(keras.ops.zeros((4, 4, 2)), keras.ops.ones((4, 4, 2))), 3
    )
    reconstruction = np.sum(
        (images - to_numpy(outputs["reconstruction"])) ** 2, axis=(1, 2, 3)
    )
    expected = reconstruction + to_numpy(kl_divergence(posterior, prior))
    np.testing.assert_allclose(to_numpy(loss), expected.mean(), rtol=1e-5)


def test_fit_learns_to_reconstruct_digits():
    (images, _), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    images = images[:512]
    networks = kgen.networks.kl_autoencoder_networks(
        SHAPE, latent_channels=2, filters=16, max_steps=1
    )
    model = kgen.models.KLAutoencoder(*networks, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(images, batch_size=32, epochs=10, verbose=0)
    reconstructed = model.decode(model.encode(images[:64]).mean())
    error = np.mean(np.abs(to_numpy(reconstructed) - images[:64]))
    # Against the error of the mean digit (0.38): 0.15 measured.
    mean_image_error = np.mean(np.abs(images[:64] - images.mean(0)))
    assert error < 0.5 * mean_image_error


def test_bad_arguments_are_named():
    networks = kgen.networks.kl_autoencoder_networks(SHAPE, max_steps=1)
    with pytest.raises(ValueError, match="kl_weight"):
        kgen.models.KLAutoencoder(*networks, kl_weight=-1.0)
    with pytest.raises(ValueError, match="reconstruction_loss"):
        kgen.models.KLAutoencoder(*networks, reconstruction_loss="huber")
    with pytest.raises(ValueError, match="`z`"):
        autoencoder().decode(np.zeros((2, 3, 3, 2), "float32"))
