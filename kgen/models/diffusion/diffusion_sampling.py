"""The sampling half of `DiffusionModel`: step rules, guidance, the
reverse-diffusion loop and inpainting, on the model's `denoise`."""

import numpy as np
from keras import ops

from kgen import backend
from kgen import schedulers
from kgen.models import public_inputs
from kgen.models.diffusion.guidance import Guidance
from kgen.models.diffusion.guidance import autoguidance
from kgen.models.diffusion.guidance import cfg_plus_plus_scale
from kgen.models.diffusion.guidance import classifier_free_guidance
from kgen.models.diffusion.guidance import classifier_guidance
from kgen.models.diffusion.sampling_plan import SamplingPlan
from kgen.models.diffusion.step_rules import get_step_rule
from kgen.schedulers import sampling_loop
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import validate_input
from kgen.utils.data_validation import validate_labels


class DiffusionSampling:
    """Sampling methods of `DiffusionModel` (a mixin, kept apart so that
    the model's file holds its objective, export and configuration).

    Needs from the model: `denoise`, `scheduler`, `num_classes`,
    `sample_shape`, `sample_range` and `num_train_timesteps`.
    """

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
            scheduler: a step-rule name or scheduler, see the module's
                `get_scheduler`.
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
        guidance = Guidance(
            guidance_scale,
            guidance_interval,
            guidance,
            guide=guide,
            classifier=classifier,
            classifier_scale=classifier_scale,
        ).for_model(self)
        plan = sampling_plan(self, scheduler, num_steps, guidance, watermark)
        return generate(self, num_samples, plan, seed, labels)

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
        scheduler = get_scheduler(self, "ddim")
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

    def guided_denoise(self, plan, labels=None, condition=None):
        """The `(x_t, t) -> output` function a sampling loop runs: the
        denoiser with `labels` and `condition` bound, under `plan`'s
        guidance: classifier-free guidance (CFG++ over the plan's DDIM
        steps for `rule="cfg++"`), or autoguidance by a `guide`, and
        classifier guidance by a `classifier`."""
        guidance, scheduler = plan.guidance, plan.scheduler
        if guidance.guide is not None:
            guide = guidance.guide
            denoise = autoguidance(
                lambda x, t: self.denoise(x, t, labels, condition),
                lambda x, t: guide.denoise(x, t, labels, condition),
                guidance.scale,
                interval=guidance.interval,
                noise_level=noise_level(scheduler),
            )
        elif guidance.scale:
            # Both halves run as one batch: the condition twice over.
            both = None
            if condition is not None:
                both = ops.concatenate([condition, condition], axis=0)
            denoise = classifier_free_guidance(
                lambda x, t, labels: self.denoise(x, t, labels, both),
                guidance_weight(plan),
                labels,
                ops.full_like(labels, self.num_classes),
                interval=guidance.interval,
                noise_level=noise_level(scheduler),
            )
        else:

            def denoise(sample, timestep):
                return self.denoise(sample, timestep, labels, condition)

        if guidance.classifier is not None:
            denoise = classifier_guidance(
                denoise,
                scheduler,
                guidance.classifier,
                labels,
                guidance.classifier_scale,
            )
        return denoise


def generate(model, num_samples, plan, seed, labels=None, condition=None):
    """What every sampling method of a diffusion model shares:

    1. the seed source, and the labels (drawn when omitted);
    2. the start noise, with the plan's watermark written into it;
    3. the reverse diffusion from it (`plan.draw`);
    4. for a model that diffuses latents (`LatentDiffusion`), their
       decoding into samples.
    """
    seed = public_inputs.seed_source(model, seed)
    labels = sampling_labels(model, labels, num_samples, plan.guidance, seed)
    noise = plan.start_noise(model, num_samples, seed)
    samples = plan.draw(
        model,
        reverse_diffusion,
        noise,
        labels,
        condition,
        seeds.loop_seed(seed),
    )
    if model.diffuses_latents:
        samples = model.decode(samples)
    return samples


