import numpy as np
import pytest

import kgen
from kgen.networks.progressive_gates import growth_gates
from tests.conftest import iterations
from tests.conftest import reloaded
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only


def test_growth_gates():
    output, entry, chain = (to_numpy(g) for g in growth_gates(0, 0.3, 2))
    np.testing.assert_allclose(output, [1, 0, 0])
    np.testing.assert_allclose(entry, [1, 0, 0])
    np.testing.assert_allclose(chain[1:], [0, 0])  # level 0 has no block
    output, entry, chain = (to_numpy(g) for g in growth_gates(2, 0.25, 2))
    np.testing.assert_allclose(output, [0, 0.75, 0.25])
    np.testing.assert_allclose(entry, [0, 0.75, 1])
    np.testing.assert_allclose(chain, [1, 1, 0.25])


def test_grows_during_fit_and_round_trips(digits_symmetric, tmp_path):
    model = kgen.models.ProgressiveGAN((8, 8, 1), latent_dim=8, filters=8)
    model.compile()
    assert model.num_stages == 2
    growing = kgen.callbacks.ProgressiveGrowing(
        epochs_per_stage=2, fade_in_epochs=1
    )
    history = model.fit(
        digits_symmetric,
        batch_size=64,
        epochs=5,
        verbose=0,
        callbacks=[growing],
    )
    assert history.history["stage"] == [0, 0, 1, 1, 2]
    assert history.history["alpha"] == [1.0, 1.0, 0.5, 1.0, 0.5]
    assert iterations(model.d_optimizer) == 10
    assert np.isfinite(history.history["d_loss"]).all()
    assert to_numpy(model.sample(3, seed=0)).shape == (3, 8, 8, 1)
    restored = reloaded(model, tmp_path)
    assert float(to_numpy(restored.generator.stage)) == 2.0
    np.testing.assert_allclose(
        to_numpy(restored.sample(2, seed=1)),
        to_numpy(model.sample(2, seed=1)),
        atol=1e-6,
    )


def test_stage_zero_images_are_upsampled_base_resolution():
    model = kgen.models.ProgressiveGAN((8, 8, 1), latent_dim=4, filters=4)
    model.set_growth(0)
    images = to_numpy(model.sample(2, seed=0))
    # Base resolution 2x2, upsampled 4x: constant 4x4 blocks.
    blocks = images.reshape(2, 2, 4, 2, 4)
    np.testing.assert_allclose(
        blocks, blocks[:, :, :1, :, :1].repeat(4, 2).repeat(4, 4), atol=1e-6
    )
    with pytest.raises(ValueError, match="stage"):
        model.set_growth(3)
    with pytest.raises(ValueError, match="alpha"):
        model.set_growth(1, 1.5)
