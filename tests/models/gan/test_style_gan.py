import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import to_numpy
from tests.models.gan import networks

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

LATENT_DIM = 8


def style_gan(**kwargs):
    model = kgen.models.StyleGAN(
        kgen.networks.stylegan_mapping(LATENT_DIM, num_layers=2),
        kgen.networks.stylegan_synthesis((8, 8, 1), LATENT_DIM, filters=8),
        networks.critic(),
        latent_dim=LATENT_DIM,
        seed=1,
        **kwargs,
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    return model


def test_fit_updates_the_average_style(digits_symmetric):
    model = style_gan(w_average_decay=0.5)
    history = model.fit(digits_symmetric, batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["g_loss"][-1])
    assert iterations(model.g_optimizer) == 2
    assert iterations(model.d_optimizer) == 2
    assert np.abs(to_numpy(model.w_average)).sum() > 0


def test_truncation_zero_gives_the_average_style(digits_symmetric):
    model = style_gan(w_average_decay=0.0)
    model.fit(digits_symmetric[:64], batch_size=64, epochs=1, verbose=0)
    noise = np.random.default_rng(0).normal(size=(4, LATENT_DIM))
    noise = noise.astype("float32")
    styles = to_numpy(model.styles(noise, truncation_psi=0.0))
    np.testing.assert_allclose(
        styles,
        np.broadcast_to(to_numpy(model.w_average), styles.shape),
        atol=1e-6,
    )
    # Inference noise is fixed, so equal styles render equal images.
    images = to_numpy(model.sample(4, seed=3, truncation_psi=0.0))
    np.testing.assert_allclose(images, images[:1].repeat(4, axis=0), atol=1e-5)
    untruncated = to_numpy(model.sample(4, seed=3, truncation_psi=1.0))
    assert not np.allclose(untruncated[0], untruncated[1])


def test_style_mixing_takes_coarse_and_fine_layers_from_each_code():
    model = style_gan()
    rng = np.random.default_rng(1)
    a = rng.normal(size=(2, LATENT_DIM)).astype("float32")
    b = rng.normal(size=(2, LATENT_DIM)).astype("float32")
    layers = model.num_style_layers
    np.testing.assert_allclose(
        to_numpy(model.mix_styles(a, b, crossover=layers)),
        to_numpy(model.synthesize(a)),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        to_numpy(model.mix_styles(a, b, crossover=0)),
        to_numpy(model.synthesize(b)),
        atol=1e-6,
    )
    mixed = to_numpy(model.mix_styles(a, b, crossover=2))
    assert mixed.shape == (2, 8, 8, 1)
    with pytest.raises(ValueError, match="crossover"):
        model.mix_styles(a, b, crossover=layers + 1)
