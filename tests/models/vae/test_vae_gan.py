import keras
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import reloaded
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)


def vae_gan():
    model = kgen.models.VAEGAN(
        kgen.networks.vae_encoder(SHAPE, 4, 8, 32),
        kgen.networks.vae_decoder(SHAPE, 4, 8, 32),
        kgen.networks.dcgan_discriminator(
            SHAPE, filters=8, return_features=True
        ),
        latent_dim=4,
        seed=0,
    )
    model.compile(
        e_optimizer=keras.optimizers.Adam(1e-3),
        g_optimizer=keras.optimizers.Adam(1e-3),
        d_optimizer=keras.optimizers.Adam(1e-3),
    )
    return model


def test_fit_reports_losses_and_resumes_three_optimizers(digits, tmp_path):
    model = vae_gan()
    history = model.fit(digits[0], batch_size=64, epochs=2, verbose=0)
    assert set(history.history) == {
        "kl_loss",
        "feature_loss",
        "d_loss",
        "g_loss",
    }
    assert to_numpy(model(digits[0][:2])).shape == (2,) + SHAPE
    restored = reloaded(model, tmp_path)
    # Each of the three optimizers' state comes back with the model.
    for optimizer in (
        restored.e_optimizer,
        restored.g_optimizer,
        restored.d_optimizer,
    ):
        assert iterations(optimizer) == 4


def test_discriminator_must_return_features():
    with pytest.raises(ValueError, match="return_features"):
        kgen.models.VAEGAN(
            kgen.networks.vae_encoder(SHAPE, 4),
            kgen.networks.vae_decoder(SHAPE, 4),
            kgen.networks.dcgan_discriminator(SHAPE),
            latent_dim=4,
        )
