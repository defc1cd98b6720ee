import math

import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen import schedulers
from kgen.models.generative_model import GenerativeModel
from kgen.utils.data_validation import validate_array
from kgen.utils.data_validation import validate_labels


@keras.saving.register_keras_serializable(package="kgen")
class DiffusionModel(GenerativeModel):
    """A denoising diffusion model trained on the noise-prediction loss.

    Training draws `t ~ U{0, ..., T-1}` and `eps ~ N(0, I)` per example,
    noises the data with the scheduler's forward process and regresses the
    denoiser's output on the target of the prediction type:

    ```
    x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps
    loss = E ||target(x_0, eps, t) - denoiser(x_t, t)||^2
    target = eps ("epsilon") | x_0 ("sample") | v ("v_prediction")
    v = sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x_0
    ```

    `sample` runs any `kgen.schedulers` step rule as one `ops.fori_loop`
    (so it compiles and exports), with classifier-free guidance
    `(1 + w) eps(x_t, c) - w eps(x_t)` for class-conditional models
    (trained with label dropout) and classifier guidance
    `eps - s sqrt(1 - alpha_bar_t) grad log p(c | x_t)` with a
    noise-conditional classifier. `inpaint` fills a masked region;
    `negative_elbo` / `bits_per_dim` give the variational bound.

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

    nested_arguments = ("denoiser", "scheduler")
    accepts_labels = True

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
        if num_classes is not None and (
            not isinstance(num_classes, int) or num_classes < 1
        ):
            raise ValueError(
                "`num_classes` must be a positive int or None; received "
                f"{num_classes!r}."
            )
        if not 0.0 <= condition_dropout < 1.0:
            raise ValueError(
                "`condition_dropout` must lie in [0, 1); received "
                f"{condition_dropout!r}."
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
        return self.denoiser(
            self.denoiser_inputs(noisy, timesteps, labels, condition),
            training=False,
        )

    def call(self, inputs, training=False):
        """One training draw: `{"prediction", "target"}` for a batch."""
        images, labels, condition = self._unpack(inputs, training)
        batch = ops.shape(images)[0]
        timesteps = keras.random.randint(
            (batch,), 0, self.num_train_timesteps, seed=self.seed_generator
        )
        timesteps = ops.cast(timesteps, "int32")
        noise = keras.random.normal(ops.shape(images), seed=self.seed_generator)
        noisy = self.scheduler.add_noise(images, noise, timesteps)
        if labels is not None:
            labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
            if training and self.condition_dropout > 0:
                dropped = (
                    keras.random.uniform((batch,), seed=self.seed_generator)
                    < self.condition_dropout
                )
                labels = ops.where(dropped, self.num_classes, labels)
        prediction = self.denoiser(
            self.denoiser_inputs(noisy, timesteps, labels, condition),
            training=training,
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
        if sample_weight is not None:
            return ops.sum(loss * sample_weight) / ops.sum(sample_weight)
        return ops.mean(loss)

    # === Sampling ===

    def get_scheduler(self, scheduler):
        """A step rule on this model's noise schedule.

        Args:
            scheduler: a name from `kgen.schedulers.SCHEDULERS` (`"ddpm"`,
                `"ddim"`, `"dpm_solver"`, `"euler"`, `"euler_maruyama"`)
                or a `DiffusionScheduler` built on the same schedule.
        """
        if isinstance(scheduler, schedulers.DiffusionScheduler):
            same = (
                scheduler.num_train_timesteps == self.num_train_timesteps
                and np.allclose(
                    scheduler.alphas_cumprod, self.scheduler.alphas_cumprod
                )
                and scheduler.prediction_type == self.scheduler.prediction_type
            )
            if not same:
                raise ValueError(
                    "`scheduler` must use the model's noise schedule and "
                    f"prediction type ({self.scheduler}); received "
                    f"{scheduler}."
                )
            return scheduler
        if not isinstance(scheduler, str):
            raise ValueError(
                "`scheduler` must be a name or a DiffusionScheduler; received "
                f"{scheduler!r}."
            )
        schedule = self.scheduler.get_config()
        config = {
            name: schedule[name]
            for name in (
                "num_train_timesteps",
                "beta_schedule",
                "beta_start",
                "beta_end",
                "prediction_type",
            )
        }
        if scheduler in ("ddpm", "ddim", "dpm_solver"):
            config["clip_sample"] = self.sample_range == (-1.0, 1.0)
        if scheduler == "ddim" and config["clip_sample"]:
            # Keeps eq. 12 consistent when x_0 is clipped: with the
            # unclipped eps, classifier-free guidance (scale 1) dropped
            # MNIST label accuracy from 91% to 28%; with it, 92% -> 100%.
            config["use_clipped_model_output"] = True
        return schedulers.get(scheduler, **config)

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        num_steps=None,
        scheduler="ddpm",
        guidance_scale=0.0,
        classifier=None,
        classifier_scale=1.0,
    ):
        """Draws samples by running a reverse diffusion from pure noise.

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            labels: int or int array of class ids (conditional models;
                drawn uniformly when omitted).
            num_steps: int in `[1, T]`; defaults to `T` (all training
                steps).
            scheduler: a step-rule name or scheduler, see `get_scheduler`.
            guidance_scale: float `w` of classifier-free guidance (0 = none);
                needs a class-conditional model.
            classifier: optional noise-conditional classifier
                `[x_t, timesteps] -> logits` for classifier guidance.
            classifier_scale: float `s` of classifier guidance.

        Returns:
            Samples of shape `(num_samples,) + sample_shape`.
        """
        self._check_num_samples(num_samples)
        return self._generate(
            num_samples,
            num_steps,
            scheduler,
            seed,
            labels=labels,
            guidance_scale=guidance_scale,
            classifier=classifier,
            classifier_scale=classifier_scale,
        )

    def _generate(
        self,
        num_samples,
        num_steps,
        scheduler,
        seed,
        labels=None,
        guidance_scale=0.0,
        classifier=None,
        **loop_arguments,
    ):
        """What every sampling method shares: the step rule and its
        timesteps, seeds, labels, the starting noise and the loop."""
        scheduler = self.get_scheduler(scheduler)
        timesteps = scheduler.timesteps(
            self.num_train_timesteps if num_steps is None else num_steps
        )
        seed = self._seed_generator(seed)
        labels = self._sampling_labels(
            labels, num_samples, guidance_scale, classifier, seed
        )
        noise = keras.random.normal(
            (num_samples,) + self.sample_shape, seed=seed
        )
        with backend.no_grad():
            return self.reverse_diffusion(
                noise,
                scheduler,
                timesteps,
                labels=labels,
                guidance_scale=guidance_scale,
                classifier=classifier,
                loop_seed=self._loop_seed(seed),
                **loop_arguments,
            )

    def _sampling_labels(
        self, labels, num_samples, guidance_scale, classifier, seed
    ):
        if guidance_scale and self.num_classes is None:
            raise ValueError(
                "Classifier-free guidance (`guidance_scale` != 0) needs a "
                "class-conditional model: build it with `num_classes` and "
                "train it with `condition_dropout` > 0."
            )
        if labels is None:
            if classifier is not None:
                raise ValueError("Classifier guidance needs `labels`.")
            if self.num_classes is None:
                return None
            return ops.cast(
                keras.random.randint(
                    (num_samples,), 0, self.num_classes, seed=seed
                ),
                "int32",
            )
        if self.num_classes is None and classifier is None:
            raise ValueError(
                "`labels` were given, but the model is unconditional "
                "(`num_classes=None`) and no `classifier` guides it."
            )
        num_classes = self.num_classes
        if num_classes is None:
            num_classes = classifier.outputs[0].shape[-1]
        return ops.convert_to_tensor(
            validate_labels(labels, num_samples, num_classes)
        )

    def reverse_diffusion(
        self,
        noise,
        scheduler,
        timesteps,
        labels=None,
        condition=None,
        guidance_scale=0.0,
        classifier=None,
        classifier_scale=1.0,
        loop_seed=None,
        known=None,
        mask=None,
    ):
        """Runs `scheduler` from `noise` over `timesteps` as one
        `ops.fori_loop` over `denoise_step`."""
        timestep_table = ops.convert_to_tensor(timesteps, "int32")
        previous_table = ops.convert_to_tensor(
            scheduler.previous_timesteps(timesteps), "int32"
        )
        if loop_seed is None:
            loop_seed = ops.zeros((2,), "int32")

        def body(index, carry):
            sample, state = carry
            return self.denoise_step(
                sample,
                ops.take(timestep_table, index),
                ops.take(previous_table, index),
                scheduler,
                state=state,
                labels=labels,
                condition=condition,
                guidance_scale=guidance_scale,
                classifier=classifier,
                classifier_scale=classifier_scale,
                step_seed=loop_seed + ops.stack([0, index]),
                known=known,
                mask=mask,
            )

        carry = (noise, scheduler.initial_state(noise))
        sample, _ = ops.fori_loop(0, len(timesteps), body, carry)
        if self.sample_range is not None:
            # Like diffusers' pipelines: samples leave in the data range
            # (few-step ODE solvers do not clip on the way).
            sample = ops.clip(sample, *self.sample_range)
        return sample

    def denoise_step(
        self,
        sample,
        timestep,
        previous_timestep,
        scheduler,
        state=(),
        labels=None,
        condition=None,
        guidance_scale=0.0,
        classifier=None,
        classifier_scale=1.0,
        step_seed=None,
        known=None,
        mask=None,
    ):
        """One reverse step `x_t -> x_{t'}` with guidance and inpainting.

        Returns:
            `(x_{t'}, state)`.
        """
        # 1. The denoiser's output, with classifier-free guidance.
        if guidance_scale:
            batch = ops.shape(sample)[0]
            both = self.denoise(
                ops.concatenate([sample, sample], axis=0),
                timestep,
                ops.concatenate(
                    [labels, ops.full((batch,), self.num_classes, "int32")],
                    axis=0,
                ),
                None
                if condition is None
                else ops.concatenate([condition, condition], axis=0),
            )
            conditional, unconditional = both[:batch], both[batch:]
            model_output = conditional + guidance_scale * (
                conditional - unconditional
            )
        else:
            model_output = self.denoise(sample, timestep, labels, condition)
        # 2. Classifier guidance: move the predicted noise down the
        #    classifier's log-likelihood gradient (Dhariwal & Nichol eq. 14).
        if classifier is not None:
            _, predicted_noise = scheduler.predict_original_and_noise(
                model_output, sample, timestep
            )
            gradient = self._classifier_gradient(
                classifier, sample, timestep, labels
            )
            noise_scale = ops.sqrt(1.0 - scheduler.alpha_bar(timestep))
            predicted_noise = (
                predicted_noise - classifier_scale * noise_scale * gradient
            )
            model_output = scheduler.model_output_from_noise(
                predicted_noise, sample, timestep
            )
        # 3. The step rule, with fresh noise for stochastic rules.
        noise = None
        if scheduler.stochastic:
            noise = backend.stateless_normal(ops.shape(sample), step_seed)
        sample, state = scheduler.step(
            model_output, timestep, previous_timestep, sample, state, noise
        )
        # 4. Inpainting: the known pixels, noised to the level just
        #    reached, replace the sample's (exact at the final step).
        if mask is not None:
            known_noise = backend.stateless_normal(
                ops.shape(known), step_seed + ops.convert_to_tensor([1, 0])
            )
            noisy_known = scheduler.add_noise(
                known, known_noise, previous_timestep
            )
            sample = mask * noisy_known + (1.0 - mask) * sample
        return sample, state

    def _classifier_gradient(self, classifier, sample, timestep, labels):
        batch = ops.shape(sample)[0]
        timesteps = ops.full((batch,), timestep, "int32")
        one_hot = ops.one_hot(labels, classifier.outputs[0].shape[-1])

        def log_likelihood(x):
            logits = classifier([x, timesteps], training=False)
            return ops.sum(ops.log_softmax(logits, axis=-1) * one_hot, axis=-1)

        return backend.grad(log_likelihood, sample)

    # === Inpainting ===

    def inpaint(
        self,
        images,
        mask,
        *,
        seed=None,
        labels=None,
        num_steps=None,
        scheduler="ddpm",
        guidance_scale=0.0,
    ):
        """Fills the region where `mask == 0`, keeping the rest of `images`.

        After every reverse step the known pixels are replaced by
        `q(x_t' | x_0)` draws of the originals (Lugmayr et al. 2022 without
        resampling), so the last step returns them exactly.

        Args:
            images: array `(batch,) + sample_shape` in the data range.
            mask: array of 0s (hole) and 1s (known) broadcastable to
                `images`, e.g. `(batch, height, width, 1)` or
                `(height, width, 1)`.
        """
        images = np.asarray(ops.convert_to_numpy(images), "float32")
        validate_array(images, self.sample_shape, "images", self.sample_range)
        mask = np.asarray(ops.convert_to_numpy(mask), "float32")
        try:
            broadcast = np.broadcast_shapes(mask.shape, images.shape)
        except ValueError:
            broadcast = None
        if broadcast != images.shape:
            raise ValueError(
                f"`mask` of shape {mask.shape} does not broadcast to the "
                f"images' shape {images.shape}."
            )
        if not np.isin(mask, (0.0, 1.0)).all():
            raise ValueError("`mask` must hold only 0 (hole) and 1 (known).")
        return self._generate(
            len(images),
            num_steps,
            scheduler,
            seed,
            labels=labels,
            guidance_scale=guidance_scale,
            known=ops.convert_to_tensor(images),
            mask=ops.convert_to_tensor(np.broadcast_to(mask, images.shape)),
        )

    # === Likelihood bound ===

    def negative_elbo(self, x, num_timesteps=None, labels=None, seed=None):
        """The variational bound `-log p(x) <= L`, nats per example.

        ```
        L = KL(q(x_T|x_0) || N(0, I))
            + sum_{t>1} E_q KL(q(x_{t-1}|x_t, x_0) || p(x_{t-1}|x_t))
            - E_q log p(x_0|x_1)
        ```

        with DDPM's fixed posterior variances and a discretised Gaussian
        decoder over 256 levels in `[-1, 1]` (Ho et al. 2020, eq. 5 and
        section 3.3). Summed over all `T` steps when `num_timesteps` is
        `None` (`T` denoiser passes), else the KL terms of `t > 1` are
        estimated without bias from `num_timesteps` uniformly drawn steps
        per example (the prior and decoder terms stay exact).
        """
        x = ops.convert_to_tensor(x, "float32")
        seed = self._seed_generator(seed)
        total = self.num_train_timesteps
        batch = ops.shape(x)[0]
        if labels is not None:
            labels = ops.convert_to_tensor(
                validate_labels(labels, batch, self.num_classes)
            )
        axes = tuple(range(1, len(x.shape)))
        # Prior term: KL(N(sqrt(a) x, 1 - a) || N(0, 1)) per coordinate.
        alpha_bar = self.scheduler.alpha_bar(total - 1)
        prior = 0.5 * ops.sum(
            alpha_bar * ops.square(x)
            + (1.0 - alpha_bar)
            - 1.0
            - ops.log(1.0 - alpha_bar),
            axis=axes,
        )
        # The decoder term (t = 0) is computed exactly: it dwarfs the
        # others, so sampling it would make a high-variance estimate.
        if num_timesteps is None:
            draws = [ops.full((batch,), t, "int32") for t in range(1, total)]
            weight = 1.0
        else:
            if not isinstance(num_timesteps, int) or num_timesteps < 1:
                raise ValueError(
                    "`num_timesteps` must be a positive int or None; "
                    f"received {num_timesteps!r}."
                )
            draws = [
                ops.cast(
                    keras.random.randint((batch,), 1, total, seed=seed),
                    "int32",
                )
                for _ in range(num_timesteps)
            ]
            weight = (total - 1) / num_timesteps
        with backend.no_grad():
            decoder = self._bound_term(
                x, ops.zeros((batch,), "int32"), labels, seed
            )
            terms = ops.zeros((batch,))
            for timesteps in draws:
                terms = terms + self._bound_term(x, timesteps, labels, seed)
        return prior + decoder + weight * terms

    def _bound_term(self, x, timesteps, labels, seed):
        axes = tuple(range(1, len(x.shape)))
        noise = keras.random.normal(ops.shape(x), seed=seed)
        noisy = self.scheduler.add_noise(x, noise, timesteps)
        output = self.denoise(noisy, timesteps, labels)
        original, _ = self.scheduler.predict_original_and_noise(
            output, noisy, timesteps
        )
        # t > 0: KL between Gaussians of equal variance.
        safe = ops.maximum(timesteps, 1)
        true_mean, variance = self.scheduler.posterior_mean_variance(
            x, noisy, safe
        )
        model_mean, _ = self.scheduler.posterior_mean_variance(
            original, noisy, safe
        )
        kl = ops.sum(
            ops.square(true_mean - model_mean) / (2.0 * variance), axis=axes
        )
        # t = 0: the discretised Gaussian decoder with variance beta_1.
        decoder = -ops.sum(
            _discretized_gaussian_log_prob(
                x, original, float(self.scheduler.betas[0])
            ),
            axis=axes,
        )
        return ops.where(timesteps > 0, kl, decoder)

    def bits_per_dim(self, x, num_timesteps=None, labels=None, seed=None):
        """`negative_elbo / (D log 2)` for data on 256 levels in `[-1, 1]`."""
        dims = int(np.prod(self.sample_shape))
        return self.negative_elbo(x, num_timesteps, labels, seed) / (
            dims * math.log(2.0)
        )

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


def _standard_normal_cdf(x):
    return 0.5 * (1.0 + ops.erf(x / math.sqrt(2.0)))


def _discretized_gaussian_log_prob(x, mean, variance):
    """`log P(x)` of a Gaussian integrated over the 256-level bin of `x`
    in `[-1, 1]`; the end bins extend to infinity (Ho et al. 2020)."""
    scale = math.sqrt(variance)
    half_bin = 1.0 / 255.0
    upper = _standard_normal_cdf((x - mean + half_bin) / scale)
    lower = _standard_normal_cdf((x - mean - half_bin) / scale)
    probability = ops.where(
        x < -0.999, upper, ops.where(x > 0.999, 1.0 - lower, upper - lower)
    )
    return ops.log(ops.maximum(probability, 1e-12))
