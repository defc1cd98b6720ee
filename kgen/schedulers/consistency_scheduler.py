import numpy as np
from keras import ops

from kgen.schedulers.scheduler import Scheduler


class ConsistencyScheduler(Scheduler):
    """Multistep sampling of a consistency model, as a step rule of the
    one sampling loop (`kgen.schedulers.sampling_loop`).

    Notation (Song et al. 2023, algorithm 1), on the straight path
    `x_t = (1 - t) x_0 + t eps` of `kgen.models.ConsistencyModel`: the
    model `f(x_t, t)` maps any point of a trajectory to its end `x_0`,
    and a run over the descending times `t_0 > t_1 > ... > t_{n-1}`
    denoises, then noises back to the next time with a fresh draw:

    ```
    x = t_0 eps_0
    for i in 0 .. n-1:
        x_0 = clip(f(x, t_i))
        x = (1 - t_{i+1}) x_0 + t_{i+1} eps_{i+1},   t_n = 0
    ```

    The loop's last step lands on `t_n = 0`, which is `x_0` itself.

    Args:
        sample_range: `(low, high)` the model's samples are clipped to
            before every renoising and at the end, or `None`.

    References:
        1. Song et al. Consistency Models. 2023. arXiv:2303.01469.
    """

    # The loop's points are times in [0, 1]; every step but the last
    # draws fresh noise.
    timestep_dtype = "float32"
    stochastic = True

    def __init__(self, sample_range=None):
        self.sample_range = sample_range

    def loop_points(self, times):
        """`(points, next_points)`: the model is evaluated at each time,
        stepping to the next, and the last step to `0`."""
        times = np.asarray(times, "float32")
        return times, np.append(times[1:], np.float32(0.0))

    def initial_state(self, sample):
        return ()

    def step(self, model_output, time, next_time, sample, state, noise):
        """`(1 - t') clip(f) + t' eps`, given `f = f(sample, time)`."""
        # 1. The trajectory's end the model predicts, kept in range.
        original = model_output
        if self.sample_range is not None:
            original = ops.clip(original, *self.sample_range)
        # 2. Back onto the path at the next time with the step's draw.
        return (1.0 - next_time) * original + next_time * noise, state

    # === Serialization ===

    def get_config(self):
        return {"sample_range": self.sample_range}
