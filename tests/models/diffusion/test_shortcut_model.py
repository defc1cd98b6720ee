import keras
import numpy as np
import pytest

import kgen
from tests.conftest import to_numpy
from tests.models.diffusion.test_mean_flow import POINT
from tests.models.diffusion.test_mean_flow import PointMassVelocity

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py).
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)


def point_mass_model(**kwargs):
    """The exact step towards data that is one point `m`: the paths are
    straight with constant speed, so every step size has the same
    average velocity `(z - m) / t`."""
    z = keras.Input((3,))
    timesteps = keras.Input((), dtype="float32")
    step_sizes = keras.Input((), dtype="float32")
    velocity = PointMassVelocity(POINT)([z, timesteps, step_sizes])
    denoiser = keras.Model([z, timesteps, step_sizes], velocity)
    return kgen.models.ShortcutModel(denoiser, seed=0, **kwargs)


@pytest.mark.parametrize("bootstrap_fraction", [0.0, 1.0])
def test_the_exact_step_is_its_own_target(bootstrap_fraction):
    """Two exact half steps make the exact full step, and at `d = 0` the
    exact step is the path's velocity: both targets hold for it."""
    model = point_mass_model(bootstrap_fraction=bootstrap_fraction)
    data = np.tile(POINT, (64, 1))
    outputs = model(data, training=True)
    prediction = to_numpy(outputs["prediction"])
    assert np.abs(prediction).max() > 0.5
    np.testing.assert_allclose(
        prediction, to_numpy(outputs["target"]), rtol=1e-4, atol=1e-4
    )
    assert float(model.compute_loss(data, y_pred=outputs)) < 1e-8


def test_bootstrap_steps_lie_on_their_grid():
    model = point_mass_model(num_base_steps=16, bootstrap_fraction=0.25)
    times, half_steps, bootstrap = map(to_numpy, model._draw_steps(8192))
    assert abs(bootstrap.mean() - 0.25) < 0.02
    np.testing.assert_array_equal(half_steps[~bootstrap], 0.0)
    h, t = half_steps[bootstrap], times[bootstrap]
    # h in {1/16, 1/8, 1/4, 1/2}, each level drawn about equally often.
    levels, counts = np.unique(h, return_counts=True)
    np.testing.assert_allclose(levels, [1 / 16, 1 / 8, 1 / 4, 1 / 2])
    assert counts.min() > 0.2 * bootstrap.sum()
    # t is a multiple of h in [2 h, 1], so both half steps stay on it.
    np.testing.assert_allclose(t / h, np.round(t / h), atol=1e-4)
    assert (t >= 2 * h - 1e-6).all() and (t <= 1.0 + 1e-6).all()
    assert times[~bootstrap].min() >= 0.0 and times[~bootstrap].max() < 1.0


def test_one_step_of_the_exact_velocity_lands_on_the_data():
    model = point_mass_model()
    for num_steps in (1, 4):
        samples = to_numpy(model.sample(5, seed=1, num_steps=num_steps))
        np.testing.assert_allclose(samples, np.tile(POINT, (5, 1)), atol=1e-5)


def test_training_lowers_the_loss_on_digits():
    (x, y), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    denoiser = kgen.networks.unet_denoiser(
        SHAPE,
        widths=(8,),
        num_classes=10,
        timestep_dtype="float32",
        step_size_input=True,
    )
    model = kgen.models.ShortcutModel(
        denoiser, num_base_steps=8, num_classes=10, seed=0
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(x[:256], y[:256], epochs=3, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.9 * losses[0]
    samples = to_numpy(model.sample(4, labels=[0, 1, 2, 3], seed=0))
    assert samples.shape == (4,) + SHAPE
    assert np.isfinite(samples).all() and np.abs(samples).max() <= 1.0


def test_bad_arguments_name_themselves():
    for bad in (1, 6, 0):
        with pytest.raises(ValueError, match="num_base_steps"):
            point_mass_model(num_base_steps=bad)
    with pytest.raises(ValueError, match="bootstrap_fraction"):
        point_mass_model(bootstrap_fraction=1.5)
    with pytest.raises(ValueError, match="num_steps"):
        point_mass_model().sample(2, num_steps=0)
