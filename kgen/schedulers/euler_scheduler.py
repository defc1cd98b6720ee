import keras

from kgen.schedulers.diffusion_scheduler import DiffusionScheduler


@keras.saving.register_keras_serializable(package="kgen")
class EulerScheduler(DiffusionScheduler):
    """Euler steps of the probability-flow ODE.

    Notation (Karras et al. 2022, eq. 4 with `s(t) = 1`): in the
    variance-exploding view `y = x_t / sqrt(alpha_bar_t)` with noise level
    `sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t)`, the probability-flow
    ODE of the diffusion is `dy / dsigma = eps(y, sigma)`, so one Euler
    step from `sigma` to `sigma'` is

    ```
    y' = y + (sigma' - sigma) eps
    x_t' = sqrt(alpha_bar_t') y'
    ```

    Deterministic; the sample rule of diffusers' `EulerDiscreteScheduler`
    (no churn), on variance-preserving samples in and out so every kgen
    scheduler has the same interface.

    Args:
        **kwargs: the noise schedule, see `DiffusionScheduler`.

    References:
        1. Song et al. Score-Based Generative Modeling through Stochastic
           Differential Equations. 2021. arXiv:2011.13456.
        2. Karras et al. Elucidating the Design Space of Diffusion-Based
           Generative Models. 2022. arXiv:2206.00364.
    """

    default_spacing = "linspace"

    def _step(
        self, model_output, timestep, previous_timestep, sample, state, noise
    ):
        # 1. The noise the model sees in x_t.
        _, epsilon = self.predict_original_and_noise(
            model_output, sample, timestep
        )
        # 2. Into the variance-exploding view, one Euler step, and back.
        scaled, sigma = self._to_variance_exploding(sample, timestep)
        sigma_prev = self.noise_level(previous_timestep)
        scaled = scaled + (sigma_prev - sigma) * epsilon
        return self._from_variance_exploding(scaled, previous_timestep), state
