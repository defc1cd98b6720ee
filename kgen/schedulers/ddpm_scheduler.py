import keras
from keras import ops

from kgen.schedulers.diffusion_scheduler import DiffusionScheduler

VARIANCE_TYPES = ("fixed_small", "fixed_large")


@keras.saving.register_keras_serializable(package="kgen")
class DDPMScheduler(DiffusionScheduler):
    """Ancestral sampling of the DDPM reverse process.

    Notation (Ho et al. 2020): `x_t` is `sample`, `x_{t'}` the returned
    sample (`t' < t`, the next inference timestep, so respaced schedules
    work), `alpha_bar` as in `DiffusionScheduler`, and

    ```
    beta_t' = 1 - alpha_bar_t / alpha_bar_t'          (respaced beta)
    mu = sqrt(alpha_bar_t') beta_t' / (1 - alpha_bar_t) x_0
         + sqrt(1 - beta_t') (1 - alpha_bar_t') / (1 - alpha_bar_t) x_t
    x_t' = mu + sigma z,  z ~ N(0, I)  (no noise on the final step)
    sigma^2 = (1 - alpha_bar_t') / (1 - alpha_bar_t) beta_t'  "fixed_small"
    sigma^2 = beta_t'                                          "fixed_large"
    ```

    Args:
        num_train_timesteps: int. `T`, the training's steps.
        variance_type: str. `"fixed_small"` (the posterior variance, best
            for likelihood) or `"fixed_large"` (`beta`, Ho et al.'s
            alternative).
        clip_sample: bool. Clip the predicted `x_0` to `[-1, 1]`.
        **kwargs: the rest of the noise schedule, see `DiffusionScheduler`.

    References:
        1. Ho et al. Denoising Diffusion Probabilistic Models. 2020.
           arXiv:2006.11239.
    """

    stochastic = True

    def __init__(
        self,
        num_train_timesteps=1000,
        *,
        variance_type="fixed_small",
        clip_sample=True,
        **kwargs,
    ):
        super().__init__(num_train_timesteps, **kwargs)
        if variance_type not in VARIANCE_TYPES:
            raise ValueError(
                f"`variance_type` must be one of {VARIANCE_TYPES}; received "
                f"{variance_type!r}."
            )
        self.variance_type = variance_type
        self.clip_sample = clip_sample

    def _step(
        self, model_output, timestep, previous_timestep, sample, state, noise
    ):
        # 1. alpha_bar at both ends and the respaced beta.
        alpha_bar = self.alpha_bar(timestep)
        alpha_bar_prev = self.alpha_bar(previous_timestep)
        beta = 1.0 - alpha_bar / alpha_bar_prev
        # 2. Predicted x_0 (eq. 15), clipped to the data range.
        original, _ = self.predict_original_and_noise(
            model_output, sample, timestep
        )
        if self.clip_sample:
            original = ops.clip(original, -1.0, 1.0)
        # 3. Mean of q(x_t' | x_t, x_0) (eq. 7).
        mean = (
            ops.sqrt(alpha_bar_prev) * beta / (1.0 - alpha_bar) * original
            + ops.sqrt(1.0 - beta)
            * (1.0 - alpha_bar_prev)
            / (1.0 - alpha_bar)
            * sample
        )
        if noise is None:
            return mean, state
        # 4. Add noise, except on the step that lands on the data.
        if self.variance_type == "fixed_small":
            variance = ops.maximum(
                (1.0 - alpha_bar_prev) / (1.0 - alpha_bar) * beta, 1e-20
            )
        else:
            variance = beta
        scale = ops.where(timestep > 0, ops.sqrt(variance), 0.0)
        return mean + scale * noise, state

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "variance_type": self.variance_type,
                "clip_sample": self.clip_sample,
            }
        )
        return config
