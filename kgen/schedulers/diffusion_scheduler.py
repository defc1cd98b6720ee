"""Discrete-time variance-preserving noise schedules."""

import math

import keras
import numpy as np
from keras import ops

from kgen.schedulers.scheduler import Scheduler
from kgen.schedulers.scheduler import float_tensors
from kgen.utils.argument_validation import validate_int

BETA_SCHEDULES = ("linear", "scaled_linear", "cosine")
PREDICTION_TYPES = ("epsilon", "sample", "v_prediction")
TIMESTEP_SPACINGS = ("leading", "trailing", "linspace")

# Each schedule holds arrays of this length (8 MB at the bound); a config
# from a preset folder names it, so it is bounded before they are made.
MAX_NUM_TRAIN_TIMESTEPS = 10**6


def make_betas(beta_schedule, num_train_timesteps, beta_start, beta_end):
    """The per-step variances `beta_t`, as float64 NumPy.

    - `linear`: evenly spaced from `beta_start` to `beta_end` (DDPM).
    - `scaled_linear`: `sqrt(beta)` evenly spaced (latent diffusion).
    - `cosine`: `alpha_bar(t) = cos^2((t / T + s) / (1 + s) * pi / 2)`
      with `s = 0.008`, each `beta_t` capped at 0.999 (Nichol & Dhariwal).
    """
    if beta_schedule == "linear":
        return np.linspace(beta_start, beta_end, num_train_timesteps)
    if beta_schedule == "scaled_linear":
        return (
            np.linspace(beta_start**0.5, beta_end**0.5, num_train_timesteps)
            ** 2
        )
    if beta_schedule == "cosine":

        def alpha_bar(t):
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

        steps = np.arange(num_train_timesteps)
        return np.array(
            [
                min(
                    1
                    - alpha_bar((i + 1) / num_train_timesteps)
                    / alpha_bar(i / num_train_timesteps),
                    0.999,
                )
                for i in steps
            ]
        )
    raise ValueError(
        f"`beta_schedule` must be one of {BETA_SCHEDULES}; received "
        f"{beta_schedule!r}."
    )


