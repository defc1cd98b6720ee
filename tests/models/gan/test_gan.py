"""GAN: one `train_step` trains on TensorFlow, JAX and torch alike."""

import os

import keras
import numpy as np
import pytest

import kgen
from tests.conftest import BACKEND
from tests.conftest import iterations
from tests.conftest import to_numpy
from tests.conftest import weights_of

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

IMAGE_SHAPE = (8, 8, 1)
LATENT_DIM = 8


def small_gan(d_steps=1, cls=kgen.models.GAN):
    model = cls(
        generator=kgen.networks.dcgan_generator(
            IMAGE_SHAPE, LATENT_DIM, filters=8
        ),
        discriminator=kgen.networks.dcgan_discriminator(IMAGE_SHAPE, filters=8),
        latent_dim=LATENT_DIM,
        d_steps=d_steps,
        seed=3,
    )
    model.compile(
        g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
    )
    return model


@pytest.mark.all_backends
def test_fit_steps_both_optimizers_and_reports_losses(digits_symmetric):
    # `call(noise)` never sees the data: the model must build itself.
    model = small_gan()
    generator, discriminator = (
        weights_of(model.generator),
        weights_of(model.discriminator),
    )
    history = model.fit(digits_symmetric, batch_size=64, epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert iterations(model.g_optimizer) == 2
    assert iterations(model.d_optimizer) == 2
    if BACKEND == "jax":  # the stateful step runs under jax.jit
        assert model.jit_compile is True
    changed = lambda a, b: any(  # noqa: E731
        not np.array_equal(x, y) for x, y in zip(a, b)
    )
    assert changed(generator, weights_of(model.generator))
    assert changed(discriminator, weights_of(model.discriminator))


def test_d_steps_discriminator_updates_per_generator_update(digits_symmetric):
    model = small_gan(d_steps=3)
    model.fit(digits_symmetric, batch_size=64, epochs=1, verbose=0)
    assert iterations(model.g_optimizer) == 2
    assert iterations(model.d_optimizer) == 6


class DiscriminatorOnlyGAN(kgen.models.GAN):
    """Runs only the discriminator's half of each step."""

    def train_step(self, data):
        real, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        self.d_loss_tracker.update_state(self.discriminator_step(real))
        return {"d_loss": self.d_loss_tracker.result()}


def test_discriminator_step_leaves_generator_bit_identical(digits_symmetric):
    # The generator has BatchNormalization: its moving statistics must not
    # move either when the discriminator trains on its samples.
    model = small_gan(cls=DiscriminatorOnlyGAN)
    generator, discriminator = (
        weights_of(model.generator),
        weights_of(model.discriminator),
    )
    model.fit(digits_symmetric, batch_size=64, epochs=1, verbose=0)
    for before, after in zip(generator, weights_of(model.generator)):
        np.testing.assert_array_equal(before, after)
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(discriminator, weights_of(model.discriminator))
    )
    assert iterations(model.g_optimizer) == 0
    assert iterations(model.d_optimizer) == 2


def test_evaluate_reports_both_losses(digits_symmetric):
    model = small_gan()
    logs = model.evaluate(
        digits_symmetric, batch_size=64, verbose=0, return_dict=True
    )
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert np.isfinite(logs["d_loss"]) and np.isfinite(logs["g_loss"])
    assert iterations(model.d_optimizer) == 0


def test_sample_shape_and_seed(digits_symmetric):
    model = small_gan()
    samples = to_numpy(model.sample(5, seed=0))
    assert samples.shape == (5,) + IMAGE_SHAPE
    assert np.all(np.abs(samples) <= 1.0)
    np.testing.assert_array_equal(samples, to_numpy(model.sample(5, seed=0)))
    assert not np.array_equal(
        to_numpy(model.sample(5)), to_numpy(model.sample(5))
    )


def test_keras_round_trip_resumes_training(digits_symmetric, tmp_path):
    model = small_gan(d_steps=2)
    model.fit(digits_symmetric, batch_size=64, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "gan.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    # Optimizer state came back with the model: training resumes.
    assert iterations(restored.d_optimizer) == 4
    restored.fit(digits_symmetric, batch_size=64, epochs=1, verbose=0)
    assert iterations(restored.g_optimizer) == 4


def test_dcgan_builds_networks_from_image_shape(digits_symmetric):
    model = kgen.models.DCGAN(IMAGE_SHAPE, latent_dim=4, filters=8, seed=0)
    model.compile()
    model.fit(digits_symmetric, batch_size=64, epochs=1, verbose=0)
    assert tuple(model.get_config()["image_shape"]) == IMAGE_SHAPE


@pytest.mark.parametrize(
    "data, message",
    [
        (np.zeros((16, 8, 8), "float32"), "rank 4"),
        (np.zeros((16, 8, 8, 3), "float32"), r"shape \(8, 8, 1\)"),
        (np.full((16, 8, 8, 1), np.nan, "float32"), "non-finite"),
        (np.full((16, 8, 8, 1), "a"), "real numbers"),
        (np.zeros((0, 8, 8, 1), "float32"), "no examples"),
    ],
)
def test_bad_data_raises_before_any_step(data, message):
    model = small_gan()
    with pytest.raises(ValueError, match=message):
        model.fit(data, batch_size=8, epochs=1, verbose=0)
    assert iterations(model.d_optimizer) == 0


def test_dcgan_requires_data_in_tanh_range(digits):
    model = kgen.models.DCGAN(IMAGE_SHAPE, latent_dim=4, filters=8)
    model.compile()
    with pytest.raises(ValueError, match=r"\[-1.0, 1.0\]"):
        model.fit(digits[0] * 255.0, epochs=1, verbose=0)


@pytest.mark.parametrize(
    "argument, value", [("latent_dim", 0), ("d_steps", 0), ("d_steps", 1.5)]
)
def test_bad_hyper_parameters(argument, value):
    arguments = dict(
        generator=kgen.networks.dcgan_generator(IMAGE_SHAPE, 4, filters=8),
        discriminator=kgen.networks.dcgan_discriminator(IMAGE_SHAPE, filters=8),
        latent_dim=4,
    )
    arguments[argument] = value
    with pytest.raises(ValueError, match=argument):
        kgen.models.GAN(**arguments)
