"""The rectified-flow path and the sigma schedules of its ODE solvers."""

import keras
import numpy as np
from keras import ops

from kgen.schedulers import sampling_loop
from kgen.schedulers.diffusion_scheduler import MAX_NUM_TRAIN_TIMESTEPS
from kgen.schedulers.scheduler import Scheduler
from kgen.schedulers.scheduler import float_tensors
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int


class FlowMatchScheduler(Scheduler):
    """Base of the flow-matching ODE solvers: the path and its schedule.

    Notation (Lipman et al. 2023; Liu et al. 2023; Esser et al. 2024):
    `sigma` in `[0, 1]` runs from the data (`0`) to pure noise (`1`) on the
    straight path

    ```
    x_sigma = (1 - sigma) x_0 + sigma eps,   eps ~ N(0, I)
    v = dx_sigma / dsigma = eps - x_0
    ```

    A network trained to regress `v` at `(x_sigma, sigma)` defines the ODE
    `dx / dsigma = v(x, sigma)`, which a subclass integrates from `sigma =
    1` to `0` (`solve`). The network sees `timestep = sigma *
    num_train_timesteps`, a float, as in diffusers and SD3.

    Inference sigmas follow diffusers' `FlowMatchEulerDiscreteScheduler`
    (same numbers, to float32 rounding): `num_steps` values evenly spaced
    in `timestep` from `sigma_max` to `sigma_min`, then shifted by

    ```
    shift(sigma) = s sigma / (1 + (s - 1) sigma)
    ```

    and a final `0` appended. `s > 1` spends more steps at high noise,
    which SD3 found right for larger images: its resolution rule is
    `s = sqrt(m / n)` for `m` pixels against a base resolution of `n`
    (Esser et al. 2024, section 5.3.2; SD3 ships `s = 3`). As in
    diffusers, `sigma_min` is the shifted training grid's smallest sigma,
    `shift(1 / num_train_timesteps)`, and is shifted once more with the
    rest.

    Args:
        num_train_timesteps: int. Scales `sigma` into the network's
            timestep input.
        shift: float > 0. `s` above; `1` is no shift.

    References:
        1. Lipman et al. Flow Matching for Generative Modeling. 2023.
           arXiv:2210.02747.
        2. Liu et al. Flow Straight and Fast: Learning to Generate and
           Transfer Data with Rectified Flow. 2023. arXiv:2209.03003.
        3. Esser et al. Scaling Rectified Flow Transformers for
           High-Resolution Image Synthesis. 2024. arXiv:2403.03206.
    """

    def __init__(self, num_train_timesteps=1000, shift=1.0):
        self.num_train_timesteps = validate_int(
            num_train_timesteps,
            "num_train_timesteps",
            minimum=2,
            maximum=MAX_NUM_TRAIN_TIMESTEPS,
        )
        self.shift = validate_float(
            shift, "shift", minimum=0.0, exclusive_minimum=True
        )

    # === The path ===

    def add_noise(self, original_samples, noise, sigmas):
        """`x_sigma = (1 - sigma) x_0 + sigma eps` (diffusers'
        `scale_noise`); `sigmas` is a scalar or one value per example."""
        original_samples, noise, sigmas = float_tensors(
            original_samples, noise, sigmas
        )
        sigmas = _broadcast(sigmas, noise)
        return (1.0 - sigmas) * original_samples + sigmas * noise

    def training_target(self, original_samples, noise):
        """The velocity `v = eps - x_0` the network regresses."""
        original_samples, noise = float_tensors(original_samples, noise)
        return noise - original_samples

    def to_timesteps(self, sigmas):
        """The network's timestep input, `sigma * num_train_timesteps`."""
        return ops.convert_to_tensor(sigmas, "float32") * float(
            self.num_train_timesteps
        )

    # === Inference schedule ===

    def shift_sigmas(self, sigmas):
        """`s sigma / (1 + (s - 1) sigma)`, on NumPy values."""
        sigmas = np.asarray(sigmas, "float64")
        return self.shift * sigmas / (1.0 + (self.shift - 1.0) * sigmas)

    def sigmas(self, num_steps):
        """The `num_steps + 1` sigmas of a run, descending, ending at `0`.

        Returns:
            float32 NumPy array.
        """
        num_steps = validate_int(num_steps, "num_steps")
        total = self.num_train_timesteps
        # The shifted training grid's ends, rounded to float32 as diffusers
        # keeps them.
        sigma_max = np.float32(self.shift_sigmas(1.0))
        sigma_min = np.float32(self.shift_sigmas(1.0 / total))
        timesteps = np.linspace(
            float(sigma_max) * total, float(sigma_min) * total, num_steps
        )
        sigmas = self.shift_sigmas(timesteps / total).astype("float32")
        return np.append(sigmas, np.float32(0.0))

    def timesteps(self, num_steps):
        """The network's timestep at each of the `num_steps` sigmas."""
        return self.sigmas(num_steps)[:-1] * np.float32(
            self.num_train_timesteps
        )

    def num_function_evaluations(self, num_steps):
        """Network calls of a `num_steps` run."""
        raise NotImplementedError

    # === The solver ===

    # The sampling loop's points are sigmas, and every rule here is an
    # ODE solver.
    timestep_dtype = "float32"
    stochastic = False

    def loop_points(self, sigmas):
        """`(points, next_points)` of `kgen.schedulers.sampling_loop`:
        the velocity is evaluated at each point, stepping to the next
        (one step per sigma, by default)."""
        sigmas = np.asarray(sigmas, "float32")
        return sigmas[:-1], sigmas[1:]

    def initial_state(self, sample):
        """Extra loop state a multi-stage rule carries (none by default)."""
        return ()

    def step(self, velocity, sigma, sigma_next, sample, state, noise=None):
        """One step of the rule from `sigma` towards `sigma_next`, given
        the velocity at `(sample, sigma)`; `noise` is unused (the rules
        are deterministic). Returns `(sample, state)`."""
        raise NotImplementedError

    def solve(self, velocity, sample, sigmas):
        """Integrates `dx / dsigma = velocity(x, sigma)` over `sigmas` in
        the one sampling loop (`kgen.schedulers.sampling_loop`).

        Args:
            velocity: `(x, sigma) -> v`, with `sigma` a scalar float
                tensor; guidance wraps this function.
            sample: the start, noise at `sigmas[0]`.
            sigmas: the descending sigmas of `sigmas(num_steps)`.

        Returns:
            The sample at `sigmas[-1]` (the data for a full run).
        """
        sample = ops.convert_to_tensor(sample, "float32")
        return sampling_loop.reverse_diffusion(velocity, self, sample, sigmas)

    # === Serialization ===

    def get_config(self):
        return {
            "num_train_timesteps": self.num_train_timesteps,
            "shift": self.shift,
        }


keras.saving.register_keras_serializable(package="kgen")(FlowMatchScheduler)


def _broadcast(values, like):
    """A scalar, or `(batch,)` values to `(batch, 1, ..., 1)`."""
    if len(values.shape) == 0:
        return values
    return ops.reshape(values, (-1,) + (1,) * (len(like.shape) - 1))
