"""The sampling half of `DiffusionModel`: step rules, guidance, the
reverse-diffusion loop and inpainting, on the model's `denoise`."""

import functools

import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen import schedulers
from kgen.models import public_inputs
from kgen.models.diffusion.guidance import autoguidance
from kgen.models.diffusion.guidance import cfg_plus_plus_scale
from kgen.models.diffusion.guidance import check_guidance_interval
from kgen.models.diffusion.guidance import check_guidance_rule
from kgen.models.diffusion.guidance import check_guide
from kgen.models.diffusion.guidance import classifier_free_guidance
from kgen.models.diffusion.guidance import classifier_guidance
from kgen.models.diffusion.step_rules import get_step_rule
from kgen.schedulers import sampling_loop
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import validate_input
from kgen.utils.data_validation import validate_labels


class DiffusionSampling:
    """Sampling methods of `DiffusionModel` (a mixin, kept apart so that
    the model's file holds its objective, export and configuration).

    Needs from the model: `denoise`, `scheduler`, `num_classes`,
    `sample_shape`, `sample_range` and `num_train_timesteps`.
    """

    def get_scheduler(self, scheduler):
        """A step rule on this model's noise schedule: a name from
        `kgen.schedulers.SCHEDULERS` (`"ddpm"`, `"ddim"`, `"dpm_solver"`,
        `"euler"`, `"euler_maruyama"`) or a `DiffusionScheduler` built on
        the same schedule (see `step_rules.get_step_rule`)."""
        return get_step_rule(scheduler, self.scheduler, self.sample_range)

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        num_steps=None,
        scheduler="ddpm",
        guidance_scale=0.0,
        guidance_interval=None,
        classifier=None,
        classifier_scale=1.0,
        watermark=None,
        guide=None,
        guidance="cfg",
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
            guidance_interval: `(low, high)` in [0, 1], or `None`: guide
                only the steps whose noise level `sqrt(1 - alpha_bar_t)`
                lies in it (Kynkaanniemi et al. 2024).
            classifier: optional noise-conditional classifier
                `[x_t, timesteps] -> logits` for classifier guidance.
            classifier_scale: float `s` of classifier guidance.
            watermark: optional key written into the start noise, such as
                a `kgen.watermarks.FourierNoiseWatermark` (its `embed`);
                sample with a deterministic rule (`"ddim"`) to find it
                again by `invert`.
            guide: optional `DiffusionModel` on the same noise schedule,
                a smaller or less-trained version of this one, for
                autoguidance (Karras et al. 2024): `guidance_scale` `w`
                then weighs `(1 + w) D(x_t | c) - w D_guide(x_t | c)`
                in place of the unconditional output, and the model may
                be unconditional.
            guidance: `"cfg"` (classifier-free guidance, or autoguidance
                with a `guide`) or `"cfg++"` (Chung et al. 2024): on
                `scheduler="ddim"`, each step's data estimate comes from
                the output guided at strength `guidance_scale` in (0, 1]
                and its noise from the unconditional one
                (`guidance.cfg_plus_plus_scale`). The DDIM steps then
                leave the predicted `x_0` unclipped, as the paper's do.

        Returns:
            Samples of shape `(num_samples,) + sample_shape`.
        """
        public_inputs.check_num_samples(num_samples)
        return self._generate(
            num_samples,
            num_steps,
            scheduler,
            seed,
            labels=labels,
            guidance_scale=guidance_scale,
            guidance_interval=guidance_interval,
            classifier=classifier,
            classifier_scale=classifier_scale,
            watermark=watermark,
            guide=guide,
            guidance=guidance,
        )

    def invert(self, samples, *, num_steps=50, labels=None):
        """The start noise from which deterministic DDIM over `num_steps`
        draws `samples` (`sampling_loop.ddim_inversion`): what a
        noise-level watermark is read from.

        Args:
            samples: `(batch,) + sample_shape` in the sample range.
            num_steps: int in `[1, T]`: the DDIM run to invert.
            labels: class ids of a class-conditional model; `None` runs
                it unconditioned (the "no label" class of classifier-free
                guidance), as when the labels are not known.

        Returns:
            Noise of the same shape as `samples`.
        """
        samples = validate_input(
            samples, self.sample_shape, "samples", self.sample_range
        )
        scheduler = self.get_scheduler("ddim")
        timesteps = scheduler.timesteps(
            validate_int(
                num_steps, "num_steps", maximum=self.num_train_timesteps
            )
        )
        if labels is not None:
            labels = public_inputs.sample_labels(
                self, labels, len(samples), None
            )

        def denoise(sample, timestep):
            return self.denoise(sample, timestep, labels)

        with backend.no_grad():
            return sampling_loop.ddim_inversion(
                denoise, scheduler, samples, timesteps
            )

    def _generate(
        self,
        num_samples,
        num_steps,
        scheduler,
        seed,
        labels=None,
        condition=None,
        guidance_scale=0.0,
        classifier=None,
        classifier_scale=1.0,
        after_step=None,
        watermark=None,
        guidance_interval=None,
        guide=None,
        guidance="cfg",
    ):
        """What every sampling method shares: the step rule and its
        timesteps, seeds, labels, the starting noise and the loop."""
        guidance_scale = validate_float(guidance_scale, "guidance_scale")
        guidance_interval = check_guidance_interval(
            guidance_interval, guidance_scale
        )
        guide = self._check_guide(guide, guidance_scale)
        classifier_scale = validate_float(classifier_scale, "classifier_scale")
        if classifier is not None and not isinstance(classifier, keras.Model):
            raise ValueError(
                "`classifier` must be a Keras model `[x_t, timesteps] -> "
                f"logits` (or `None`); received {classifier!r}."
            )
        scheduler = self.get_scheduler(scheduler)
        guidance = check_guidance_rule(guidance, guidance_scale, guide)
        if guidance == "cfg++":
            scheduler = _unclipped_ddim(scheduler)
        if watermark is not None and scheduler.stochastic:
            raise ValueError(
                "A `watermark` in the start noise is read back by inverting "
                "a deterministic sampler: sample with scheduler='ddim' (or "
                f"another deterministic rule); received {scheduler}."
            )
        timesteps = scheduler.timesteps(
            self.num_train_timesteps if num_steps is None else num_steps
        )
        seed = public_inputs.seed_source(self, seed)
        labels = self._sampling_labels(
            labels,
            num_samples,
            0.0 if guide is not None else guidance_scale,
            classifier,
            seed,
        )
        noise = keras.random.normal(
            (num_samples,) + self.sample_shape, seed=seed
        )
        if watermark is not None:
            noise = watermark.embed(noise)
        with backend.no_grad():
            return self.reverse_diffusion(
                noise,
                scheduler,
                timesteps,
                labels=labels,
                condition=condition,
                guidance_scale=guidance_scale,
                guidance_interval=guidance_interval,
                classifier=classifier,
                classifier_scale=classifier_scale,
                loop_seed=seeds.loop_seed(seed),
                after_step=after_step,
                guide=guide,
                guidance=guidance,
            )

    def _check_guide(self, guide, guidance_scale):
        guide = check_guide(guide, self, guidance_scale)
        if guide is not None and (
            guide.scheduler.get_config() != self.scheduler.get_config()
        ):
            raise ValueError(
                "`guide` must denoise on the model's noise schedule and "
                f"prediction type ({self.scheduler.get_config()}); it has "
                f"{guide.scheduler.get_config()}."
            )
        return guide

    def _sampling_labels(
        self, labels, num_samples, guidance_scale, classifier, seed
    ):
        public_inputs.check_guidance_scale(self, guidance_scale)
        if labels is None:
            if classifier is not None:
                raise ValueError("Classifier guidance needs `labels`.")
            if self.num_classes is None:
                return None
            return public_inputs.sample_labels(self, None, num_samples, seed)
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

    def guided_denoise(
        self,
        scheduler,
        labels=None,
        condition=None,
        guidance_scale=0.0,
        classifier=None,
        classifier_scale=1.0,
        guidance_interval=None,
        guide=None,
        guidance="cfg",
        timesteps=None,
    ):
        """The `(x_t, t) -> output` function a sampling loop runs: the
        denoiser with `labels` and `condition` bound, wrapped by
        classifier-free guidance (`guidance_scale` != 0, within
        `guidance_interval` when given; with `guidance="cfg++"`,
        CFG++ over the DDIM steps of `timesteps`), or autoguidance when a
        `guide` is given, and classifier guidance (`classifier`)."""
        if guide is not None:
            denoise = autoguidance(
                lambda x, t: self.denoise(x, t, labels, condition),
                lambda x, t: guide.denoise(x, t, labels, condition),
                guidance_scale,
                interval=guidance_interval,
                noise_level=noise_level(scheduler),
            )
        elif guidance_scale:
            null_labels = ops.full_like(labels, self.num_classes)
            denoise = classifier_free_guidance(
                self.denoise,
                guidance_weight(guidance_scale, guidance, scheduler, timesteps),
                labels,
                null_labels,
                condition,
                interval=guidance_interval,
                noise_level=noise_level(scheduler),
            )
        else:

            def denoise(sample, timestep):
                return self.denoise(sample, timestep, labels, condition)

        if classifier is not None:
            denoise = classifier_guidance(
                denoise, scheduler, classifier, labels, classifier_scale
            )
        return denoise

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
        after_step=None,
        guidance_interval=None,
        guide=None,
        guidance="cfg",
    ):
        """`sampling_loop.reverse_diffusion` on `guided_denoise`, the
        samples clipped to `sample_range`: one compiled program per step
        rule, timesteps and guidance scale (`backend.inference_program`).
        """
        if any(part is not None for part in (classifier, after_step, guide)):
            # A classifier's or guide's weights and an inpainting step's
            # known pixels are not the model's arguments: such loops are
            # traced anew.
            return _reverse_diffusion(
                self,
                noise,
                labels,
                condition,
                loop_seed,
                scheduler=scheduler,
                timesteps=timesteps,
                guidance_scale=guidance_scale,
                classifier=classifier,
                classifier_scale=classifier_scale,
                after_step=after_step,
                guidance_interval=guidance_interval,
                guide=guide,
                guidance=guidance,
            )
        options = {
            "scheduler": scheduler,
            "timesteps": timesteps,
            "guidance_scale": guidance_scale,
            "guidance_interval": guidance_interval,
            "guidance": guidance,
        }
        key = (
            "reverse_diffusion",
            repr(scheduler),
            tuple(np.asarray(timesteps).tolist()),
            float(guidance_scale),
            guidance_interval,
            guidance,
        )
        return backend.inference_program(
            self,
            key,
            functools.partial(_reverse_diffusion, **options),
            noise,
            labels,
            condition,
            loop_seed,
        )


def _reverse_diffusion(
    model,
    noise,
    labels,
    condition,
    loop_seed,
    *,
    scheduler,
    timesteps,
    guidance_scale,
    classifier=None,
    classifier_scale=1.0,
    after_step=None,
    guidance_interval=None,
    guide=None,
    guidance="cfg",
):
    denoise = model.guided_denoise(
        scheduler,
        labels,
        condition,
        guidance_scale,
        classifier,
        classifier_scale,
        guidance_interval=guidance_interval,
        guide=guide,
        guidance=guidance,
        timesteps=timesteps,
    )
    sample = sampling_loop.reverse_diffusion(
        denoise,
        scheduler,
        noise,
        timesteps,
        seed=loop_seed,
        after_step=after_step,
    )
    if model.sample_range is not None:
        # Like diffusers' pipelines: samples leave in the data range
        # (few-step ODE solvers do not clip on the way).
        sample = ops.clip(sample, *model.sample_range)
    return sample


def noise_level(scheduler):
    """`t -> sqrt(1 - alpha_bar_t)`: the share of noise in `x_t`, in [0,
    1), the scale of `guidance_interval` (flow matching's `sigma` is its
    counterpart)."""
    return lambda timestep: ops.sqrt(1.0 - scheduler.alpha_bar(timestep))


def _unclipped_ddim(scheduler):
    """`scheduler`, a deterministic DDIM rule, with the predicted `x_0`
    left unclipped: CFG++'s step takes `x_0` and the noise from different
    outputs, which one clipped `x_0` cannot represent, and its strength
    in [0, 1] interpolates, so the estimate stays in range where
    classifier-free guidance's extrapolation needed the clip."""
    if not isinstance(scheduler, schedulers.DDIMScheduler) or scheduler.eta:
        raise ValueError(
            "`guidance='cfg++'` steps by deterministic DDIM: use "
            f"scheduler='ddim' (eta 0); received {scheduler}."
        )
    config = scheduler.get_config()
    config.update(clip_sample=False, use_clipped_model_output=False)
    return schedulers.DDIMScheduler(**config)


def guidance_weight(guidance_scale, guidance, scheduler, timesteps):
    """Classifier-free guidance's weight: `guidance_scale` itself, or for
    `guidance="cfg++"` the weight of each DDIM step that makes it
    CFG++ at strength `guidance_scale` (`cfg_plus_plus_scale`,
    where `x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps` and
    the last step lands on the scheduler's final `alpha_bar`)."""
    if guidance != "cfg++":
        return guidance_scale
    strength = guidance_scale
    final = 1.0 if scheduler.set_alpha_to_one else scheduler.alphas_cumprod[0]
    table = np.asarray(scheduler.alphas_cumprod, "float64")

    def alpha_bar(points):
        points = points.astype("int64")
        return np.where(points >= 0, table[np.maximum(points, 0)], final)

    return cfg_plus_plus_scale(
        strength,
        *scheduler.loop_points(timesteps),
        signal=lambda points: np.sqrt(alpha_bar(points)),
        noise=lambda points: np.sqrt(1.0 - alpha_bar(points)),
    )
