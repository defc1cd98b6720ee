import keras
import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.models.gan import networks

# One backend proves these: the step is WGANGP's, run on every backend by
# the contract harness.
pytestmark = pytest.mark.torch_only


def _clips(n=8, length=1024):
    t = np.arange(length) / 8000.0
    tones = np.sin(2 * np.pi * np.arange(1, n + 1)[:, None] * 100 * t)
    return (0.5 * tones[..., None]).astype("float32")


def test_fits_with_the_critic_updated_n_critic_times_per_step():
    model = kgen.models.WaveGAN(
        audio_length=1024, latent_dim=4, model_size=1, n_critic=3, seed=0
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    history = model.fit(_clips(), batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][-1])
    assert iterations(model.d_optimizer) == 6
    assert iterations(model.g_optimizer) == 2
    clips = keras.ops.convert_to_numpy(model.sample(3, seed=0))
    assert clips.shape == (3, 1024, 1) and np.abs(clips).max() <= 1.0
    assert model.data_shape == (1024, 1) and model.data_range == (-1.0, 1.0)


def test_config_has_its_own_arguments_and_rebuilds_the_same_networks():
    model = kgen.models.WaveGAN(
        audio_length=2048,
        latent_dim=4,
        model_size=2,
        phase_shuffle=1,
        upsampling="nearest",
        num_classes=3,
        seed=0,
    )
    config = model.get_config()
    assert "generator" not in config and "discriminator" not in config
    again = kgen.models.WaveGAN.from_config(config)
    assert again.generator.count_params() == model.generator.count_params()
    shuffles = [
        layer.radius
        for layer in again.discriminator.layers
        if isinstance(layer, kgen.layers.PhaseShuffle)
    ]
    assert shuffles == [1] * 4


def test_rejects_a_length_five_stages_cannot_make():
    with pytest.raises(ValueError, match="audio_length"):
        kgen.models.WaveGAN(audio_length=6000)
