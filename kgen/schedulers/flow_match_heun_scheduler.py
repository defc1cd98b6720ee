import keras
import numpy as np
from keras import ops

from kgen.schedulers.flow_match_scheduler import FlowMatchScheduler


@keras.saving.register_keras_serializable(package="kgen")
class FlowMatchHeunScheduler(FlowMatchScheduler):
    """Heun's second-order steps of a flow-matching ODE.

    Notation: `x` at `sigma`, `x'` at the next sigma `sigma'`, `v` the
    network's velocity, `h = sigma' - sigma`:

    ```
    x_euler = x + h v(x, sigma)
    x' = x + h (v(x, sigma) + v(x_euler, sigma')) / 2
    ```

    The last step, to `sigma' = 0`, is an Euler step (the velocity at the
    data is not needed), so `num_steps` steps make `2 num_steps - 1`
    network calls: diffusers' `FlowMatchHeunDiscreteScheduler` (without
    churn) on the same sigmas.

    Args:
        **kwargs: the schedule, see `FlowMatchScheduler`.

    References:
        1. Karras et al. Elucidating the Design Space of Diffusion-Based
           Generative Models. 2022. arXiv:2206.00364 (Algorithm 1).
    """

    def num_function_evaluations(self, num_steps):
        return 2 * num_steps - 1

    def loop_points(self, sigmas):
        """Each step but the last visits two points, `sigma` (the Euler
        guess) and `sigma'` (the correction, stepping to `sigma'`
        itself); the last, to `0`, is Euler's alone."""
        sigmas = np.asarray(sigmas, "float32")
        inner = sigmas[1:-1]
        points = np.stack([sigmas[:-2], inner], 1).reshape(-1)
        next_points = np.stack([inner, inner], 1).reshape(-1)
        return (
            np.append(points, sigmas[-2]),
            np.append(next_points, sigmas[-1]),
        )

    def initial_state(self, sample):
        # (x at the step's start, the slope there, the step, stage 0|1)
        return (
            ops.zeros_like(sample),
            ops.zeros_like(sample),
            ops.zeros((), "float32"),
            ops.zeros((), "int32"),
        )

    def step(self, velocity, sigma, sigma_next, sample, state, noise=None):
        start, start_slope, start_step, stage = state
        correcting = ops.equal(stage, 1)
        # 1. Stage 0: the slope at x and the Euler guess at sigma' (the
        #    whole step when sigma' = 0).
        step = sigma_next - sigma
        guess = sample + step * velocity
        # 2. Stage 1: the trapezoid, the mean of both ends' slopes.
        corrected = start + start_step * 0.5 * (start_slope + velocity)
        next_stage = ops.where(
            ops.logical_or(correcting, ops.equal(sigma_next, 0.0)), 0, 1
        )
        state = (
            ops.where(correcting, start, sample),
            ops.where(correcting, start_slope, velocity),
            ops.where(correcting, start_step, step),
            ops.cast(next_stage, "int32"),
        )
        return ops.where(correcting, corrected, guess), state
