"""CFG++ on a flow's Euler steps and on DDIM's: the data estimate from
the guided output, the noise from the unconditional one (Chung et al.
2024)."""

import keras
import numpy as np
import pytest
from keras import layers
from keras import ops

import kgen
from kgen import schedulers
from kgen.models.diffusion import diffusion_sampling
from kgen.models.diffusion import flow_matching_sampling
from kgen.models.diffusion.guidance import cfg_plus_plus_scale
from kgen.models.diffusion.guidance import classifier_free_guidance
from kgen.schedulers import FlowMatchEulerScheduler
from tests.conftest import randomise_weights

pytestmark = pytest.mark.torch_only


def _flow_scale(strength, sigmas):
    sigmas = np.asarray(sigmas, "float64")
    return cfg_plus_plus_scale(
        strength,
        sigmas[:-1],
        sigmas[1:],
        signal=lambda sigma: 1.0 - sigma,
        noise=lambda sigma: sigma,
    )


def _velocity(x, sigma, labels):
    # A velocity whose halves differ by class: any will do.
    x = ops.convert_to_tensor(x, "float32")
    shift = ops.reshape(ops.cast(labels, "float32"), (-1, 1))
    return 0.3 * x + sigma * shift + 0.1


def test_a_guided_euler_run_is_the_cfg_plus_plus_recursion():
    strength = 0.6
    scheduler = FlowMatchEulerScheduler()
    sigmas = scheduler.sigmas(5)
    labels = np.array([1, 2, 0], "int32")
    null_labels = np.full(3, 3, "int32")
    start = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    guided = classifier_free_guidance(
        _velocity,
        _flow_scale(strength, sigmas),
        labels,
        null_labels,
    )
    got = scheduler.solve(guided, start, sigmas)

    x = start
    for sigma, sigma_next in zip(sigmas[:-1], sigmas[1:]):
        conditional = ops.convert_to_numpy(_velocity(x, sigma, labels))
        unconditional = ops.convert_to_numpy(_velocity(x, sigma, null_labels))
        velocity = unconditional + strength * (conditional - unconditional)
        original = x - sigma * velocity
        noise = x + (1.0 - sigma) * unconditional
        x = (1.0 - sigma_next) * original + sigma_next * noise
    np.testing.assert_allclose(ops.convert_to_numpy(got), x, atol=1e-4)


def _model():
    model = kgen.models.FlowMatching(
        kgen.networks.unet_denoiser(
            (8, 8, 1), widths=(8,), num_classes=10, timestep_dtype="float32"
        ),
        num_classes=10,
        seed=0,
    )
    randomise_weights(model)
    return model


def test_two_cfg_plus_plus_steps_are_cfg_at_strength_minus_one():
    # With sigmas (1, s, 0), each step's weight is l sigma (1 - sigma') /
    # (sigma - sigma') - 1 = l - 1: CFG++ at l is CFG at w = l - 1.
    model = _model()
    options = dict(labels=np.arange(4), num_steps=2, seed=3)
    plus = model.sample(4, guidance_scale=0.4, guidance="cfg++", **options)
    cfg = model.sample(4, guidance_scale=-0.6, **options)
    np.testing.assert_allclose(
        ops.convert_to_numpy(plus), ops.convert_to_numpy(cfg), atol=1e-6
    )


def test_sample_guides_each_step_by_its_own_cfg_plus_plus_weight(
    monkeypatch,
):
    # A random U-Net's class barely moves its velocity, so the samples
    # alone cannot show which weights were used: record them.
    asked = []

    def recording(strength, points, next_points, **scales):
        asked.append((strength, np.append(points, next_points[-1])))
        return cfg_plus_plus_scale(strength, points, next_points, **scales)

    monkeypatch.setattr(
        flow_matching_sampling, "cfg_plus_plus_scale", recording
    )
    model = _model()
    model.sample(2, labels=[0, 1], num_steps=5, guidance_scale=0.7)
    assert asked == []
    model.sample(
        2, labels=[0, 1], num_steps=5, guidance_scale=0.7, guidance="cfg++"
    )
    (strength, sigmas), *_ = asked
    assert strength == 0.7
    np.testing.assert_array_equal(sigmas, model.scheduler.sigmas(5))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"guidance": "cfg+"}, "`guidance` must be one of"),
        ({"guidance": "cfg++", "guidance_scale": 2.0}, r"in \(0, 1\]"),
        (
            {"guidance": "cfg++", "guidance_scale": 0.5, "scheduler": "heun"},
            "first-order solver",
        ),
    ],
)
def test_cfg_plus_plus_refuses_what_it_cannot_do(options, message):
    with pytest.raises(ValueError, match=message):
        _model().sample(2, labels=[0, 1], num_steps=2, **options)


