"""Writes flow_match_reference.py: diffusers' flow-matching schedulers on
fixed inputs, the reference kgen's flow-matching solvers are tested on.

diffusers is not a kgen dependency; run this where it is installed:

    pip install --target /tmp/diffusers_env diffusers==0.35.2
    PYTHONPATH=/tmp/diffusers_env \
        python -m tests.schedulers.make_flow_match_reference

Whole runs integrate `flow_velocity(x, t)` (reference_inputs.py), so the
tests rebuild the same velocity with NumPy.
"""

import pathlib
import pprint

import diffusers
import numpy as np
import torch

from tests.schedulers.reference_inputs import flow_velocity
from tests.schedulers.reference_inputs import inputs

# (solver, num_train_timesteps, shift, num_inference_steps)
VARIANTS = [
    ("euler", 1000, 1.0, 10),
    ("euler", 1000, 3.0, 28),
    ("euler", 100, 2.0, 7),
    ("heun", 1000, 1.0, 10),
    ("heun", 1000, 3.0, 6),
    ("heun", 1000, 1.0, 1),
]


def rounded(array):
    return [float(f"{v:.9g}") for v in np.asarray(array).reshape(-1)]


def run(solver, num_train_timesteps, shift, steps):
    cls = (
        diffusers.FlowMatchEulerDiscreteScheduler
        if solver == "euler"
        else diffusers.FlowMatchHeunDiscreteScheduler
    )
    scheduler = cls(num_train_timesteps=num_train_timesteps, shift=shift)
    scheduler.set_timesteps(steps)
    sample, noise = inputs()
    x = torch.tensor(noise)
    calls = 0
    for t in scheduler.timesteps:
        output = torch.tensor(
            flow_velocity(x.numpy().astype("float64"), float(t)),
            dtype=torch.float32,
        )
        calls += 1
        x = scheduler.step(output, t, x).prev_sample
    # The path's noising at the first two sigmas of the run (by Euler's
    # `scale_noise`: Heun's ignores its timestep argument and reads its
    # step index, which the run has moved on).
    sigmas = scheduler.sigmas.numpy()
    noisy = []
    if solver == "euler":
        noisy = [
            scheduler.scale_noise(
                torch.tensor(sample), t[None], torch.tensor(noise)
            ).numpy()
            for t in scheduler.timesteps[:2]
        ]
    return {
        "solver": solver,
        "num_train_timesteps": num_train_timesteps,
        "shift": shift,
        "num_inference_steps": steps,
        # Heun's lists repeat every sigma but the ends; kgen keeps one.
        "sigmas": rounded(np.unique(sigmas)[::-1]),
        "timesteps": rounded(np.unique(scheduler.timesteps.numpy())[::-1]),
        "num_function_evaluations": calls,
        "final_sample": rounded(x),
        "noisy": [rounded(value) for value in noisy],
    }


def main():
    data = {
        "diffusers_version": diffusers.__version__,
        "runs": [run(*variant) for variant in VARIANTS],
    }
    path = pathlib.Path(__file__).with_name("flow_match_reference.py")
    path.write_text(
        '"""diffusers flow-matching scheduler outputs on fixed inputs\n'
        "(data, not code).\n\n"
        "Written by tests/schedulers/make_flow_match_reference.py with\n"
        f"diffusers {diffusers.__version__}; do not edit by hand.\n"
        '"""\n\n'
        f"REFERENCE = {pprint.pformat(data, width=78, compact=True)}\n"
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
