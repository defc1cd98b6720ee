"""Closed-form checks of the step rules and their argument checks."""

import keras
import numpy as np
import pytest
from keras import ops

import kgen
from kgen import schedulers
from tests.conftest import to_numpy

MEAN, STD = 0.5, 0.3


@keras.saving.register_keras_serializable(package="kgen_tests")
class GaussianDenoiser(keras.layers.Layer):
    """The exact noise prediction `E[eps | x_t]` for data ~ N(MEAN, STD^2):

    ```
    x_t ~ N(sqrt(a) MEAN, a STD^2 + 1 - a),  a = alpha_bar_t
    E[eps | x_t] = sqrt(1 - a) (x_t - sqrt(a) MEAN) / (a STD^2 + 1 - a)
    ```
    """

    def __init__(self, alphas_cumprod, **kwargs):
        super().__init__(**kwargs)
        self.alphas_cumprod = [float(a) for a in alphas_cumprod]

    def call(self, inputs):
        noisy, timesteps = inputs
        alpha_bar = ops.take(
            ops.convert_to_tensor(self.alphas_cumprod), timesteps
        )[:, None]
        return (
            ops.sqrt(1.0 - alpha_bar)
            * (noisy - ops.sqrt(alpha_bar) * MEAN)
            / (alpha_bar * STD**2 + 1.0 - alpha_bar)
        )

    def get_config(self):
        return dict(super().get_config(), alphas_cumprod=self.alphas_cumprod)


def gaussian_model(**schedule):
    scheduler = schedulers.DDPMScheduler(**schedule)
    noisy = keras.Input((2,))
    timesteps = keras.Input((), dtype="int32")
    outputs = GaussianDenoiser(scheduler.alphas_cumprod)([noisy, timesteps])
    return kgen.models.DiffusionModel(
        keras.Model([noisy, timesteps], outputs), scheduler, seed=0
    )


@pytest.mark.parametrize(
    "sampler, num_steps",
    [
        ("ddpm", 1000),
        ("ddim", 200),
        ("dpm_solver", 50),
        ("euler", 200),
        ("euler_maruyama", 500),
    ],
)
def test_samplers_reach_the_data_distribution_with_the_exact_denoiser(
    sampler, num_steps
):
    # With the exact E[eps | x_t] of Gaussian data, every step rule must
    # land on N(MEAN, STD^2) once its steps are fine enough; 2,000 draws
    # give the mean to ~0.007. (Coarser runs shrink the spread: a last
    # step from t > 0 straight to E[x_0 | x_t] removes variance.)
    samples = to_numpy(
        gaussian_model().sample(
            2000, num_steps=num_steps, scheduler=sampler, seed=1
        )
    )
    assert abs(samples.mean() - MEAN) < 0.03
    assert abs(samples.std() - STD) < 0.02


def test_ddim_with_eta_one_is_the_ddpm_step():
    ddpm = schedulers.DDPMScheduler(clip_sample=False)
    ddim = schedulers.DDIMScheduler(eta=1.0, clip_sample=False)
    rng = np.random.default_rng(0)
    sample, output, noise = rng.normal(size=(3, 4, 5)).astype("float32")
    for t, previous in [(999, 979), (500, 480), (20, 0)]:
        a, _ = ddpm.step(output, t, previous, sample, noise=noise)
        b, _ = ddim.step(output, t, previous, sample, noise=noise)
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=1e-5)


@pytest.mark.parametrize(
    "prediction_type", ["epsilon", "sample", "v_prediction"]
)
def test_prediction_types_are_consistent(prediction_type):
    scheduler = schedulers.DDPMScheduler(prediction_type=prediction_type)
    rng = np.random.default_rng(1)
    original, noise = rng.normal(size=(2, 3, 4)).astype("float32")
    timesteps = np.array([0, 400, 999], "int32")
    noisy = scheduler.add_noise(original, noise, timesteps)
    target = scheduler.training_target(original, noise, timesteps)
    predicted_original, predicted_noise = scheduler.predict_original_and_noise(
        target, noisy, timesteps
    )
    np.testing.assert_allclose(to_numpy(predicted_noise), noise, atol=2e-4)
    np.testing.assert_allclose(
        to_numpy(predicted_original), original, atol=2e-3
    )
    output = scheduler.model_output_from_noise(noise, noisy, timesteps)
    np.testing.assert_allclose(to_numpy(output), to_numpy(target), atol=2e-3)


