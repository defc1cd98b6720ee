"""Writes diffusers_reference.json: diffusers' scheduler outputs on fixed
inputs, the reference the scheduler tests compare kgen with.

diffusers is not a kgen dependency; run this where it is installed:

    pip install --target /tmp/diffusers_env diffusers==0.35.2
    PYTHONPATH=/tmp/diffusers_env \
        python -m tests.schedulers.make_diffusers_reference

Every case uses `inputs()` (reference_inputs.py) for the sample and model
output, and a pseudo-denoiser `model(x, t)` for whole trajectories, so the
tests can rebuild the same inputs with NumPy.
"""

import json
import pathlib

import diffusers
import numpy as np
import torch

from tests.schedulers.reference_inputs import SHAPE
from tests.schedulers.reference_inputs import inputs
from tests.schedulers.reference_inputs import model


def rounded(array):
    return [float(f"{v:.9g}") for v in np.asarray(array).reshape(-1)]


def schedule(beta_schedule, prediction_type):
    config = {
        "num_train_timesteps": 1000,
        "beta_schedule": beta_schedule,
        "prediction_type": prediction_type,
    }
    if beta_schedule == "scaled_linear":
        config.update(beta_start=0.00085, beta_end=0.012)
    return config


def diffusers_config(config):
    config = dict(config)
    if config["beta_schedule"] == "cosine":
        config["beta_schedule"] = "squaredcos_cap_v2"
    return config


def noise_cases():
    sample, noise = inputs()
    timesteps = np.array([0, 7, 500, 999])
    cases = []
    for beta_schedule in ("linear", "scaled_linear", "cosine"):
        config = schedule(beta_schedule, "epsilon")
        scheduler = diffusers.DDPMScheduler(**diffusers_config(config))
        batch = np.repeat(sample[:1], 4, axis=0).astype("float32")
        noisy = scheduler.add_noise(
            torch.tensor(batch),
            torch.tensor(np.repeat(noise[:1], 4, axis=0)),
            torch.tensor(timesteps),
        )
        velocity = scheduler.get_velocity(
            torch.tensor(batch),
            torch.tensor(np.repeat(noise[:1], 4, axis=0)),
            torch.tensor(timesteps),
        )
        cases.append(
            {
                "config": config,
                "timesteps": timesteps.tolist(),
                "noisy": rounded(noisy),
                "velocity": rounded(velocity),
            }
        )
    return cases


def single_step_cases():
    sample, model_output = inputs()
    cases = []
    variants = [
        ("ddpm", "linear", "epsilon", 1000, {"variance_type": "fixed_small"}),
        (
            "ddpm",
            "cosine",
            "v_prediction",
            50,
            {"variance_type": "fixed_large"},
        ),
        ("ddpm", "scaled_linear", "sample", 20, {}),
        ("ddim", "linear", "epsilon", 50, {"eta": 0.0}),
        ("ddim", "linear", "epsilon", 50, {"eta": 1.0}),
        ("ddim", "cosine", "v_prediction", 10, {"eta": 0.0}),
    ]
    for name, beta_schedule, prediction_type, steps, extra in variants:
        config = schedule(beta_schedule, prediction_type)
        extra = dict(extra)
        eta = extra.pop("eta", None)
        config.update(extra)
        if name == "ddpm":
            scheduler = diffusers.DDPMScheduler(**diffusers_config(config))
        else:
            scheduler = diffusers.DDIMScheduler(**diffusers_config(config))
            config["eta"] = eta
        scheduler.set_timesteps(steps)
        timesteps = scheduler.timesteps.numpy()
        for index in (0, len(timesteps) // 2, len(timesteps) - 1):
            t = int(timesteps[index])
            generator = torch.Generator().manual_seed(index)
            noise = torch.randn(SHAPE, generator=generator)
            kwargs = {}
            if name == "ddpm":
                kwargs["generator"] = torch.Generator().manual_seed(index)
            else:
                kwargs["eta"] = eta
                kwargs["variance_noise"] = noise
            output = scheduler.step(
                torch.tensor(model_output),
                t,
                torch.tensor(sample),
                **kwargs,
            ).prev_sample
            cases.append(
                {
                    "scheduler": name,
                    "config": config,
                    "num_inference_steps": steps,
                    "timesteps": timesteps.tolist(),
                    "index": index,
                    "noise": rounded(noise),
                    "prev_sample": rounded(output),
                }
            )
    return cases


def trajectory_cases():
    """Whole deterministic runs with `model`: DDIM, DPM-Solver++, Euler."""
    sample, _ = inputs()
    cases = []
    variants = [
        ("ddim", "linear", "epsilon", 10, {}),
        ("dpm_solver", "linear", "epsilon", 10, {}),
        ("dpm_solver", "linear", "epsilon", 20, {}),
        ("dpm_solver", "cosine", "v_prediction", 8, {}),
        ("dpm_solver", "scaled_linear", "sample", 12, {}),
        ("euler", "linear", "epsilon", 10, {"timestep_spacing": "leading"}),
        (
            "euler",
            "cosine",
            "v_prediction",
            15,
            {"timestep_spacing": "leading"},
        ),
    ]
    for name, beta_schedule, prediction_type, steps, extra in variants:
        config = schedule(beta_schedule, prediction_type)
        config.update(extra)
        if name == "ddim":
            scheduler = diffusers.DDIMScheduler(**diffusers_config(config))
        elif name == "dpm_solver":
            scheduler = diffusers.DPMSolverMultistepScheduler(
                **diffusers_config(config)
            )
        else:
            scheduler = diffusers.EulerDiscreteScheduler(
                **diffusers_config(config)
            )
        scheduler.set_timesteps(steps)
        timesteps = scheduler.timesteps.numpy()
        alphas_cumprod = scheduler.alphas_cumprod.numpy().astype("float64")
        x = torch.tensor(sample)
        if name == "euler":
            # Euler works on x_t / sqrt(alpha_bar_t); kgen's schedulers take
            # and return x_t itself.
            x = x / float(np.sqrt(alphas_cumprod[int(timesteps[0])]))
        trajectory = []
        for t in timesteps:
            model_input = x
            if name == "euler":
                model_input = scheduler.scale_model_input(x, t)
            output = torch.tensor(
                model(model_input.numpy().astype("float64"), float(t)),
                dtype=torch.float32,
            )
            x = scheduler.step(output, t, x).prev_sample
            trajectory.append(x.numpy())
        if name == "euler":
            # Back to variance-preserving samples, for comparison.
            landing = [int(t) for t in timesteps[1:]] + [-1]
            trajectory = [
                value * (np.sqrt(alphas_cumprod[t]) if t >= 0 else 1.0)
                for value, t in zip(trajectory, landing)
            ]
        cases.append(
            {
                "scheduler": name,
                "config": config,
                "num_inference_steps": steps,
                "timesteps": [int(t) for t in timesteps],
                "trajectory": [rounded(value) for value in trajectory],
            }
        )
    return cases


def main():
    data = {
        "diffusers_version": diffusers.__version__,
        "add_noise": noise_cases(),
        "single_step": single_step_cases(),
        "trajectory": trajectory_cases(),
    }
    path = pathlib.Path(__file__).with_name("diffusers_reference.json")
    path.write_text(json.dumps(data, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
