import keras
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

    def solve(self, velocity, sample, sigmas, after_step=None):
        table = ops.convert_to_tensor(sigmas, "float32")
        sample = ops.convert_to_tensor(sample, "float32")
        num_steps = len(sigmas) - 1

        def heun_step(index, sample):
            sigma = ops.take(table, index)
            sigma_next = ops.take(table, index + 1)
            step = sigma_next - sigma
            # 1. The slope at x, and the Euler guess at sigma'.
            slope = velocity(sample, sigma)
            guess = sample + step * slope
            # 2. The trapezoid: the mean of both ends' slopes.
            slope_next = velocity(guess, sigma_next)
            sample = sample + step * 0.5 * (slope + slope_next)
            if after_step is not None:
                sample = after_step(sample, sigma_next, index)
            return sample

        sample = ops.fori_loop(0, num_steps - 1, heun_step, sample)
        # 3. The last step, to sigma = 0, is Euler's.
        last = num_steps - 1
        sigma, sigma_next = table[last], table[last + 1]
        sample = sample + (sigma_next - sigma) * velocity(sample, sigma)
        if after_step is not None:
            sample = after_step(sample, sigma_next, last)
        return sample
