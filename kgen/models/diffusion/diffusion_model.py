import math

import keras
import numpy as np
from keras import ops

from kgen import schedulers
from kgen.models.conditioning import Conditioning
from kgen.models.diffusion import likelihood_bound
from kgen.models.diffusion.diffusion_sampling import DiffusionSampling
from kgen.models.generative_model import GenerativeModel
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.argument_validation import validate_probability
from kgen.utils.data_validation import validate_input
from kgen.utils.data_validation import validate_labels
from kgen.utils.mixed_precision import to_float32


@keras.saving.register_keras_serializable(package="kgen")
class DiffusionModel(DiffusionSampling, GenerativeModel):
    """A denoising diffusion model trained on the noise-prediction loss.

    Training draws `t ~ U{0, ..., T-1}` and `eps ~ N(0, I)` per example,
    noises the data with the scheduler's forward process and regresses the
    denoiser's output on the target of the prediction type:

    ```
    x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps
    loss = E ||target(x_0, eps, t) - denoiser(x_t, t)||**2
    target = eps ("epsilon") | x_0 ("sample") | v ("v_prediction")
    v = sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x_0
    ```

    `sample` runs any `kgen.schedulers` step rule as one `ops.fori_loop`
    (so it compiles and exports), with classifier-free guidance
    `(1 + w) eps(x_t, c) - w eps(x_t)` for class-conditional models
    (trained with label dropout) and classifier guidance
    `eps - s sqrt(1 - alpha_bar_t) grad log p(c | x_t)` with a
    noise-conditional classifier. `inpaint` fills a masked region;
    `elbo` / `bits_per_dim` give the variational bound.

    For EMA weights, compile with `keras.optimizers.Adam(...,
    use_ema=True)`: Keras keeps the average and swaps it into the model at
    the end of `fit`, so `sample` and exports use it.

    Args:
        denoiser: `keras.Model` `[x_t, timesteps] -> output` shaped like
            `x_t` (e.g. `kgen.networks.unet_denoiser`), with a third int
            `labels` input when `num_classes` is set.
        scheduler: a `kgen.schedulers.DiffusionScheduler`; its noise
            schedule is the forward process. Defaults to a 1000-step linear
            `DDPMScheduler`.
        prediction_type: str or `None`. `"epsilon"`, `"sample"` or
            `"v_prediction"`; overrides the scheduler's when given.
        num_classes: int or `None`. Makes the model class-conditional:
            `fit(images, labels)`, `sample(n, labels=...)`.
        condition_dropout: float in `[0, 1)`. Probability of training on
            the "no label" class, which classifier-free guidance needs.
        seed: int or `None`.

    Example:

    ```python
    (x, _), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    model = kgen.models.DiffusionModel(
        kgen.networks.unet_denoiser((8, 8, 1)), seed=0
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x, epochs=1)
    images = model.sample(16, num_steps=50, scheduler="ddim", seed=1)
    ```

    References:
        1. Ho et al. Denoising Diffusion Probabilistic Models. 2020.
           arXiv:2006.11239.
        2. Ho & Salimans. Classifier-Free Diffusion Guidance. 2022.
           arXiv:2207.12598.
        3. Dhariwal & Nichol. Diffusion Models Beat GANs on Image
           Synthesis. 2021. arXiv:2105.05233 (classifier guidance).
    """

    capabilities = (
        "sample",
        "bits_per_dim",
        "elbo",
        "invert",
        "inpaint",
    )

    nested_arguments = ("denoiser", "scheduler")
    conditioning = Conditioning(labels=True)

    def __init__(
        self,
        denoiser,
        scheduler=None,
        prediction_type=None,
        num_classes=None,
        condition_dropout=0.1,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        if scheduler is None:
            scheduler = schedulers.DDPMScheduler()
        if not isinstance(scheduler, schedulers.DiffusionScheduler):
            raise ValueError(
                "`scheduler` must be a kgen.schedulers.DiffusionScheduler; "
                f"received {type(scheduler).__name__}."
            )
        if prediction_type is not None:
            scheduler = type(scheduler).from_config(
                dict(scheduler.get_config(), prediction_type=prediction_type)
            )
        num_classes = validate_optional_int(num_classes, "num_classes")
        condition_dropout = validate_probability(
            condition_dropout, "condition_dropout", exclusive_maximum=True
        )
        expected_inputs = self._num_denoiser_inputs(num_classes)
        if len(denoiser.inputs) != expected_inputs:
            raise ValueError(
                f"`denoiser` must take {expected_inputs} inputs "
                f"({', '.join(self._denoiser_input_names(num_classes))}); "
                f"it takes {len(denoiser.inputs)}."
            )
        self.denoiser = denoiser
        self.scheduler = scheduler
        self.prediction_type = prediction_type
        self.num_classes = num_classes
        self.condition_dropout = condition_dropout
        if denoiser.built:
            self.built = True

    # === Shapes and data ===

    def _denoiser_input_names(self, num_classes):
        names = ["x_t", "timesteps"]
        if num_classes is not None:
            names.append("labels")
        return names

    def _num_denoiser_inputs(self, num_classes):
        return len(self._denoiser_input_names(num_classes))

    @property
    def sample_shape(self):
        """Shape of one sample of the diffusion (the denoiser's input)."""
        return tuple(self.denoiser.inputs[0].shape[1:])

    @property
    def data_shape(self):
        return self.sample_shape

    @property
    def sample_range(self):
        """`(low, high)` the diffusion's samples live in, or `None`.

        Images live in `[-1, 1]`, where the step rules clip the predicted
        `x_0` and the final samples; vectors (2-D toys, latents) are
        unbounded."""
        return (-1.0, 1.0) if len(self.sample_shape) == 3 else None

    @property
    def data_range(self):
        return self.sample_range

    @property
    def num_train_timesteps(self):
        return self.scheduler.num_train_timesteps

    # === Training ===

    def _unpack(self, inputs, training=False):
        """`(samples, labels, condition)` from what `fit` feeds `call`."""
        if isinstance(inputs, dict):
            labels = inputs.get("labels")
            if labels is not None:
                labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
            return inputs["images"], labels, None
        return inputs, None, None

    def denoiser_inputs(self, noisy, timesteps, labels=None, condition=None):
        """The denoiser's input list; subclasses add conditions."""
        inputs = [noisy, timesteps]
        if self.num_classes is not None:
            inputs.append(labels)
        return inputs

    def denoise(self, noisy, timesteps, labels=None, condition=None):
        """The denoiser's output at `(x_t, t)`; `timesteps` may be one int
        for the whole batch."""
        noisy = ops.convert_to_tensor(noisy, "float32")
        timesteps = ops.convert_to_tensor(timesteps, "int32")
        if labels is not None:
            labels = ops.convert_to_tensor(labels, "int32")
        if condition is not None:
            condition = ops.convert_to_tensor(condition, "float32")
        if len(timesteps.shape) == 0:
            timesteps = ops.full((ops.shape(noisy)[0],), timesteps, "int32")
        if self.num_classes is not None and labels is None:
            labels = ops.full((ops.shape(noisy)[0],), self.num_classes, "int32")
        return to_float32(
            self.denoiser(
                self.denoiser_inputs(noisy, timesteps, labels, condition),
                training=False,
            )
        )

    def call(self, inputs, training=False):
        """One training draw: `{"prediction", "target"}` for a batch."""
        images, labels, condition = self._unpack(inputs, training)
        batch = ops.shape(images)[0]
        timesteps = batch_random.randint(
            (batch,), 0, self.num_train_timesteps, self.seed_generator
        )
        timesteps = ops.cast(timesteps, "int32")
        noise = batch_random.normal(ops.shape(images), self.seed_generator)
        noisy = self.scheduler.add_noise(images, noise, timesteps)
        if labels is not None:
            labels = self._drop_labels(labels, self.condition_dropout, training)
        prediction = to_float32(
            self.denoiser(
                self.denoiser_inputs(noisy, timesteps, labels, condition),
                training=training,
            )
        )
        target = self.scheduler.training_target(images, noise, timesteps)
        return {"prediction": prediction, "target": target}

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y_pred is None:
            y_pred = self(x, training=training)
        axes = tuple(range(1, len(y_pred["prediction"].shape)))
        loss = ops.mean(
            ops.square(y_pred["prediction"] - y_pred["target"]), axis=axes
        )
        return self._mean_over_examples(loss, sample_weight)

    # === Likelihood bound ===

    def elbo(self, x, *, labels=None, num_steps=None, seed=None):
        """The variational lower bound `log p(x) >= -L`, nats per example.

        ```
        L = KL(q(x_T|x_0) || N(0, I))
            + sum_{t>1} E_q KL(q(x_{t-1}|x_t, x_0) || p(x_{t-1}|x_t))
            - E_q log p(x_0|x_1)
        ```

        with DDPM's fixed posterior variances and a discretised Gaussian
        decoder over 256 levels in `[-1, 1]` (Ho et al. 2020, eq. 5 and
        section 3.3). Summed over all `T` steps when `num_steps` is `None`
        (`T` denoiser passes), else the KL terms of `t > 1` are estimated
        without bias from `num_steps` uniformly drawn steps per example
        (the prior and decoder terms stay exact).
        """
        # The bound is of what the denoiser models: a `LatentDiffusion`'s
        # latents, a `DiffusionModel`'s images.
        x = validate_input(x, self.sample_shape, "x", self.sample_range)
        x = ops.convert_to_tensor(x, "float32")
        if labels is not None:
            labels = ops.convert_to_tensor(
                validate_labels(labels, ops.shape(x)[0], self.num_classes)
            )
        return -likelihood_bound.negative_elbo(
            self, x, num_steps, labels, self._seed_generator(seed)
        )

    def bits_per_dim(self, x, *, labels=None, num_steps=None, seed=None):
        """`-elbo / (D log 2)` for data on 256 levels in `[-1, 1]`."""
        dims = int(np.prod(self.sample_shape))
        bound = self.elbo(x, labels=labels, num_steps=num_steps, seed=seed)
        return -bound / (dims * math.log(2.0))

    # === Export ===

    def serving_endpoints(self, scheduler="ddim", num_steps=50):
        """`sample` (noise -> samples by a deterministic DDIM run of
        `num_steps`, at most `T`) and `denoise_step` (`x_t, t -> ` the
        denoiser's output)."""
        scheduler = self.get_scheduler(scheduler)
        timesteps = scheduler.timesteps(
            min(num_steps, self.num_train_timesteps)
        )
        shape = (None,) + self.sample_shape
        noise = keras.InputSpec(shape=shape, dtype="float32")
        steps = keras.InputSpec(shape=(None,), dtype="int32")
        labels = keras.InputSpec(shape=(None,), dtype="int32")
        conditional = self.num_classes is not None

        def sample(noise, labels=None):
            return self.reverse_diffusion(
                noise, scheduler, timesteps, labels=labels
            )

        def denoise_step(noisy, timesteps, labels=None):
            return self.denoise(noisy, timesteps, labels)

        if conditional:
            return {
                "sample": (sample, [noise, labels]),
                "denoise_step": (denoise_step, [noise, steps, labels]),
            }
        return {
            "sample": (sample, [noise]),
            "denoise_step": (denoise_step, [noise, steps]),
        }

    # === Serialization ===

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "prediction_type": self.prediction_type,
                "num_classes": self.num_classes,
                "condition_dropout": self.condition_dropout,
            }
        )
        return config
