"""The fixed inputs of the diffusers reference cases."""

import numpy as np

SHAPE = (2, 3)


def inputs():
    sample = np.linspace(-1.3, 1.2, 6).reshape(SHAPE)
    model_output = np.cos(np.arange(6.0)).reshape(SHAPE)
    return sample.astype("float32"), model_output.astype("float32")


def model(x, t):
    """A smooth stand-in for a denoiser's output at `(x, t)`."""
    return 0.6 * x + 0.2 * np.sin(t / 150.0 + np.arange(6.0).reshape(SHAPE))


def flow_velocity(x, t):
    """A smooth stand-in for a flow-matching network's velocity at
    `(x, t)`, `t` the timestep in `[0, num_train_timesteps]`."""
    return -0.7 * x + 0.3 * np.cos(t / 200.0 + np.arange(6.0).reshape(SHAPE))
