import keras
import numpy as np
from keras import ops

from kgen.schedulers.diffusion_scheduler import DiffusionScheduler


@keras.saving.register_keras_serializable(package="kgen")
class DPMSolverScheduler(DiffusionScheduler):
    """DPM-Solver++(2M): a second-order multistep solver of the
    probability-flow ODE in data (`x_0`) prediction form.

    Notation (Lu et al. 2022, Algorithm 2): `alpha_t = sqrt(alpha_bar_t)`,
    `sigma_t = sqrt(1 - alpha_bar_t)`, `lambda_t = log(alpha_t / sigma_t)`
    (half the log-SNR), `x_0(t)` the data predicted at step `t`. From `s`
    to `t` with step `h = lambda_t - lambda_s`:

    ```
    first order (DDIM):  x_t = sigma_t / sigma_s x_s
                               - alpha_t (exp(-h) - 1) D
        with D = x_0(s)
    second order (2M):   D = (1 + 1 / (2 r)) x_0(s) - 1 / (2 r) x_0(s')
        with r = (lambda_s - lambda_s') / h, s' the step before s
    ```

    The first step has no history and the last step lands on the data
    (`sigma = 0`); both are first order, as in diffusers with
    `final_sigmas_type="zero"`. The previous `x_0` and `lambda` ride in the
    loop state.

    Args:
        num_train_timesteps: int. `T`, the training's steps.
        clip_sample: bool. Clip the predicted `x_0` to `[-1, 1]` (static
            thresholding; diffusers' `thresholding` plays this role). The
            data prediction is extrapolated, so an imperfect pixel-space
            model's `x_0` at high noise can leave the data range far.
        **kwargs: the rest of the noise schedule, see
            `DiffusionScheduler` (spacing defaults to `"linspace"`, as in
            diffusers).

    References:
        1. Lu et al. DPM-Solver++: Fast Solver for Guided Sampling of
           Diffusion Probabilistic Models. 2022. arXiv:2211.01095.
    """

    default_spacing = "linspace"

    def __init__(
        self,
        num_train_timesteps=1000,
        *,
        clip_sample=False,
        **kwargs,
    ):
        super().__init__(num_train_timesteps, **kwargs)
        self.clip_sample = clip_sample

    def timesteps(self, num_inference_steps):
        # diffusers' DPM-Solver spaces n + 1 points and drops the last one
        # for "linspace" and "leading": the final step then goes from the
        # smallest kept timestep straight to the data.
        values = super().timesteps(num_inference_steps)
        total = self.num_train_timesteps
        points = num_inference_steps + 1
        if self.timestep_spacing == "linspace":
            values = np.linspace(0, total - 1, points).round()[::-1][:-1]
        elif self.timestep_spacing == "leading":
            values = (np.arange(points) * (total // points))[::-1][:-1]
        return values.astype("int32")

    def initial_state(self, sample):
        # (x_0 predicted at the previous step, its lambda, steps taken)
        return (
            ops.zeros_like(sample),
            ops.zeros((), sample.dtype),
            ops.zeros((), "int32"),
        )

    def _alpha_sigma_lambda(self, timestep):
        alpha_bar = self.alpha_bar(timestep)
        alpha, sigma = ops.sqrt(alpha_bar), ops.sqrt(1.0 - alpha_bar)
        # At the data (t = -1) sigma = 0 and lambda = +inf; a large finite
        # stand-in keeps exp(-h) = 0 without inf - inf.
        log_snr = ops.where(
            timestep >= 0,
            ops.log(alpha) - ops.log(ops.maximum(sigma, 1e-30)),
            1e30,
        )
        return alpha, sigma, log_snr

    def _step(
        self, model_output, timestep, previous_timestep, sample, state, noise
    ):
        previous_original, previous_lambda, steps_taken = state
        # 1. Data prediction at s = timestep.
        original, _ = self.predict_original_and_noise(
            model_output, sample, timestep
        )
        if self.clip_sample:
            original = ops.clip(original, -1.0, 1.0)
        # 2. alpha, sigma and lambda at s and at the target t.
        _, sigma_s, lambda_s = self._alpha_sigma_lambda(timestep)
        alpha_t, sigma_t, lambda_t = self._alpha_sigma_lambda(previous_timestep)
        h = lambda_t - lambda_s
        phi = alpha_t * (ops.exp(-h) - 1.0)
        # 3. Multistep correction D, first order without history and on
        #    the final step.
        second_order = ops.logical_and(steps_taken > 0, previous_timestep >= 0)
        safe_h = ops.where(second_order, h, 1.0)
        r = ops.where(second_order, (lambda_s - previous_lambda) / safe_h, 1.0)
        correction = ops.where(
            second_order,
            (original - previous_original) / (2.0 * r),
            ops.zeros_like(original),
        )
        # 4. x_t = sigma_t / sigma_s x_s - phi D.
        prev_sample = (sigma_t / sigma_s) * sample - phi * (
            original + correction
        )
        return prev_sample, (original, lambda_s, steps_taken + 1)

    def get_config(self):
        config = super().get_config()
        config["clip_sample"] = self.clip_sample
        return config
