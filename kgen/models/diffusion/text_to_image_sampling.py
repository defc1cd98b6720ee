"""How a `TextToImage` model samples beyond `sample` and `generate`:
the guided denoiser of encoded prompts (classifier-free guidance, CFG++,
autoguidance), image-to-image (SDEdit) and inpainting runs, and the
served `generate` and `encode_text` endpoints. Apart from
`text_to_image.py`, which holds the model, its prompts, training draw
and configuration, because this is the sampling and editing half, read
as plain functions of the model that its methods of the same names call
(the methods keep the signatures and docstrings)."""

import dataclasses

import keras
from keras import ops

from kgen.models import public_inputs
from kgen.models.diffusion import diffusion_sampling
from kgen.models.diffusion import text_to_image_prompts
from kgen.models.diffusion.guidance import Guidance
from kgen.models.diffusion.guidance import autoguidance
from kgen.models.diffusion.guidance import check_guide
from kgen.models.diffusion.guidance import classifier_free_guidance
from kgen.models.diffusion.inpainting import check_inpainting_inputs
from kgen.models.diffusion.inpainting import keep_known_pixels
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_float


def checked_guidance(model, guidance):
    """`guidance` (a `Guidance`) checked against a text-to-image model:
    classifier-free guidance needs one trained with the empty caption,
    and no classifier guides it."""
    check_guide(guidance.guide, model, guidance.scale)
    if (
        guidance.scale
        and guidance.guide is None
        and not model.condition_dropout
    ):
        raise ValueError(
            "Classifier-free guidance (`guidance_scale` != 0) needs a "
            "model trained with the empty caption: this one has "
            "`condition_dropout=0`. Sample with `guidance_scale=0`."
        )
    if guidance.classifier is not None:
        raise ValueError("A TextToImage model takes no `classifier`.")
    return guidance


def sampling_plan(model, scheduler, num_steps, guidance):
    """`diffusion_sampling.sampling_plan` under `guidance` checked for a
    text-to-image model (`checked_guidance`)."""
    return diffusion_sampling.sampling_plan(
        model, scheduler, num_steps, checked_guidance(model, guidance)
    )


def guided_denoise(model, plan, condition):
    """`TextToImage.guided_denoise`: `(x_t, t) -> output` of the prompts
    whose token ids are `condition`, under `plan`'s guidance."""
    guidance = plan.guidance
    noise_level = diffusion_sampling.noise_level(plan.scheduler)
    context = model.encode_text(condition)

    def denoise(sample, timestep, context):
        return model.denoise(sample, timestep, condition=context)

    if guidance.guide is not None:
        guide = guidance.guide
        guide_context = guide.encode_text(condition)
        return autoguidance(
            lambda sample, timestep: denoise(sample, timestep, context),
            lambda sample, timestep: guide.denoise(
                sample, timestep, condition=guide_context
            ),
            guidance.scale,
            interval=guidance.interval,
            noise_level=noise_level,
        )
    if not guidance.scale:
        return lambda sample, timestep: denoise(sample, timestep, context)
    return classifier_free_guidance(
        denoise,
        diffusion_sampling.guidance_weight(plan),
        context,
        model.encode_text(text_to_image_prompts.empty_tokens(model, condition)),
        interval=guidance.interval,
        noise_level=noise_level,
    )


def check_strength(strength):
    """`image_to_image`'s `strength`, a float in (0, 1]."""
    strength = validate_float(
        strength, "strength", minimum=0.0, exclusive_minimum=True
    )
    if strength > 1:
        raise ValueError(f"`strength` must be in (0, 1]; received {strength}.")
    return strength


def image_to_image(model, images, prompts, strength, plan, seed):
    """`TextToImage.image_to_image`: `images` redrawn towards `prompts`
    (SDEdit) over the last `strength` of `plan`'s timesteps."""
    images = ops.convert_to_tensor(
        public_inputs.check_examples(model, images, "images")
    )
    if model.diffuses_latents:
        images = model.encode(images)
    count = int(ops.shape(images)[0])
    tokens = text_to_image_prompts.tokenize(model, prompts, count)
    num_steps = len(plan.points)
    start = min(int(round(num_steps * (1.0 - strength))), num_steps - 1)
    plan = dataclasses.replace(plan, points=plan.points[start:])
    seed = public_inputs.seed_source(model, seed)
    noise = keras.random.normal(ops.shape(images), seed=seed)
    noisy = model.scheduler.add_noise(
        images, noise, ops.full((count,), plan.points[0], "int32")
    )
    samples = plan.draw(
        model,
        diffusion_sampling.reverse_diffusion,
        noisy,
        None,
        tokens,
        seeds.loop_seed(seed),
    )
    return model.decode(samples) if model.diffuses_latents else samples


def inpaint(model, images, mask, prompts, plan, seed):
    """`TextToImage.inpaint`: the region where `mask == 0` filled to
    match `prompts`."""
    images, mask = check_inpainting_inputs(
        images, mask, model.data_shape, model.data_range
    )
    count = int(ops.shape(images)[0])
    tokens = text_to_image_prompts.tokenize(
        model, "" if prompts is None else prompts, count
    )
    known, known_mask = images, mask
    if model.diffuses_latents:
        known, known_mask = model.encode(images), latent_mask(model, mask)
    plan = dataclasses.replace(
        plan, after_step=keep_known_pixels(plan.scheduler, known, known_mask)
    )
    samples = diffusion_sampling.generate(
        model, count, plan, seed, condition=tokens
    )
    if not model.diffuses_latents:
        return samples
    # A decoder does not return the known pixels exactly: they are put
    # back (`generate` decoded the latents).
    return mask * images + (1.0 - mask) * samples


def latent_mask(model, mask):
    """`mask` (1 known, 0 hole) on the latent grid: a cell is known only
    where every pixel it covers, in every channel, is."""
    height, width = model.data_shape[:2]
    rows, columns, channels = model.sample_shape
    mask = ops.min(mask, axis=-1)
    mask = ops.reshape(
        mask, (-1, rows, height // rows, columns, width // columns)
    )
    mask = ops.min(mask, axis=(2, 4))[..., None]
    return ops.broadcast_to(mask, ops.shape(mask)[:3] + (channels,))


def serving_endpoints(model, scheduler, num_steps, guidance_scale):
    """`TextToImage.serving_endpoints`: `{name: (function,
    input_specs)}` of `generate` and `encode_text`."""
    plan = sampling_plan(
        model,
        scheduler,
        min(num_steps, model.num_train_timesteps),
        Guidance(guidance_scale),
    )
    noise = keras.InputSpec(shape=(None,) + model.sample_shape, dtype="float32")
    tokens = keras.InputSpec(
        shape=(None, model.tokenizer.sequence_length), dtype="int32"
    )

    def generate(noise, tokens):
        return plan.draw(
            model, diffusion_sampling.reverse_diffusion, noise, None, tokens
        )

    return {
        "generate": (generate, [noise, tokens]),
        "encode_text": (model.encode_text, [tokens]),
    }