@pytest.mark.parametrize("name", sorted(schedulers.SCHEDULERS))
def test_config_round_trip(name):
    scheduler = schedulers.get(
        name, beta_schedule="cosine", num_train_timesteps=50
    )
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(scheduler)
    )
    assert type(restored) is type(scheduler)
    assert restored.get_config() == scheduler.get_config()
    np.testing.assert_array_equal(
        restored.alphas_cumprod, scheduler.alphas_cumprod
    )


def test_cosine_schedule_ends_near_zero_signal():
    scheduler = schedulers.DDPMScheduler(beta_schedule="cosine")
    assert scheduler.alphas_cumprod[-1] < 1e-4
    assert np.all(np.diff(scheduler.alphas_cumprod) < 0)


@pytest.mark.parametrize("num_steps", [0, 1001, 2.5, True])
def test_num_steps_outside_the_training_steps_raises(num_steps):
    with pytest.raises(ValueError, match="num_steps"):
        schedulers.DDIMScheduler().timesteps(num_steps)


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"prediction_type": "noise"}, "prediction_type"),
        ({"beta_schedule": "quadratic"}, "beta_schedule"),
        ({"timestep_spacing": "even"}, "timestep_spacing"),
        ({"num_train_timesteps": 1}, "num_train_timesteps"),
        ({"beta_start": 0.5, "beta_end": 0.1}, "beta_start"),
    ],
)
def test_bad_schedule_arguments_raise(arguments, match):
    with pytest.raises(ValueError, match=match):
        schedulers.DDPMScheduler(**arguments)


def test_unknown_sampler_name_raises():
    with pytest.raises(ValueError, match="Unknown scheduler"):
        schedulers.get("heun")
    with pytest.raises(ValueError, match="eta"):
        schedulers.DDIMScheduler(eta=2.0)
    with pytest.raises(ValueError, match="variance_type"):
        schedulers.DDPMScheduler(variance_type="learned")


def test_ddim_clipped_model_output_keeps_eq_12_consistent():
    scheduler = kgen.schedulers.get(
        "ddim", clip_sample=True, use_clipped_model_output=True
    )
    rng = np.random.default_rng(0)
    sample = rng.normal(size=(4, 3)).astype("float32")
    # A large eps, as guidance makes it: x_0 = (x - sqrt(1 - a) eps) /
    # sqrt(a) falls far outside [-1, 1] and is clipped.
    model_output = (5.0 * rng.normal(size=(4, 3))).astype("float32")
    timestep, previous = 500, 400
    x, _ = scheduler.step(model_output, timestep, previous, sample)
    alpha_bar = float(scheduler.alphas_cumprod[timestep])
    alpha_bar_prev = float(scheduler.alphas_cumprod[previous])
    original = np.clip(
        (sample - np.sqrt(1 - alpha_bar) * model_output) / np.sqrt(alpha_bar),
        -1,
        1,
    )
    epsilon = (sample - np.sqrt(alpha_bar) * original) / np.sqrt(1 - alpha_bar)
    expected = (
        np.sqrt(alpha_bar_prev) * original
        + np.sqrt(1 - alpha_bar_prev) * epsilon
    )
    np.testing.assert_allclose(to_numpy(x), expected, rtol=1e-4, atol=1e-5)
    plain = kgen.schedulers.get("ddim", clip_sample=True)
    assert not np.allclose(
        to_numpy(plain.step(model_output, timestep, previous, sample)[0]),
        expected,
    )
    assert scheduler.get_config()["use_clipped_model_output"] is True
