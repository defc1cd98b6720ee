import keras
import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import reloaded
from tests.conftest import to_numpy
from tests.models.gan import networks

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only


@pytest.fixture(scope="module")
def pairs():
    (low, high), _ = kgen.datasets.load_paired("superresolution", factor=2)
    return low[:128], high[:128]


def srgan(content_network=None):
    model = kgen.models.SRGAN(
        kgen.networks.srgan_generator(
            (4, 4, 1), factor=2, filters=8, num_residual_blocks=1
        ),
        kgen.networks.dcgan_discriminator((8, 8, 1), filters=8),
        content_network=content_network,
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    return model


def test_fit_with_a_content_network_that_stays_frozen(pairs, tmp_path):
    low, high = pairs
    inputs = keras.Input((8, 8, 1))
    features = keras.Model(
        inputs, keras.layers.Conv2D(4, 3, padding="same")(inputs)
    )
    frozen = [to_numpy(w) for w in features.weights]
    model = srgan(features)
    history = model.fit(low, high, batch_size=64, epochs=1, verbose=0)
    assert "content_loss" in history.history
    assert iterations(model.g_optimizer) == 2
    assert iterations(model.d_optimizer) == 2
    for before, after in zip(frozen, features.weights):
        np.testing.assert_array_equal(before, to_numpy(after))
    assert to_numpy(model.upscale(low[:3])).shape == (3, 8, 8, 1)
    restored = reloaded(model, tmp_path)
    np.testing.assert_allclose(
        to_numpy(restored.upscale(low[:2])),
        to_numpy(model.upscale(low[:2])),
        atol=1e-6,
    )


def test_pixel_content_and_wrong_sizes(pairs):
    low, high = pairs
    model = srgan()
    model.fit(low, high, batch_size=64, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"shape \(8, 8, 1\)"):
        model.fit(low, low, verbose=0)
    with pytest.raises(ValueError, match=r"shape \(4, 4, 1\)"):
        model.fit(high, high, verbose=0)
