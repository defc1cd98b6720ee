import keras
import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import reloaded
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)


def networks(latent_dim, moments=False):
    encoder = kgen.networks.vae_encoder(SHAPE, latent_dim, 8, 32)
    if not moments:
        # A plain autoencoder's encoder outputs the code itself.
        encoder = keras.Model(
            encoder.inputs, keras.layers.Dense(latent_dim)(encoder.output)
        )
    return encoder, kgen.networks.vae_decoder(SHAPE, latent_dim, 8, 32)


def test_beta_vae_capacity_grows(digits):
    encoder, decoder = networks(4, moments=True)
    model = kgen.models.BetaVAE(
        encoder, decoder, 4, beta=2.0, capacity_max=5.0, capacity_steps=4
    )
    model.compile(optimizer="adam")
    history = model.fit(digits[0], batch_size=64, epochs=2, verbose=0)
    assert iterations(model.optimizer) == 4
    assert float(to_numpy(model.step)) == 4.0
    assert float(to_numpy(model.capacity())) == pytest.approx(5.0)
    # Logged: the epoch mean of C(t) = 1.25 t at t = 0, 1, then 2, 3.
    assert history.history["capacity"] == pytest.approx([0.625, 3.125])
    with pytest.raises(ValueError, match="capacity_max"):
        kgen.models.BetaVAE(encoder, decoder, 4, capacity_max=-1.0)


def test_autoencoder_trains_and_samples_from_its_code_fit(digits):
    encoder, decoder = networks(3)
    model = kgen.models.Autoencoder(encoder, decoder, 3)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="fit it before sampling"):
        model.sample(2)
    history = model.fit(digits[0], batch_size=64, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert float(to_numpy(model.code_count)) == 3 * len(digits[0])
    samples = to_numpy(model.sample(5, seed=0))
    assert samples.shape == (5,) + SHAPE
    assert samples.min() >= 0 and samples.max() <= 1


def test_denoising_autoencoder_corrupts_only_in_training(digits, tmp_path):
    encoder, decoder = networks(3)
    model = kgen.models.DenoisingAutoencoder(
        encoder,
        decoder,
        3,
        reconstruction_loss="mse",
        corruption=keras.layers.Dropout(0.5, seed=1),
    )
    model.compile(optimizer="adam")
    model.fit(digits[0], batch_size=64, epochs=2, verbose=0)
    x = digits[0][:4]
    np.testing.assert_allclose(
        to_numpy(model(x)["codes"]), to_numpy(model.encode(x)), atol=1e-6
    )
    # The contract's round trip compares configs without the nested
    # networks, and the corruption never shows in samples: check it here.
    restored = reloaded(model, tmp_path)
    assert isinstance(restored.corruption, keras.layers.Dropout)
    with pytest.raises(ValueError, match="reconstruction_loss"):
        kgen.models.Autoencoder(encoder, decoder, 3, reconstruction_loss="l3")
