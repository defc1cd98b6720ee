import keras
from keras import ops

from kgen.schedulers.diffusion_scheduler import DiffusionScheduler


@keras.saving.register_keras_serializable(package="kgen")
class EulerMaruyamaScheduler(DiffusionScheduler):
    """Euler-Maruyama steps of the reverse-time SDE.

    Notation (Song et al. 2021, eq. 6): in the variance-exploding view
    `y = x_t / sqrt(alpha_bar_t)` with `sigma_t = sqrt((1 - alpha_bar_t) /
    alpha_bar_t)`, the forward process is `dy = sqrt(d[sigma^2]/dt) dw`
    and its score is `grad log p(y) = -eps / sigma`. The reverse SDE
    discretised from `sigma` down to `sigma'`:

    ```
    y' = y + (sigma^2 - sigma'^2) grad log p(y) + sqrt(sigma^2 - sigma'^2) z
       = y - (sigma^2 - sigma'^2) / sigma eps + sqrt(sigma^2 - sigma'^2) z
    x_t' = sqrt(alpha_bar_t') y'
    ```

    The step onto the data (`sigma' = 0`) adds no noise: it returns the
    denoised `x_0 = y - sigma eps` (Tweedie's formula), the usual final
    denoising step of score-based samplers.

    Args:
        **kwargs: the noise schedule, see `DiffusionScheduler`.

    References:
        1. Song et al. Score-Based Generative Modeling through Stochastic
           Differential Equations. 2021. arXiv:2011.13456.
    """

    stochastic = True

    default_spacing = "linspace"

    def _step(
        self, model_output, timestep, previous_timestep, sample, state, noise
    ):
        # 1. The noise the model sees in x_t (the score times -sigma).
        _, epsilon = self.predict_original_and_noise(
            model_output, sample, timestep
        )
        # 2. Into the variance-exploding view; drift and diffusion terms.
        scaled, sigma = self._to_variance_exploding(sample, timestep)
        sigma_prev = self.noise_level(previous_timestep)
        variance = sigma**2 - sigma_prev**2
        scaled = scaled - variance / sigma * epsilon
        if noise is not None:
            scale = ops.where(previous_timestep >= 0, ops.sqrt(variance), 0.0)
            scaled = scaled + scale * noise
        # 3. Back to the variance-preserving x_t'.
        return self._from_variance_exploding(scaled, previous_timestep), state