# === DDIM ===


def _diffusion_model():
    # eps = 0.9 x + e(label) + e(t): a denoiser whose class moves its
    # output as much as its input does (a random U-Net's barely moves),
    # so that the guidance strength shows in the samples.
    noisy = keras.Input((8, 8, 1))
    timesteps = keras.Input((), dtype="int32")
    labels = keras.Input((), dtype="int32")
    initializer = keras.initializers.RandomNormal(stddev=0.3, seed=2)
    shift = layers.Add()(
        [
            layers.Embedding(11, 64, embeddings_initializer=initializer)(
                labels
            ),
            layers.Embedding(20, 64, embeddings_initializer=initializer)(
                timesteps
            ),
        ]
    )
    noise = layers.Add()(
        [layers.Rescaling(0.9)(noisy), layers.Reshape((8, 8, 1))(shift)]
    )
    return kgen.models.DiffusionModel(
        keras.Model([noisy, timesteps, labels], noise),
        schedulers.DDPMScheduler(num_train_timesteps=20, beta_end=0.3),
        num_classes=10,
        seed=0,
    )


def test_ddim_cfg_plus_plus_is_the_papers_recursion():
    # Algorithm 1 of Chung et al.: x_0 from the guided noise, the step
    # back onto the path with the unconditional noise, x_0 unclipped.
    strength, num_steps = 0.7, 4
    model = _diffusion_model()
    labels = np.array([1, 7, 3], "int32")
    got = model.sample(
        3,
        labels=labels,
        num_steps=num_steps,
        scheduler="ddim",
        guidance="cfg++",
        guidance_scale=strength,
        seed=keras.random.SeedGenerator(5),
    )

    x = ops.convert_to_numpy(
        keras.random.normal((3, 8, 8, 1), seed=keras.random.SeedGenerator(5))
    )
    null_labels = np.full(3, 10, "int32")
    ddim = diffusion_sampling.get_scheduler(model, "ddim")
    timesteps = ddim.timesteps(num_steps)
    alpha_bars = np.append(model.scheduler.alphas_cumprod[timesteps], 1.0)
    for index, timestep in enumerate(timesteps):
        conditional, unconditional = (
            ops.convert_to_numpy(model.denoise(x, timestep, ids))
            for ids in (labels, null_labels)
        )
        noise = unconditional + strength * (conditional - unconditional)
        alpha_bar, next_alpha_bar = alpha_bars[index], alpha_bars[index + 1]
        original = (x - np.sqrt(1.0 - alpha_bar) * noise) / np.sqrt(alpha_bar)
        x = (
            np.sqrt(next_alpha_bar) * original
            + np.sqrt(1.0 - next_alpha_bar) * unconditional
        )
    np.testing.assert_allclose(
        ops.convert_to_numpy(got), np.clip(x, -1.0, 1.0), atol=1e-4
    )
    # The strength shows: most pixels are inside the range and move.
    assert np.mean(np.abs(x) < 1.0) > 0.5
    weaker = model.sample(
        3,
        labels=labels,
        num_steps=num_steps,
        scheduler="ddim",
        guidance="cfg++",
        guidance_scale=0.2,
        seed=keras.random.SeedGenerator(5),
    )
    assert np.abs(ops.convert_to_numpy(weaker - got)).max() > 0.1


@pytest.mark.parametrize(
    "options, message",
    [
        ({"scheduler": "ddpm"}, "deterministic DDIM"),
        ({"scheduler": "ddim", "guidance_scale": 3.0}, r"in \(0, 1\]"),
        ({"scheduler": "ddim", "guidance": "cfgpp"}, "must be one of"),
    ],
)
def test_ddim_cfg_plus_plus_refuses_what_it_cannot_do(options, message):
    options = {"guidance": "cfg++", "guidance_scale": 0.5, **options}
    with pytest.raises(ValueError, match=message):
        _diffusion_model().sample(2, labels=[0, 1], num_steps=2, **options)
