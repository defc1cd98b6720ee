import keras
from keras import ops

from kgen.schedulers.flow_match_scheduler import FlowMatchScheduler


@keras.saving.register_keras_serializable(package="kgen")
class FlowMatchEulerScheduler(FlowMatchScheduler):
    """Euler steps of a flow-matching ODE, one network call per step.

    Notation: `x` is the sample at `sigma`, `x'` at the next sigma
    `sigma' < sigma`, `v` the network's velocity:

    ```
    x' = x + (sigma' - sigma) v(x, sigma)
    ```

    The deterministic rule of diffusers' `FlowMatchEulerDiscreteScheduler`
    on the same sigmas (see `FlowMatchScheduler`).

    Args:
        **kwargs: the schedule, see `FlowMatchScheduler`.

    Example:

    ```python
    scheduler = kgen.schedulers.FlowMatchEulerScheduler(shift=3.0)
    scheduler.sigmas(4)  # [1.0, 0.858, 0.602, 0.009, 0.0] (rounded)
    ```
    """

    def num_function_evaluations(self, num_steps):
        return num_steps

    def solve(self, velocity, sample, sigmas, after_step=None):
        table = ops.convert_to_tensor(sigmas, "float32")
        sample = ops.convert_to_tensor(sample, "float32")

        def body(index, sample):
            sigma = ops.take(table, index)
            sigma_next = ops.take(table, index + 1)
            # 1. The (guided) velocity at x.
            slope = velocity(sample, sigma)
            # 2. One Euler step towards the data.
            sample = sample + (sigma_next - sigma) * slope
            # 3. Whatever the caller does to each new sample.
            if after_step is not None:
                sample = after_step(sample, sigma_next, index)
            return sample

        return ops.fori_loop(0, len(sigmas) - 1, body, sample)
