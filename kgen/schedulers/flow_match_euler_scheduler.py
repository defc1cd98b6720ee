import keras

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

    def step(self, velocity, sigma, sigma_next, sample, state, noise=None):
        # One Euler step towards the data.
        return sample + (sigma_next - sigma) * velocity, state
