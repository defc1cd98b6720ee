"""Small networks and checks shared by the GAN tests."""

import os

import keras
import numpy as np

import kgen
from tests.conftest import to_numpy

IMAGE_SHAPE = (8, 8, 1)
LATENT_DIM = 8


def generator():
    return kgen.networks.dcgan_generator(IMAGE_SHAPE, LATENT_DIM, filters=8)


def critic(**kwargs):
    return kgen.networks.dcgan_discriminator(IMAGE_SHAPE, filters=8, **kwargs)


def adam():
    return keras.optimizers.Adam(1e-3, beta_1=0.5)


def assert_round_trip(model, tmp_path, **sample_kwargs):
    """`.keras` save/load gives the same class, config and samples."""
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is type(model)
    networks = ("generator", "discriminator")
    assert {
        k: v for k, v in restored.get_config().items() if k not in networks
    } == {k: v for k, v in model.get_config().items() if k not in networks}
    np.testing.assert_array_equal(
        to_numpy(model.sample(4, seed=5, **sample_kwargs)),
        to_numpy(restored.sample(4, seed=5, **sample_kwargs)),
    )
    return restored
