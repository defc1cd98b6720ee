"""CFG++ on a flow's Euler steps: the data estimate from the guided
velocity, the noise from the unconditional one (Chung et al. 2024)."""

import numpy as np
import pytest
from keras import ops

import kgen
from kgen.models.diffusion import flow_matching
from kgen.models.diffusion.guidance import cfg_plus_plus_scale
from kgen.models.diffusion.guidance import classifier_free_guidance
from kgen.schedulers import FlowMatchEulerScheduler
from tests.conftest import randomise_weights

pytestmark = pytest.mark.torch_only


def _velocity(x, sigma, labels, _):
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
        cfg_plus_plus_scale(strength, sigmas),
        labels,
        null_labels,
        None,
    )
    got = scheduler.solve(guided, start, sigmas)

    x = start
    for sigma, sigma_next in zip(sigmas[:-1], sigmas[1:]):
        conditional = ops.convert_to_numpy(_velocity(x, sigma, labels, None))
        unconditional = ops.convert_to_numpy(
            _velocity(x, sigma, null_labels, None)
        )
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

    def recording(strength, sigmas):
        asked.append((strength, np.asarray(sigmas)))
        return cfg_plus_plus_scale(strength, sigmas)

    monkeypatch.setattr(flow_matching, "cfg_plus_plus_scale", recording)
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
