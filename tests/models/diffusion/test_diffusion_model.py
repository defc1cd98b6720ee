import keras
import numpy as np
import pytest

import kgen
from kgen import schedulers
from kgen.models.diffusion import diffusion_sampling
from kgen.models.diffusion.guidance import Guidance
from tests.conftest import iterations
from tests.conftest import to_numpy
from tests.export.test_saved_model import saved_model_library
from tests.export.test_saved_model import served_labelled_sample
from tests.models.diffusion.guidance_checks import (
    assert_guidance_follows_its_interval,
)
from tests.schedulers.test_schedulers import gaussian_model

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)
# A short schedule keeps sampling loops and the exact bound cheap.
SCHEDULE = {"num_train_timesteps": 20, "beta_end": 0.3}


@pytest.fixture(scope="module")
def labelled_digits():
    (x, y), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    return x[:128], y[:128]


def diffusion_model(num_classes=None, prediction_type="epsilon"):
    denoiser = kgen.networks.unet_denoiser(
        SHAPE, widths=(8, 16), num_heads=2, num_classes=num_classes
    )
    model = kgen.models.DiffusionModel(
        denoiser,
        schedulers.DDPMScheduler(**SCHEDULE),
        prediction_type=prediction_type,
        num_classes=num_classes,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


@pytest.fixture(scope="module")
def conditional_model(labelled_digits):
    x, y = labelled_digits
    model = diffusion_model(num_classes=10)
    model.fit(x, y, batch_size=64, epochs=2, verbose=0)
    return model


@pytest.mark.parametrize(
    "prediction_type", ["epsilon", "sample", "v_prediction"]
)
def test_fit_each_prediction_type(labelled_digits, prediction_type):
    x, _ = labelled_digits
    model = diffusion_model(prediction_type=prediction_type)
    history = model.fit(x, batch_size=32, epochs=3, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    assert iterations(model.optimizer) == 12
    assert model.scheduler.prediction_type == prediction_type
    logs = model.evaluate(x, batch_size=64, verbose=0, return_dict=True)
    assert np.isfinite(logs["loss"])


@pytest.mark.parametrize("sampler", sorted(schedulers.SCHEDULERS))
def test_every_sampler_draws_finite_images(conditional_model, sampler):
    images = to_numpy(
        conditional_model.sample(
            3, num_steps=5, scheduler=sampler, labels=2, seed=1
        )
    )
    assert images.shape == (3,) + SHAPE and np.isfinite(images).all()
    again = to_numpy(
        conditional_model.sample(
            3, num_steps=5, scheduler=sampler, labels=2, seed=1
        )
    )
    np.testing.assert_allclose(images, again, atol=1e-5)


def test_guidance_changes_samples_and_ema_optimizer_trains(labelled_digits):
    x, y = labelled_digits
    model = diffusion_model(num_classes=10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, use_ema=True))
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    plain = to_numpy(
        model.sample(2, num_steps=4, scheduler="ddim", labels=[3, 4], seed=2)
    )
    guided = to_numpy(
        model.sample(
            2,
            num_steps=4,
            scheduler="ddim",
            labels=[3, 4],
            guidance_scale=3.0,
            seed=2,
        )
    )
    assert not np.allclose(plain, guided)


def test_classifier_guidance_moves_samples_up_the_classifier(
    conditional_model,
):
    inputs = keras.Input(SHAPE)
    timesteps = keras.Input((), dtype="int32")
    logits = keras.layers.Dense(10)(keras.layers.Flatten()(inputs))
    classifier = keras.Model([inputs, timesteps], logits)
    labels = np.array([0, 5, 9])

    def log_likelihood(images):
        logits = to_numpy(classifier([images, np.zeros(3, "int32")]))
        shifted = logits - logits.max(1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
        return log_softmax[np.arange(3), labels]

    kwargs = dict(num_steps=5, scheduler="ddim", labels=labels, seed=3)
    plain = to_numpy(conditional_model.sample(3, **kwargs))
    guided = to_numpy(
        conditional_model.sample(
            3, classifier=classifier, classifier_scale=3.0, **kwargs
        )
    )
    assert (log_likelihood(guided) > log_likelihood(plain)).all()


def test_inpainting_keeps_the_known_pixels(conditional_model, labelled_digits):
    x, y = labelled_digits
    mask = np.ones(SHAPE, "float32")
    mask[4:] = 0.0
    filled = to_numpy(
        conditional_model.inpaint(x[:4], mask, labels=y[:4], seed=5)
    )
    np.testing.assert_allclose(filled * mask, x[:4] * mask, atol=1e-5)
    assert not np.allclose(filled[:, 4:], x[:4, 4:])
    with pytest.raises(ValueError, match="`mask` of shape"):
        conditional_model.inpaint(x[:4], np.ones((4, 4, 1)), labels=y[:4])
    with pytest.raises(ValueError, match="only 0"):
        conditional_model.inpaint(x[:4], mask * 0.5, labels=y[:4])


def test_bound_sums_all_steps_and_sampling_it_is_unbiased():
    # The exact denoiser of Gaussian data (tests/schedulers) on a 4-step
    # schedule: every term is a one-noise-draw estimate, so both bounds
    # are compared as means over 40 seeds, within 4 standard errors.
    model = gaussian_model(num_train_timesteps=4, beta_start=0.05, beta_end=0.5)
    x = np.random.default_rng(0).normal(0.5, 0.3, size=(3, 2))
    x = x.astype("float32")
    full = np.stack([to_numpy(-model.elbo(x, seed=i)) for i in range(40)])
    sampled = np.stack(
        [to_numpy(-model.elbo(x, num_steps=1, seed=100 + i)) for i in range(40)]
    )
    assert np.isfinite(full).all() and np.isfinite(sampled).all()
    error = np.sqrt(
        full.var(axis=0, ddof=1) / len(full)
        + sampled.var(axis=0, ddof=1) / len(sampled)
    )
    assert (np.abs(full.mean(axis=0) - sampled.mean(axis=0)) < 4 * error).all()
    bits = to_numpy(model.bits_per_dim(x, seed=0))
    exact = to_numpy(-model.elbo(x, seed=0))
    np.testing.assert_allclose(bits, exact / (2 * np.log(2)), rtol=1e-4)


def test_bad_sampling_arguments_raise(conditional_model, labelled_digits):
    x, _ = labelled_digits
    with pytest.raises(ValueError, match="num_steps"):
        conditional_model.sample(2, num_steps=21)
    with pytest.raises(ValueError, match="num_steps"):
        conditional_model.sample(2, num_steps=0)
    with pytest.raises(ValueError, match="Unknown scheduler"):
        conditional_model.sample(2, num_steps=5, scheduler="heun")
    with pytest.raises(ValueError, match="noise schedule"):
        conditional_model.sample(
            2, num_steps=5, scheduler=schedulers.DDIMScheduler()
        )
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        conditional_model.sample(2, num_steps=5, labels=[3, 12])
    unconditional = diffusion_model()
    with pytest.raises(ValueError, match="class-conditional"):
        unconditional.sample(2, num_steps=5, guidance_scale=2.0)
    with pytest.raises(ValueError, match="unconditional"):
        unconditional.sample(2, num_steps=5, labels=1)
    with pytest.raises(ValueError, match="labels"):
        unconditional.fit(x, np.zeros(len(x)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="class labels as `y`"):
        conditional_model.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"\[-1.0, 1.0\]"):
        unconditional.fit(x + 1.5, epochs=1, verbose=0)


def test_bad_constructor_arguments_raise():
    denoiser = kgen.networks.unet_denoiser(SHAPE, widths=(8, 16), num_heads=2)
    with pytest.raises(ValueError, match="3 inputs"):
        kgen.models.DiffusionModel(denoiser, num_classes=10)
    with pytest.raises(ValueError, match="prediction_type"):
        kgen.models.DiffusionModel(denoiser, prediction_type="noise")
    with pytest.raises(ValueError, match="condition_dropout"):
        kgen.models.DiffusionModel(denoiser, condition_dropout=1.0)
    with pytest.raises(ValueError, match="scheduler"):
        kgen.models.DiffusionModel(denoiser, scheduler="ddpm")
    with pytest.raises(ValueError, match="halved"):
        kgen.networks.unet_denoiser((7, 7, 1), widths=(8, 16))


@pytest.mark.tensorflow_only
def test_sample_and_denoise_step_export_and_serve(conditional_model, tmp_path):
    labels = np.array([3, 7], "int32")
    version_path, noise, images = served_labelled_sample(
        conditional_model, SHAPE, labels, tmp_path
    )
    plan = diffusion_sampling.sampling_plan(
        conditional_model, "ddim", 20, Guidance()
    )
    expected = plan.draw(
        conditional_model, diffusion_sampling.reverse_diffusion, noise, labels
    )
    np.testing.assert_allclose(images, to_numpy(expected), atol=1e-4)
    # `saved_model_cli run` on a served signature is proven once, in
    # tests/export/test_saved_model.py; here, that the step is served.
    import tensorflow as tf

    signatures = tf.saved_model.load(version_path).signatures
    assert {"sample", "denoise_step"} <= set(signatures)
    # A served endpoint is never differentiated: the U-Net's custom
    # gradients are not traced and stored, as TensorFlow does by default
    # (about a sixth of an export's time).
    assert not saved_model_library(version_path).registered_gradients


def test_guidance_interval_limits_guidance_to_its_noise_levels(
    conditional_model,
):
    def draw(**guidance):
        return to_numpy(
            conditional_model.sample(
                3,
                labels=[0, 1, 2],
                num_steps=3,
                scheduler="ddim",
                seed=2,
                **guidance,
            )
        )

    # Every noise level sqrt(1 - alpha_bar_t) lies in (0, 1).
    assert_guidance_follows_its_interval(draw)
    with pytest.raises(ValueError, match="guidance_interval"):
        conditional_model.sample(
            2, guidance_scale=1.0, guidance_interval=(0.5, 2.0)
        )
    # Inpainting takes the same interval.
    mask = np.ones(conditional_model.sample_shape, "float32")
    mask[4:] = 0.0
    known = draw()

    def fill(**guidance):
        return to_numpy(
            conditional_model.inpaint(
                known,
                mask,
                labels=[0, 1, 2],
                num_steps=3,
                scheduler="ddim",
                seed=2,
                **guidance,
            )
        )

    assert_guidance_follows_its_interval(fill)