def get_scheduler(model, scheduler):
    """A step rule on `model`'s noise schedule: a name from
    `kgen.schedulers.SCHEDULERS` (`"ddpm"`, `"ddim"`, `"dpm_solver"`,
    `"euler"`, `"euler_maruyama"`) or a `DiffusionScheduler` built on the
    same schedule (see `step_rules.get_step_rule`)."""
    return get_step_rule(scheduler, model.scheduler, model.sample_range)


def sampling_plan(model, scheduler, num_steps, guidance, watermark=None):
    """The `SamplingPlan` of a diffusion model's run: the step rule on
    its noise schedule (DDIM unclipped for CFG++) and its timesteps
    (`T` when `num_steps` is `None`), under `guidance` (checked against
    the model by its caller, `Guidance.for_model` for a class-conditional
    model)."""
    check_guide_schedule(model, guidance.guide)
    scheduler = get_scheduler(model, scheduler)
    if guidance.rule == "cfg++":
        scheduler = _unclipped_ddim(scheduler)
    if num_steps is None:
        num_steps = model.num_train_timesteps
    return SamplingPlan(
        scheduler, scheduler.timesteps(num_steps), guidance, watermark
    )


def check_guide_schedule(model, guide):
    """Autoguidance mixes two outputs per timestep: `guide` must denoise
    on `model`'s noise schedule and prediction type."""
    if guide is not None and (
        guide.scheduler.get_config() != model.scheduler.get_config()
    ):
        raise ValueError(
            "`guide` must denoise on the model's noise schedule and "
            f"prediction type ({model.scheduler.get_config()}); it has "
            f"{guide.scheduler.get_config()}."
        )


def sampling_labels(model, labels, num_samples, guidance, seed):
    """The class ids a run denoises towards: drawn uniformly for a
    class-conditional model when `labels` is `None`; checked against the
    classes of the model or, for an unconditional model, its guidance's
    classifier."""
    classifier = guidance.classifier
    if labels is None:
        if classifier is not None:
            raise ValueError("Classifier guidance needs `labels`.")
        if model.num_classes is None:
            return None
        return public_inputs.sample_labels(model, None, num_samples, seed)
    if model.num_classes is None and classifier is None:
        raise ValueError(
            "`labels` were given, but the model is unconditional "
            "(`num_classes=None`) and no `classifier` guides it."
        )
    num_classes = model.num_classes
    if num_classes is None:
        num_classes = classifier.outputs[0].shape[-1]
    return ops.convert_to_tensor(
        validate_labels(labels, num_samples, num_classes)
    )


def reverse_diffusion(
    model, plan, noise, labels=None, condition=None, loop_seed=None
):
    """`sampling_loop.reverse_diffusion` from `noise` over `plan`'s
    timesteps, on the model's guided denoiser: the solve of a diffusion
    model's `plan.draw`."""
    return sampling_loop.reverse_diffusion(
        model.guided_denoise(plan, labels, condition),
        plan.scheduler,
        noise,
        plan.points,
        step_noise=loop_seed,
        after_step=plan.after_step,
    )


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


def guidance_weight(plan):
    """Classifier-free guidance's weight: the plan's guidance scale
    itself, or for `rule="cfg++"` the weight of each DDIM step that makes
    it CFG++ at strength `scale` (`cfg_plus_plus_scale`, where `x_t =
    sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps` and the last step
    lands on the scheduler's final `alpha_bar`)."""
    guidance, scheduler = plan.guidance, plan.scheduler
    if guidance.rule != "cfg++":
        return guidance.scale
    final = 1.0 if scheduler.set_alpha_to_one else scheduler.alphas_cumprod[0]
    table = np.asarray(scheduler.alphas_cumprod, "float64")

    def alpha_bar(points):
        points = points.astype("int64")
        return np.where(points >= 0, table[np.maximum(points, 0)], final)

    return cfg_plus_plus_scale(
        guidance.scale,
        *scheduler.loop_points(plan.points),
        signal=lambda points: np.sqrt(alpha_bar(points)),
        noise=lambda points: np.sqrt(1.0 - alpha_bar(points)),
    )
