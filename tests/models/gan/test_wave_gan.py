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


def test_the_critic_stays_bounded_because_the_penalty_sees_the_shuffles():
    # Two tones, one a class. With the penalty on the critic without its
    # phase shuffles (WGANGP's), the shuffled critic's scores grew past
    # 100 in these 64 steps and into the thousands soon after.
    rng = np.random.default_rng(0)
    t = np.arange(1024) / 8000.0
    labels = np.arange(128) % 2
    phases = rng.uniform(0, 2 * np.pi, (128, 1))
    frequencies = np.where(labels, 1000.0, 250.0)[:, None]
    clips = 0.8 * np.sin(2 * np.pi * frequencies * t + phases)[..., None]
    model = kgen.models.WaveGAN(
        audio_length=1024, model_size=8, num_classes=2, seed=0
    )
    model.compile(g_optimizer=_paper_adam(), d_optimizer=_paper_adam())
    history = model.fit(
        clips.astype("float32"), labels, batch_size=32, epochs=16, verbose=0
    )
    gap = history.history["d_real"][-1] - history.history["d_fake"][-1]
    assert abs(gap) < 100.0


def _paper_adam():
    return keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)
