import keras
import numpy as np
import pytest
from keras import ops

import kgen
from kgen.models.diffusion import average_velocity_model
from kgen.models.diffusion.sampling_plan import SamplingPlan
from tests.conftest import randomise_weights
from tests.conftest import to_numpy
from tests.export.test_saved_model import served_labelled_sample
from tests.models.diffusion.guidance_checks import (
    assert_guidance_follows_its_interval,
)

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)
POINT = np.array([0.5, -1.0, 2.0], "float32")


@keras.saving.register_keras_serializable(package="kgen_tests")
class PointMassVelocity(keras.layers.Layer):
    """The exact average velocity towards data that is one point `m`: the
    paths are straight with constant speed, so for any `r <= t`

        u(z, r, t) = v(z, t) = (z - m) / t
    """

    def __init__(self, point, **kwargs):
        super().__init__(**kwargs)
        self.point = list(point)

    def call(self, inputs):
        z, times, _ = inputs
        times = ops.reshape(times, (-1, 1))
        return (z - ops.convert_to_tensor(self.point)) / times

    def get_config(self):
        return dict(super().get_config(), point=self.point)


def point_mass_model(**kwargs):
    z = keras.Input((3,))
    timesteps = keras.Input((), dtype="float32")
    step_sizes = keras.Input((), dtype="float32")
    velocity = PointMassVelocity(POINT)([z, timesteps, step_sizes])
    denoiser = keras.Model([z, timesteps, step_sizes], velocity)
    return kgen.models.MeanFlow(denoiser, seed=0, **kwargs)


def small_model(**kwargs):
    denoiser = kgen.networks.unet_denoiser(
        SHAPE,
        widths=(8,),
        num_classes=10,
        timestep_dtype="float32",
        step_size_input=True,
    )
    return kgen.models.MeanFlow(denoiser, num_classes=10, seed=0, **kwargs)


def test_the_exact_average_velocity_is_its_own_target():
    """The MeanFlow identity holds for the exact `u`: the JVP's tangents
    (v along z, 1 along t) and its sign are right, at every `r < t`."""
    model = point_mass_model(average_velocity_fraction=1.0)
    data = np.tile(POINT, (64, 1))
    outputs = model(data, training=True)
    prediction = to_numpy(outputs["prediction"])
    target = to_numpy(outputs["target"])
    assert np.abs(prediction).max() > 0.5
    np.testing.assert_allclose(prediction, target, rtol=1e-4, atol=1e-4)
    assert float(model.compute_loss(data, y_pred=outputs)) < 1e-8


def test_one_call_of_the_exact_velocity_lands_on_the_data():
    model = point_mass_model()
    for num_steps in (1, 3):
        samples = to_numpy(model.sample(5, seed=1, num_steps=num_steps))
        np.testing.assert_allclose(samples, np.tile(POINT, (5, 1)), atol=1e-5)


def test_the_loss_reads_as_the_squared_error():
    """The adaptive weight changes the gradient, not the reported value."""
    model = point_mass_model(average_velocity_fraction=0.5)
    data = np.tile(POINT, (16, 1))
    outputs = {
        "prediction": ops.convert_to_tensor(
            np.random.default_rng(0).normal(size=(16, 3)), "float32"
        ),
        "target": ops.zeros((16, 3)),
    }
    expected = np.mean(to_numpy(outputs["prediction"]) ** 2)
    loss = float(model.compute_loss(data, y_pred=outputs))
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


@pytest.mark.large  # a compiled JVP step: 40 s under TensorFlow
def test_training_reports_the_squared_error_and_lowers_it():
    (x, y), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    model = small_model()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(x[:256], y[:256], epochs=3, batch_size=64, verbose=0)
    losses = history.history["loss"]
    # The reported loss is the unweighted squared error (the weighted one
    # stays near 1): on data of unit scale it starts near E||v||**2 ~ 1.3.
    assert 0.3 < losses[0] < 3.0
    assert losses[-1] < 0.9 * losses[0]


def test_guidance_folded_into_training_changes_the_target():
    model = small_model(training_guidance_scale=2.0, condition_dropout=0.1)
    # Untrained, the unconditioned velocity is 0 (the zero-initialised
    # output layer): the guided target is (1 + w) v where labels are kept.
    images = np.random.default_rng(0).uniform(-1, 1, (8,) + SHAPE)
    labels = np.zeros(8, "int32")
    plain = small_model()
    keras.utils.set_random_seed(0)
    guided = model({"images": images, "labels": labels}, training=False)
    keras.utils.set_random_seed(0)
    unguided = plain({"images": images, "labels": labels}, training=False)
    np.testing.assert_allclose(
        to_numpy(guided["target"]),
        3.0 * to_numpy(unguided["target"]),
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.tensorflow_only
def test_exported_sample_serves_the_samplers_draw(tmp_path):
    model = small_model()
    randomise_weights(model.denoiser)
    labels = np.array([0, 2], "int32")
    _, noise, images = served_labelled_sample(model, SHAPE, labels, tmp_path)
    plan = SamplingPlan(None, model.sample_times(1))
    expected = plan.draw(model, average_velocity_model.jumps, noise, labels)
    np.testing.assert_allclose(images, to_numpy(expected), atol=1e-4)
    assert np.abs(images - np.clip(noise, -1, 1)).max() > 1e-2


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="step_size_input=True"):
        kgen.models.MeanFlow(
            kgen.networks.unet_denoiser(SHAPE, timestep_dtype="float32")
        )
    model = small_model()
    with pytest.raises(ValueError, match="average_velocity_fraction"):
        kgen.models.MeanFlow(
            model.denoiser, num_classes=10, average_velocity_fraction=1.5
        )
    with pytest.raises(ValueError, match="training_guidance_scale"):
        kgen.models.MeanFlow(
            model.denoiser, num_classes=10, training_guidance_scale=-1.0
        )
    with pytest.raises(ValueError, match="class-conditional"):
        point_mass_model(training_guidance_scale=1.0)
    with pytest.raises(ValueError, match="num_steps"):
        model.sample(2, num_steps=0)


def test_sampling_guidance_follows_its_interval():
    # Two levels: at widths (8,) each group norm holds one channel and
    # normalises the label's per-channel shift away.
    denoiser = kgen.networks.unet_denoiser(
        SHAPE,
        widths=(8, 16),
        num_heads=2,
        num_classes=10,
        timestep_dtype="float32",
        step_size_input=True,
    )
    randomise_weights(denoiser)
    model = kgen.models.MeanFlow(denoiser, num_classes=10, seed=0)

    def draw(**guidance):
        return to_numpy(
            model.sample(3, labels=[0, 1, 2], num_steps=4, seed=2, **guidance)
        )

    # Four jumps start from t = 1, 0.75, 0.5 and 0.25.
    assert_guidance_follows_its_interval(draw, nowhere=(0.8, 0.9))
    with pytest.raises(ValueError, match="class-conditional"):
        point_mass_model().sample(2, guidance_scale=1.0)
