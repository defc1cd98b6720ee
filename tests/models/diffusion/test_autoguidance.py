"""Autoguidance (`guide=`) in the diffusion and flow-matching samplers."""

import keras
import numpy as np
import pytest

import kgen
from kgen import schedulers
from tests.conftest import randomise_weights
from tests.conftest import to_numpy
from tests.models.diffusion.guidance_checks import (
    assert_guidance_follows_its_interval,
)
from tests.models.diffusion.test_flow_matching import gaussian_flow

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py).
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)
SCHEDULE = {"num_train_timesteps": 20, "beta_end": 0.3}


def diffusion_model(num_classes=None, seed=0, widths=(8, 16)):
    denoiser = kgen.networks.unet_denoiser(
        SHAPE, widths=widths, num_heads=2, num_classes=num_classes
    )
    randomise_weights(denoiser, seed=seed)
    return kgen.models.DiffusionModel(
        denoiser,
        schedulers.DDPMScheduler(**SCHEDULE),
        num_classes=num_classes,
        seed=0,
    )


def test_one_euler_step_extrapolates_away_from_the_guide():
    # At sigma = 1 the exact velocity of N(m, s**2) is v(x) = x - m, so one
    # Euler step from noise lands on the guided mean exactly:
    #   x = eps - ((1 + w)(eps - m) - w (eps - m_guide))
    #     = (1 + w) m - w m_guide.
    model, guide = gaussian_flow(1.0, 0.5), gaussian_flow(0.25, 0.5)
    samples = to_numpy(
        model.sample(5, num_steps=1, guidance_scale=2.0, guide=guide, seed=0)
    )
    np.testing.assert_allclose(samples, 3.0 * 1.0 - 2.0 * 0.25, atol=1e-5)
    # The model as its own guide guides nothing (an unconditional model).
    np.testing.assert_allclose(
        to_numpy(model.sample(5, num_steps=8, seed=3)),
        to_numpy(
            model.sample(
                5, num_steps=8, guidance_scale=2.0, guide=model, seed=3
            )
        ),
        atol=1e-5,
    )


def test_flow_matching_autoguidance_follows_its_interval():
    def flow(seed):
        denoiser = kgen.networks.unet_denoiser(
            SHAPE,
            widths=(8, 16),
            num_heads=2,
            num_classes=3,
            timestep_dtype="float32",
        )
        randomise_weights(denoiser, seed=seed)
        return kgen.models.FlowMatching(denoiser, num_classes=3, seed=0)

    model, guide = flow(0), flow(1)

    def draw(**guidance):
        if guidance:
            guidance["guide"] = guide
        return to_numpy(
            model.sample(3, labels=[0, 1, 2], num_steps=4, seed=2, **guidance)
        )

    _, autoguided = assert_guidance_follows_its_interval(
        draw, nowhere=(0.8, 0.9)
    )
    classifier_free = to_numpy(
        model.sample(
            3, labels=[0, 1, 2], num_steps=4, seed=2, guidance_scale=3.0
        )
    )
    assert np.abs(autoguided - classifier_free).max() > 1e-3


def test_diffusion_autoguidance_by_itself_is_no_guidance():
    model, guide = diffusion_model(seed=0), diffusion_model(seed=1)

    def draw(**guidance):
        if guidance:
            guidance["guide"] = guide
        return to_numpy(
            model.sample(3, num_steps=3, scheduler="ddim", seed=2, **guidance)
        )

    unguided, _ = assert_guidance_follows_its_interval(draw)
    np.testing.assert_allclose(
        to_numpy(
            model.sample(
                3,
                num_steps=3,
                scheduler="ddim",
                seed=2,
                guidance_scale=3.0,
                guide=model,
            )
        ),
        unguided,
        atol=1e-5,
    )


def test_a_smaller_guide_of_a_conditional_model_samples_its_labels():
    model = diffusion_model(num_classes=4, seed=0)
    guide = diffusion_model(num_classes=4, seed=1, widths=(4, 8))
    samples = model.sample(
        4,
        labels=[0, 1, 2, 3],
        num_steps=3,
        scheduler="ddim",
        guidance_scale=1.5,
        guide=guide,
        seed=0,
    )
    assert samples.shape == (4,) + SHAPE
    assert np.isfinite(to_numpy(samples)).all()


def test_bad_guides_raise():
    model = diffusion_model(num_classes=4)
    with pytest.raises(ValueError, match="`guide` must be a DiffusionModel"):
        model.sample(2, guidance_scale=1.0, guide=keras.Sequential())
    with pytest.raises(ValueError, match="num_classes"):
        model.sample(2, guidance_scale=1.0, guide=diffusion_model())
    with pytest.raises(ValueError, match="nonzero `guidance_scale`"):
        model.sample(2, guide=diffusion_model(num_classes=4))
    other_schedule = kgen.models.DiffusionModel(
        model.denoiser,
        schedulers.DDPMScheduler(num_train_timesteps=10),
        num_classes=4,
    )
    with pytest.raises(ValueError, match="noise schedule"):
        model.sample(2, guidance_scale=1.0, guide=other_schedule)
    flow = gaussian_flow(0.0, 1.0)
    with pytest.raises(ValueError, match="sample_shape"):
        flow.sample(2, guidance_scale=1.0, guide=gaussian_flow(0, 1, dim=2))
