"""kgen's flow-matching solvers against diffusers' numbers
(flow_match_reference.py, written by make_flow_match_reference.py)."""

import keras
import numpy as np
import pytest
from keras import ops

from kgen import schedulers
from tests.conftest import to_numpy
from tests.schedulers.flow_match_reference import REFERENCE
from tests.schedulers.reference_inputs import SHAPE
from tests.schedulers.reference_inputs import flow_velocity
from tests.schedulers.reference_inputs import inputs

TOLERANCE = 1e-5


def _case_id(case):
    return (
        f"{case['solver']}-T{case['num_train_timesteps']}-"
        f"shift{case['shift']}-{case['num_inference_steps']}"
    )


def _scheduler(case):
    return schedulers.get_flow_match(
        case["solver"],
        num_train_timesteps=case["num_train_timesteps"],
        shift=case["shift"],
    )


@pytest.mark.parametrize("case", REFERENCE["runs"], ids=_case_id)
def test_sigmas_and_timesteps_equal_diffusers(case):
    scheduler = _scheduler(case)
    steps = case["num_inference_steps"]
    np.testing.assert_allclose(
        scheduler.sigmas(steps), case["sigmas"], atol=TOLERANCE
    )
    # Timesteps run to 1000: the same float32 numbers, relative 1e-7.
    np.testing.assert_allclose(
        scheduler.timesteps(steps), case["timesteps"], rtol=1e-6
    )
    assert (
        scheduler.num_function_evaluations(steps)
        == case["num_function_evaluations"]
    )


@pytest.mark.parametrize("case", REFERENCE["runs"], ids=_case_id)
def test_whole_run_equals_diffusers(case):
    scheduler = _scheduler(case)
    sample, noise = inputs()
    phase = np.arange(6.0, dtype="float32").reshape(SHAPE)

    def velocity(x, sigma):
        # `flow_velocity` in keras.ops, to run inside the solver's loop.
        timestep = scheduler.to_timesteps(sigma)
        return -0.7 * x + 0.3 * ops.cos(timestep / 200.0 + phase)

    np.testing.assert_allclose(
        to_numpy(velocity(ops.convert_to_tensor(noise), np.float32(0.3))),
        flow_velocity(noise, 0.3 * case["num_train_timesteps"]),
        atol=1e-6,
    )
    sigmas = scheduler.sigmas(case["num_inference_steps"])
    final = scheduler.solve(velocity, noise, sigmas)
    np.testing.assert_allclose(
        to_numpy(final).reshape(-1), case["final_sample"], atol=TOLERANCE
    )
    for sigma, expected in zip(sigmas[:2], case["noisy"]):
        noisy = scheduler.add_noise(sample, noise, sigma)
        np.testing.assert_allclose(
            to_numpy(noisy).reshape(-1), expected, atol=TOLERANCE
        )


def test_exact_velocity_of_gaussian_data_recovers_its_moments():
    # For x_0 ~ N(m, s**2) the velocity E[eps - x_0 | x_sigma] is linear in
    # x_sigma (a = 1 - sigma, q = a**2 s**2 + sigma**2):
    #   v(x, sigma) = (sigma - a s**2) (x - a m) / q - m,
    # so the ODE maps N(0, 1) exactly onto N(m, s**2) and any error is the
    # solver's.
    mean, std = 1.5, 0.4
    noise = keras.random.normal((20000, 2), seed=3)

    def velocity(x, sigma):
        a = 1.0 - sigma
        q = a**2 * std**2 + sigma**2
        return (sigma - a * std**2) * (x - a * mean) / q - mean

    for name, steps, tolerance in (("euler", 100, 0.02), ("heun", 20, 0.01)):
        scheduler = schedulers.get_flow_match(name)
        samples = to_numpy(
            scheduler.solve(velocity, noise, scheduler.sigmas(steps))
        )
        # The sampling error of 20000 draws is ~0.003 (mean), ~0.002 (std).
        np.testing.assert_allclose(samples.mean(0), mean, atol=tolerance)
        np.testing.assert_allclose(samples.std(0), std, atol=tolerance)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="shift"):
        schedulers.FlowMatchEulerScheduler(shift=0.0)
    with pytest.raises(ValueError, match="num_steps"):
        schedulers.FlowMatchEulerScheduler().sigmas(0)
    with pytest.raises(ValueError, match="flow-matching scheduler"):
        schedulers.get_flow_match("ddim")


def test_config_round_trip():
    scheduler = schedulers.FlowMatchHeunScheduler(
        num_train_timesteps=100, shift=2.0
    )
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(scheduler)
    )
    assert type(restored) is schedulers.FlowMatchHeunScheduler
    assert restored.get_config() == scheduler.get_config()
