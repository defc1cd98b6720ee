"""kgen's schedulers against diffusers' numbers (tests/schedulers/
diffusers_reference.json, written by make_diffusers_reference.py)."""

import json
import pathlib

import numpy as np
import pytest

from kgen import schedulers
from tests.conftest import to_numpy
from tests.schedulers.reference_inputs import SHAPE
from tests.schedulers.reference_inputs import inputs
from tests.schedulers.reference_inputs import model

REFERENCE = json.loads(
    pathlib.Path(__file__).with_name("diffusers_reference.json").read_text()
)
TOLERANCE = 1e-5


def build(name, config):
    return schedulers.get(name, **config)


@pytest.mark.parametrize(
    "case", REFERENCE["add_noise"], ids=lambda c: c["config"]["beta_schedule"]
)
def test_add_noise_and_velocity_equal_diffusers(case):
    scheduler = schedulers.DDPMScheduler(**case["config"])
    sample, noise = inputs()
    batch = np.repeat(sample[:1], 4, axis=0)
    noise = np.repeat(noise[:1], 4, axis=0)
    timesteps = np.array(case["timesteps"], "int32")
    noisy = scheduler.add_noise(batch, noise, timesteps)
    velocity = scheduler.get_velocity(batch, noise, timesteps)
    np.testing.assert_allclose(
        to_numpy(noisy).reshape(-1), case["noisy"], atol=TOLERANCE
    )
    np.testing.assert_allclose(
        to_numpy(velocity).reshape(-1), case["velocity"], atol=TOLERANCE
    )


def _case_id(case):
    config = case["config"]
    return (
        f"{case['scheduler']}-{config['beta_schedule']}-"
        f"{config['prediction_type']}-{case['num_inference_steps']}-"
        f"eta{config.get('eta')}-{case['index']}"
    )


@pytest.mark.parametrize("case", REFERENCE["single_step"], ids=_case_id)
def test_single_step_equals_diffusers(case):
    scheduler = build(case["scheduler"], case["config"])
    timesteps = scheduler.timesteps(case["num_inference_steps"])
    np.testing.assert_array_equal(timesteps, case["timesteps"])
    previous = scheduler.previous_timesteps(timesteps)
    sample, model_output = inputs()
    index = case["index"]
    noise = np.array(case["noise"], "float32").reshape(SHAPE)
    prev_sample, _ = scheduler.step(
        model_output,
        np.int32(timesteps[index]),
        np.int32(previous[index]),
        sample,
        noise=noise,
    )
    np.testing.assert_allclose(
        to_numpy(prev_sample).reshape(-1),
        case["prev_sample"],
        atol=TOLERANCE,
        rtol=TOLERANCE,
    )


@pytest.mark.parametrize(
    "case",
    REFERENCE["trajectory"],
    ids=lambda c: (
        f"{c['scheduler']}-{c['config']['beta_schedule']}-"
        f"{c['config']['prediction_type']}-{c['num_inference_steps']}"
    ),
)
def test_trajectory_equals_diffusers(case):
    scheduler = build(case["scheduler"], case["config"])
    timesteps = scheduler.timesteps(case["num_inference_steps"])
    np.testing.assert_array_equal(timesteps, case["timesteps"])
    previous = scheduler.previous_timesteps(timesteps)
    x, _ = inputs()
    state = scheduler.initial_state(x)
    for t, t_prev, expected in zip(timesteps, previous, case["trajectory"]):
        output = model(to_numpy(x).astype("float64"), float(t))
        x, state = scheduler.step(
            output.astype("float32"), np.int32(t), np.int32(t_prev), x, state
        )
        np.testing.assert_allclose(
            to_numpy(x).reshape(-1), expected, atol=TOLERANCE, rtol=TOLERANCE
        )


def test_a_steps_offset_takes_diffusers_timesteps():
    # Stable Diffusion's configs set `steps_offset=1`: a 50-step run is
    # 981, 961, ..., 1 there, and so in kgen's DDIM.
    diffusers = pytest.importorskip("diffusers")
    for spacing in ("leading", "trailing", "linspace"):
        for offset in (0, 1, 3):
            ours = schedulers.DDIMScheduler(
                timestep_spacing=spacing, steps_offset=offset
            )
            theirs = diffusers.DDIMScheduler(
                timestep_spacing=spacing, steps_offset=offset
            )
            for steps in (1, 7, 50):
                theirs.set_timesteps(steps)
                np.testing.assert_array_equal(
                    ours.timesteps(steps), theirs.timesteps.numpy()
                )
    with pytest.raises(ValueError, match="steps_offset"):
        schedulers.DDIMScheduler(
            num_train_timesteps=10, steps_offset=5
        ).timesteps(2)
    with pytest.raises(ValueError, match="steps_offset"):
        schedulers.DDIMScheduler(steps_offset=-1)
