import os

import keras
import numpy as np
import pytest

import kgen
from kgen import schedulers
from tests.conftest import reloaded
from tests.conftest import to_numpy
from tests.export.test_saved_model import serve

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)
SCHEDULE = {"num_train_timesteps": 20, "beta_end": 0.3}


def stage(base=None, condition_noise=0.1):
    model = kgen.models.CascadedDiffusion(
        kgen.networks.unet_denoiser(
            SHAPE, widths=(8, 16), num_heads=2, condition_channels=1
        ),
        schedulers.DDPMScheduler(**SCHEDULE),
        base=base,
        condition_noise=condition_noise,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_super_resolves_and_samples_through_its_base(
    digits_symmetric, tmp_path
):
    x = digits_symmetric
    base = kgen.models.DiffusionModel(
        kgen.networks.mlp_denoiser(16, hidden_dim=16, num_layers=1),
        schedulers.DDPMScheduler(**SCHEDULE),
        seed=0,
    )
    model = stage(base=base)
    history = model.fit(x, batch_size=32, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    low = to_numpy(model.downsample(x[:3]))
    assert low.shape == (3, 4, 4, 1)
    np.testing.assert_allclose(low[0, 0, 0, 0], x[0, :2, :2].mean(), 1e-5)
    high = to_numpy(
        model.super_resolve(low, num_steps=5, scheduler="ddim", seed=1)
    )
    assert high.shape == (3,) + SHAPE and np.abs(high).max() <= 1

    # A base whose samples have the wrong shape is caught by name.
    with pytest.raises(ValueError, match="condition"):
        model.sample(2, num_steps=5, scheduler="ddim", seed=1)
    restored = reloaded(model, tmp_path)
    assert isinstance(restored.base, kgen.models.DiffusionModel)
    np.testing.assert_allclose(
        to_numpy(
            restored.super_resolve(low, num_steps=5, scheduler="ddim", seed=2)
        ),
        to_numpy(
            model.super_resolve(low, num_steps=5, scheduler="ddim", seed=2)
        ),
        atol=1e-5,
    )


def test_base_samples_feed_the_stage(digits_symmetric):
    (low_x, _), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    low_x = to_numpy(
        keras.ops.average_pool(low_x[:64], 2, strides=2, padding="valid")
    )
    base = kgen.models.DiffusionModel(
        kgen.networks.unet_denoiser((4, 4, 1), widths=(8,), num_heads=2),
        schedulers.DDPMScheduler(**SCHEDULE),
        seed=0,
    )
    base.compile(optimizer="adam")
    base.fit(low_x, batch_size=32, epochs=1, verbose=0)
    model = stage(base=base)
    images = to_numpy(model.sample(2, num_steps=5, scheduler="ddim", seed=3))
    assert images.shape == (2,) + SHAPE


def test_bad_conditions_raise(digits_symmetric):
    model = stage()
    with pytest.raises(ValueError, match="base"):
        model.sample(2, num_steps=5)
    with pytest.raises(ValueError, match="condition"):
        model.sample(2, num_steps=5, condition=np.zeros((2, 8, 8, 1)))
    with pytest.raises(ValueError, match="one per sample"):
        model.sample(3, num_steps=5, condition=np.zeros((2, 4, 4, 1)))
    with pytest.raises(ValueError, match="condition_noise"):
        stage(condition_noise=-1.0)
    with pytest.raises(ValueError, match="3 inputs"):
        kgen.models.CascadedDiffusion(
            kgen.networks.unet_denoiser(SHAPE, widths=(8,), num_heads=2)
        )


@pytest.mark.tensorflow_only
def test_sample_endpoint_super_resolves(tmp_path):
    model = stage()
    version_path = kgen.export.export_saved_model(
        model, os.path.join(tmp_path, "cascade")
    )
    rng = np.random.default_rng(0)
    inputs = {
        "noise": rng.normal(size=(2,) + SHAPE).astype("float32"),
        "low_resolution": rng.uniform(-1, 1, (2, 4, 4, 1)).astype("float32"),
    }
    served = serve(version_path, "sample", inputs)
    (images,) = served.values()
    assert images.shape == (2,) + SHAPE
