import keras
from keras import ops

from kgen.schedulers.diffusion_scheduler import DiffusionScheduler
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_probability


@keras.saving.register_keras_serializable(package="kgen")
class DDIMScheduler(DiffusionScheduler):
    """Denoising diffusion implicit models: `eta = 0` is deterministic.

    Notation (Song et al. 2021, eq. 12): `x_t` is `sample`, `x_{t'}` the
    returned sample, `eps` the predicted noise, `x_0` the predicted data:

    ```
    sigma = eta sqrt((1 - alpha_bar_t') / (1 - alpha_bar_t))
                sqrt(1 - alpha_bar_t / alpha_bar_t')
    x_t' = sqrt(alpha_bar_t') x_0
           + sqrt(1 - alpha_bar_t' - sigma^2) eps + sigma z
    ```

    `eta = 1` gives DDPM's ancestral step (its "fixed_small" variance);
    `eta = 0` the probability-flow-like deterministic map, which makes few
    steps (10-50) usable.

    Args:
        num_train_timesteps: int. `T`, the training's steps.
        eta: float in `[0, 1]`. The noise weight.
        clip_sample: bool. Clip the predicted `x_0` to `[-1, 1]`.
        set_alpha_to_one: bool. The final step lands on `alpha_bar = 1`
            (the data) if `True`, else on `alpha_bar_0`.
        steps_offset: int. Added to every timestep of a "leading"
            spacing (diffusers' option of the same name: Stable
            Diffusion's configs set 1, so 50 steps run 981, 961, ..., 1).
        use_clipped_model_output: bool. Recompute eps from the clipped
            `x_0` (diffusers' option of the same name), so both terms of
            eq. 12 agree. With `False` (the paper's and diffusers' default)
            a large eps, as classifier-free guidance makes, leaves `x_0`
            clipped but moves the sample by the unclipped eps.
        **kwargs: the rest of the noise schedule, see `DiffusionScheduler`.

    References:
        1. Song et al. Denoising Diffusion Implicit Models. 2021.
           arXiv:2010.02502.
    """

    def __init__(
        self,
        num_train_timesteps=1000,
        *,
        eta=0.0,
        clip_sample=True,
        set_alpha_to_one=True,
        use_clipped_model_output=False,
        steps_offset=0,
        **kwargs,
    ):
        super().__init__(num_train_timesteps, **kwargs)
        self.eta = validate_probability(eta, "eta")
        self.clip_sample = clip_sample
        self.set_alpha_to_one = set_alpha_to_one
        self.use_clipped_model_output = use_clipped_model_output
        self.steps_offset = validate_int(
            steps_offset,
            "steps_offset",
            minimum=0,
            maximum=self.num_train_timesteps - 1,
        )

    def timesteps(self, num_inference_steps):
        timesteps = super().timesteps(num_inference_steps)
        if self.timestep_spacing != "leading" or not self.steps_offset:
            return timesteps
        if timesteps[0] + self.steps_offset >= self.num_train_timesteps:
            last = self.num_train_timesteps - 1
            raise ValueError(
                f"`steps_offset` {self.steps_offset} moves "
                f"{num_inference_steps} steps past the last timestep, {last}."
            )
        return timesteps + self.steps_offset

    @property
    def stochastic(self):
        return self.eta > 0

    def _step(
        self, model_output, timestep, previous_timestep, sample, state, noise
    ):
        # 1. alpha_bar at both ends; the last step lands on 1 or alpha_bar_0.
        alpha_bar = self.alpha_bar(timestep)
        final = 1.0 if self.set_alpha_to_one else float(self.alphas_cumprod[0])
        alpha_bar_prev = ops.where(
            previous_timestep >= 0, self.alpha_bar(previous_timestep), final
        )
        # 2. Predicted x_0 (clipped) and eps; eps stays the unclipped
        #    prediction unless `use_clipped_model_output`.
        original, epsilon = self.predict_original_and_noise(
            model_output, sample, timestep
        )
        if self.clip_sample:
            original = ops.clip(original, -1.0, 1.0)
            if self.use_clipped_model_output:
                epsilon = (sample - ops.sqrt(alpha_bar) * original) / ops.sqrt(
                    1.0 - alpha_bar
                )
        # 3. sigma_t(eta) (eq. 16).
        variance = (
            (1.0 - alpha_bar_prev)
            / (1.0 - alpha_bar)
            * (1.0 - alpha_bar / alpha_bar_prev)
        )
        sigma = self.eta * ops.sqrt(variance)
        # 4. Eq. 12: the predicted x_0, the direction to x_t, and noise.
        prev_sample = (
            ops.sqrt(alpha_bar_prev) * original
            + ops.sqrt(1.0 - alpha_bar_prev - sigma**2) * epsilon
        )
        if self.eta > 0 and noise is not None:
            prev_sample = prev_sample + sigma * noise
        return prev_sample, state

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "eta": self.eta,
                "clip_sample": self.clip_sample,
                "set_alpha_to_one": self.set_alpha_to_one,
                "use_clipped_model_output": self.use_clipped_model_output,
                "steps_offset": self.steps_offset,
            }
        )
        return config
