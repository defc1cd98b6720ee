import os

import keras
import numpy as np
import pytest

import kgen
from kgen import schedulers
from tests.conftest import iterations
from tests.conftest import reloaded
from tests.conftest import to_numpy
from tests.conftest import weights_of
from tests.export.test_saved_model import serve

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)
LATENT_DIM = 4


@pytest.fixture(scope="module")
def trained_vae():
    (x, _), _ = kgen.datasets.load("digits")
    vae = kgen.models.VAE(
        kgen.networks.vae_encoder(SHAPE, LATENT_DIM, 8, 32),
        kgen.networks.vae_decoder(SHAPE, LATENT_DIM, 8, 32),
        latent_dim=LATENT_DIM,
        seed=0,
    )
    vae.compile(optimizer="adam")
    vae.fit(x[:256], batch_size=64, epochs=2, verbose=0)
    return vae


def latent_diffusion(vae, num_classes=None):
    model = kgen.models.LatentDiffusion(
        vae,
        kgen.networks.mlp_denoiser(
            LATENT_DIM, hidden_dim=32, num_layers=2, num_classes=num_classes
        ),
        schedulers.DDPMScheduler(num_train_timesteps=20, beta_end=0.3),
        num_classes=num_classes,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_fit_trains_the_denoiser_only_and_samples_images(
    trained_vae, digits, tmp_path
):
    x, y = digits
    model = latent_diffusion(trained_vae, num_classes=10)
    vae_weights = weights_of(trained_vae)
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert iterations(model.optimizer) == 8
    for before, after in zip(vae_weights, weights_of(trained_vae)):
        np.testing.assert_array_equal(before, after)
    assert all(
        not any(v is w for w in model.trainable_variables)
        for v in trained_vae.weights
    )
    images = to_numpy(
        model.sample(
            3, num_steps=10, scheduler="ddim", labels=[1, 2, 3], seed=1
        )
    )
    assert images.shape == (3,) + SHAPE
    assert images.min() >= 0 and images.max() <= 1
    latents = to_numpy(model.encode(x[:5]))
    assert latents.shape == (5, LATENT_DIM)

    restored = reloaded(model, tmp_path)
    np.testing.assert_allclose(
        to_numpy(
            restored.sample(
                2, num_steps=5, scheduler="ddim", labels=[4, 5], seed=2
            )
        ),
        to_numpy(
            model.sample(
                2, num_steps=5, scheduler="ddim", labels=[4, 5], seed=2
            )
        ),
        atol=1e-5,
    )


def test_data_is_checked_in_the_autoencoders_range(trained_vae, digits):
    x, _ = digits
    model = latent_diffusion(trained_vae)
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\]"):
        model.fit(x * 2 - 1, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="latent_scale"):
        kgen.models.LatentDiffusion(
            trained_vae, model.denoiser, latent_scale=0.0
        )
    # Codes have no pixels to mask: the class has no `inpaint` at all.
    assert not hasattr(model, "inpaint")


@pytest.mark.tensorflow_only
def test_sample_endpoint_decodes(trained_vae, tmp_path):
    model = latent_diffusion(trained_vae)
    version_path = kgen.export.export_saved_model(
        model, os.path.join(tmp_path, "latent")
    )
    noise = np.random.default_rng(0).normal(size=(2, LATENT_DIM))
    served = serve(version_path, "sample", {"noise": noise.astype("float32")})
    (images,) = served.values()
    assert images.shape == (2,) + SHAPE