class DiffusionScheduler(Scheduler):
    """Base of the step rules: the forward process and its bookkeeping.

    The forward (noising) process of a variance-preserving diffusion with
    `T = num_train_timesteps` steps:

    ```
    q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)
    alpha_bar_t = prod_{s <= t} (1 - beta_s)
    ```

    A denoiser trained on `x_t` predicts, by `prediction_type`, the noise
    `epsilon`, the clean `sample` `x_0`, or the velocity
    `v = sqrt(alpha_bar_t) epsilon - sqrt(1 - alpha_bar_t) x_0`. Subclasses
    add one reverse step rule each (`step`). Every method is `keras.ops`,
    so a step runs inside `ops.fori_loop` and exports with XLA.

    Timesteps are integers in `[0, T)`; `-1` stands for "after the last
    step", where `alpha_bar = 1` (the clean data).

    Args:
        num_train_timesteps: int. `T`.
        beta_schedule: str. `"linear"`, `"scaled_linear"` or `"cosine"`.
        beta_start: float. `beta_1` of the linear schedules.
        beta_end: float. `beta_T` of the linear schedules.
        prediction_type: str. `"epsilon"`, `"sample"` or `"v_prediction"`.
        timestep_spacing: str or `None`. How `timesteps(n)` picks `n` of
            the `T` steps: `"leading"`, `"trailing"` or `"linspace"` (Lin
            et al. 2023, Table 2; the same names and rules as diffusers);
            `None` takes the step rule's default (`default_spacing`).
    """

    default_spacing = "leading"

    def __init__(
        self,
        num_train_timesteps=1000,
        beta_schedule="linear",
        beta_start=1e-4,
        beta_end=0.02,
        prediction_type="epsilon",
        timestep_spacing=None,
    ):
        if timestep_spacing is None:
            timestep_spacing = self.default_spacing
        num_train_timesteps = validate_int(
            num_train_timesteps,
            "num_train_timesteps",
            minimum=2,
            maximum=MAX_NUM_TRAIN_TIMESTEPS,
        )
        if not 0 < beta_start <= beta_end < 1:
            raise ValueError(
                "Expected 0 < `beta_start` <= `beta_end` < 1; received "
                f"beta_start={beta_start}, beta_end={beta_end}."
            )
        if prediction_type not in PREDICTION_TYPES:
            raise ValueError(
                f"`prediction_type` must be one of {PREDICTION_TYPES}; "
                f"received {prediction_type!r}."
            )
        if timestep_spacing not in TIMESTEP_SPACINGS:
            raise ValueError(
                f"`timestep_spacing` must be one of {TIMESTEP_SPACINGS}; "
                f"received {timestep_spacing!r}."
            )
        self.num_train_timesteps = num_train_timesteps
        self.beta_schedule = beta_schedule
        self.beta_start = beta_start
        self.beta_end = beta_end
        self.prediction_type = prediction_type
        self.timestep_spacing = timestep_spacing
        betas = make_betas(
            beta_schedule, num_train_timesteps, beta_start, beta_end
        )
        self.betas = betas.astype("float32")
        self.alphas_cumprod = np.cumprod(1.0 - betas).astype("float32")

    # === Schedule lookups ===

    def alpha_bar(self, timesteps):
        """`alpha_bar_t`, with `alpha_bar_{-1} = 1`."""
        timesteps = ops.convert_to_tensor(timesteps, "int32")
        table = ops.convert_to_tensor(self.alphas_cumprod)
        values = ops.take(table, ops.maximum(timesteps, 0))
        return ops.where(timesteps >= 0, values, ops.ones_like(values))

    def noise_level(self, timesteps):
        """`sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t)`: the noise
        scale of `x_t / sqrt(alpha_bar_t)`, the variance-exploding view
        (Karras et al. 2022); `0` at the data."""
        alpha_bar = self.alpha_bar(timesteps)
        return ops.sqrt((1.0 - alpha_bar) / alpha_bar)

    @staticmethod
    def _broadcast(values, like):
        """Per-example `(batch,)` values to `(batch, 1, ..., 1)`."""
        if len(values.shape) == 0:
            return values
        return ops.reshape(values, (-1,) + (1,) * (len(like.shape) - 1))

    # === Forward process and training targets ===

    def add_noise(self, original_samples, noise, timesteps):
        """`x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise`."""
        original_samples, noise = float_tensors(original_samples, noise)
        alpha_bar = self._broadcast(self.alpha_bar(timesteps), noise)
        return (
            ops.sqrt(alpha_bar) * original_samples
            + ops.sqrt(1.0 - alpha_bar) * noise
        )

    def get_velocity(self, original_samples, noise, timesteps):
        """`v = sqrt(alpha_bar_t) noise - sqrt(1 - alpha_bar_t) x_0`."""
        original_samples, noise = float_tensors(original_samples, noise)
        alpha_bar = self._broadcast(self.alpha_bar(timesteps), noise)
        return (
            ops.sqrt(alpha_bar) * noise
            - ops.sqrt(1.0 - alpha_bar) * original_samples
        )

    def training_target(self, original_samples, noise, timesteps):
        """What the denoiser learns to output, by `prediction_type`."""
        if self.prediction_type == "epsilon":
            return noise
        if self.prediction_type == "sample":
            return original_samples
        return self.get_velocity(original_samples, noise, timesteps)

    def predict_original_and_noise(self, model_output, sample, timesteps):
        """`(x_0, epsilon)` implied by the denoiser's output at `x_t`."""
        model_output, sample = float_tensors(model_output, sample)
        alpha_bar = self._broadcast(self.alpha_bar(timesteps), sample)
        signal, noise_scale = ops.sqrt(alpha_bar), ops.sqrt(1.0 - alpha_bar)
        if self.prediction_type == "epsilon":
            original = (sample - noise_scale * model_output) / signal
            return original, model_output
        if self.prediction_type == "sample":
            noise = (sample - signal * model_output) / noise_scale
            return model_output, noise
        original = signal * sample - noise_scale * model_output
        noise = signal * model_output + noise_scale * sample
        return original, noise

    def model_output_from_noise(self, noise, sample, timesteps):
        """The output of this prediction type that implies `noise` at
        `x_t = sample` (for guidance that edits the predicted noise)."""
        noise, sample = float_tensors(noise, sample)
        if self.prediction_type == "epsilon":
            return noise
        alpha_bar = self._broadcast(self.alpha_bar(timesteps), sample)
        signal, noise_scale = ops.sqrt(alpha_bar), ops.sqrt(1.0 - alpha_bar)
        original = (sample - noise_scale * noise) / signal
        if self.prediction_type == "sample":
            return original
        return signal * noise - noise_scale * original

    def posterior_mean_variance(self, original_samples, sample, timesteps):
        """Mean and variance of `q(x_{t-1} | x_t, x_0)` (DDPM eq. 7)."""
        original_samples, sample = float_tensors(original_samples, sample)
        timesteps = ops.convert_to_tensor(timesteps, "int32")
        alpha_bar = self._broadcast(self.alpha_bar(timesteps), sample)
        alpha_bar_prev = self._broadcast(self.alpha_bar(timesteps - 1), sample)
        beta = 1.0 - alpha_bar / alpha_bar_prev
        mean = (
            ops.sqrt(alpha_bar_prev) * beta / (1.0 - alpha_bar)
        ) * original_samples + (
            ops.sqrt(1.0 - beta) * (1.0 - alpha_bar_prev) / (1.0 - alpha_bar)
        ) * sample
        variance = (1.0 - alpha_bar_prev) / (1.0 - alpha_bar) * beta
        return mean, variance

    # === Inference timesteps ===

    def timesteps(self, num_inference_steps):
        """The `num_inference_steps` timesteps of a reverse run, descending.

        Returns:
            int32 NumPy array; `-1` is appended by `previous_timesteps`.
        """
        total = self.num_train_timesteps
        if (
            isinstance(num_inference_steps, bool)
            or not isinstance(num_inference_steps, (int, np.integer))
            or not 1 <= num_inference_steps <= total
        ):
            raise ValueError(
                f"`num_steps` must be an int in [1, {total}] (the number of "
                f"training timesteps); received {num_inference_steps!r}."
            )
        steps = int(num_inference_steps)
        if self.timestep_spacing == "leading":
            values = np.arange(steps) * (total // steps)
            values = values[::-1]
        elif self.timestep_spacing == "trailing":
            values = np.round(np.arange(total, 0, -total / steps)) - 1
        else:
            values = np.linspace(0, total - 1, steps).round()[::-1]
        return values.astype("int32")

    @staticmethod
    def previous_timesteps(timesteps):
        """The timestep each step lands on: the next one, `-1` at the end."""
        return np.append(timesteps[1:], -1).astype("int32")

    # === Reverse step ===

    def loop_points(self, timesteps):
        """`(points, next_points)` of `kgen.schedulers.sampling_loop`:
        each timestep once, stepping to the one after it."""
        return timesteps, self.previous_timesteps(timesteps)

    def initial_state(self, sample):
        """Extra loop state a multistep rule carries (none by default)."""
        return ()

    def step(
        self,
        model_output,
        timestep,
        previous_timestep,
        sample,
        state=(),
        noise=None,
    ):
        """One reverse step `x_t -> x_{t'}`, `t' = previous_timestep < t`.

        Args:
            model_output: the denoiser's output at `(sample, timestep)`.
            timestep: int scalar tensor `t`.
            previous_timestep: int scalar tensor `t'` (`-1`: the data).
            sample: `x_t`.
            state: what `initial_state` (or the previous step) returned.
            noise: standard normal noise shaped like `sample`, used by
                stochastic rules only.

        Returns:
            `(x_{t'}, state)`.
        """
        model_output, sample = float_tensors(model_output, sample)
        if noise is not None:
            (noise,) = float_tensors(noise)
        return self._step(
            model_output, timestep, previous_timestep, sample, state, noise
        )

    def _step(
        self, model_output, timestep, previous_timestep, sample, state, noise
    ):
        """The step rule on tensors; see `step`."""
        raise NotImplementedError

    def _to_variance_exploding(self, sample, timestep):
        """`(x_t / sqrt(alpha_bar_t), sigma_t)`: the Euler rules' view."""
        return (
            sample / ops.sqrt(self.alpha_bar(timestep)),
            self.noise_level(timestep),
        )

    def _from_variance_exploding(self, scaled, timestep):
        return scaled * ops.sqrt(self.alpha_bar(timestep))

    stochastic = False
    # The sampling loop's timesteps are integers.
    timestep_dtype = "int32"

    # === Serialization ===

    def get_config(self):
        return {
            "num_train_timesteps": self.num_train_timesteps,
            "beta_schedule": self.beta_schedule,
            "beta_start": self.beta_start,
            "beta_end": self.beta_end,
            "prediction_type": self.prediction_type,
            "timestep_spacing": self.timestep_spacing,
        }


keras.saving.register_keras_serializable(package="kgen")(DiffusionScheduler)
