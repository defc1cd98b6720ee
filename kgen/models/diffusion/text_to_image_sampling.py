"""How a `TextToImage` model samples beyond `sample` and `generate`:
the guided denoiser of encoded prompts (classifier-free guidance, CFG++,
autoguidance), image-to-image (SDEdit) and inpainting runs, and the
served `generate` and `encode_text` endpoints. Apart from
`text_to_image.py`, which holds the model, its prompts, training draw
and configuration, because this is the sampling and editing half, read
as plain functions of the model that its methods of the same names call
(the methods keep the signatures and docstrings)."""

import keras
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.models.diffusion import diffusion_sampling
from kgen.models.diffusion.guidance import autoguidance
from kgen.models.diffusion.guidance import check_guidance_interval
from kgen.models.diffusion.guidance import classifier_free_guidance
from kgen.models.diffusion.inpainting import check_inpainting_inputs
from kgen.models.diffusion.inpainting import keep_known_pixels
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int


def guided_denoise(
    model,
    scheduler,
    labels,
    condition,
    guidance_scale,
    classifier,
    classifier_scale,
    guidance_interval,
    guide,
    guidance,
    timesteps,
):
    """`TextToImage.guided_denoise`: `(x_t, t) -> output` of the prompts
    whose token ids are `condition`, under the guidance asked for."""
    context = model.encode_text(condition)

    def denoise(sample, timestep, context, _):
        return model.denoise(sample, timestep, condition=context)

    if guide is not None:
        guide_context = guide.encode_text(condition)
        return autoguidance(
            lambda sample, timestep: denoise(sample, timestep, context, 0),
            lambda sample, timestep: guide.denoise(
                sample, timestep, condition=guide_context
            ),
            guidance_scale,
            interval=guidance_interval,
            noise_level=diffusion_sampling.noise_level(scheduler),
        )

    if not guidance_scale:
        return lambda sample, timestep: denoise(sample, timestep, context, None)
    null_context = model.encode_text(ops.zeros_like(condition))
    return classifier_free_guidance(
        denoise,
        diffusion_sampling.guidance_weight(
            guidance_scale, guidance, scheduler, timesteps
        ),
        context,
        null_context,
        None,
        interval=guidance_interval,
        noise_level=diffusion_sampling.noise_level(scheduler),
    )


def image_to_image(
    model,
    images,
    prompts,
    strength,
    num_steps,
    guidance_scale,
    guidance_interval,
    scheduler,
    seed,
):
    """`TextToImage.image_to_image`: `images` redrawn towards `prompts`
    (SDEdit)."""
    images = ops.convert_to_tensor(
        public_inputs.check_examples(model, images, "images")
    )
    strength = validate_float(
        strength, "strength", minimum=0.0, exclusive_minimum=True
    )
    if strength > 1:
        raise ValueError(f"`strength` must be in (0, 1]; received {strength}.")
    num_steps = validate_int(num_steps, "num_steps")
    count = int(ops.shape(images)[0])
    tokens = model.tokenize(prompts, count)
    guidance_scale = validate_float(guidance_scale, "guidance_scale")
    guidance_interval = check_guidance_interval(
        guidance_interval, guidance_scale
    )
    model._sampling_labels(None, count, guidance_scale, None, None)
    scheduler = model.get_scheduler(scheduler)
    timesteps = scheduler.timesteps(num_steps)
    start = min(int(round(num_steps * (1.0 - strength))), num_steps - 1)
    timesteps = timesteps[start:]
    seed = public_inputs.seed_source(model, seed)
    noise = keras.random.normal(ops.shape(images), seed=seed)
    noisy = model.scheduler.add_noise(
        images, noise, ops.full((count,), timesteps[0], "int32")
    )
    with backend.no_grad():
        return model.reverse_diffusion(
            noisy,
            scheduler,
            timesteps,
            condition=tokens,
            guidance_scale=guidance_scale,
            guidance_interval=guidance_interval,
            loop_seed=seeds.loop_seed(seed),
        )


def inpaint(
    model,
    images,
    mask,
    prompts,
    seed,
    num_steps,
    scheduler,
    guidance_scale,
    guidance_interval,
):
    """`TextToImage.inpaint`: the region where `mask == 0` filled to
    match `prompts`."""
    images, mask = check_inpainting_inputs(
        images, mask, model.sample_shape, model.sample_range
    )
    count = int(ops.shape(images)[0])
    tokens = model.tokenize("" if prompts is None else prompts, count)
    scheduler = model.get_scheduler(scheduler)
    return model._generate(
        count,
        num_steps,
        scheduler,
        seed,
        condition=tokens,
        guidance_scale=guidance_scale,
        guidance_interval=guidance_interval,
        after_step=keep_known_pixels(scheduler, images, mask),
    )


def serving_endpoints(model, scheduler, num_steps, guidance_scale):
    """`TextToImage.serving_endpoints`: `{name: (function,
    input_specs)}` of `generate` and `encode_text`."""
    scheduler = model.get_scheduler(scheduler)
    timesteps = scheduler.timesteps(min(num_steps, model.num_train_timesteps))
    guidance_scale = validate_float(guidance_scale, "guidance_scale")
    model._sampling_labels(None, 1, guidance_scale, None, None)
    noise = keras.InputSpec(shape=(None,) + model.sample_shape, dtype="float32")
    tokens = keras.InputSpec(shape=(None, model.sequence_length), dtype="int32")

    def generate(noise, tokens):
        return model.reverse_diffusion(
            noise,
            scheduler,
            timesteps,
            condition=tokens,
            guidance_scale=guidance_scale,
        )

    return {
        "generate": (generate, [noise, tokens]),
        "encode_text": (model.encode_text, [tokens]),
    }
