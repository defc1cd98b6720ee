"""A Stable Diffusion 1.x / 2.x pipeline folder as a kgen
`LatentTextToImage`.

The folder `StableDiffusionPipeline.save_pretrained` writes
(`model_index.json`; `unet/`, `vae/`, `text_encoder/`, `tokenizer/`,
`scheduler/`) becomes a model whose parts equal the pipeline's:

- `denoise(z_t, t, context)` is `unet(z_t, t, encoder_hidden_states=
  context).sample` (channels last; `DiffusersConditionalUNet`);
- `encode_text(tokenizer.tokenize(prompts))` is the pipeline's prompt
  embeddings (`ClipTextEncoder`, `ClipTokenizer`), the empty prompt its
  unconditional ones;
- `encode` and `decode` are the autoencoder's posterior mean and decoder
  times and over `scaling_factor` (`KLAutoencoder.from_diffusers`).

The scheduler's noise schedule (its betas, `num_train_timesteps` and
`prediction_type`) is the model's, held as a kgen `DDIMScheduler` with
the config's `steps_offset` and `set_alpha_to_one`: `generate(...,
scheduler=model.scheduler)` takes diffusers' DDIM steps exactly, and the
step rules by name (`"ddim"`, `"dpm_solver"`...) run on the same
schedule without the offset. A PNDM, Euler or LMS config's own sampling
method is not imported. A safety checker or feature extractor, which
filter images after generation, is not read.

`write_pipeline` writes such a model back as the folder diffusers
loads.
"""

import os

import numpy as np

from kgen import schedulers
from kgen.models.diffusion.diffusers_schedulers import schedule_arguments
from kgen.models.diffusion.diffusers_schedulers import scheduler_config
from kgen.models.vae.diffusers_autoencoder_checkpoint import WEIGHTS
from kgen.models.vae.diffusers_autoencoder_checkpoint import autoencoder_files
from kgen.models.vae.diffusers_autoencoder_checkpoint import built
from kgen.models.vae.diffusers_autoencoder_checkpoint import built_within
from kgen.models.vae.diffusers_autoencoder_checkpoint import write_json
from kgen.models.vae.kl_autoencoder import KLAutoencoder
from kgen.networks.clip_text_encoder import WEIGHTS as CLIP_WEIGHTS
from kgen.networks.clip_text_encoder import ClipTextEncoder
from kgen.networks.clip_text_encoder import clip_weights
from kgen.networks.diffusers_conditional_unet import DiffusersConditionalUNet
from kgen.networks.diffusers_conditional_unet import conditional_unet_config
from kgen.networks.diffusers_conditional_unet import unstored_parameters
from kgen.networks.diffusers_weights import diffusers_weights
from kgen.networks.diffusers_weights import load_diffusers_weights
from kgen.tokenizers.clip_tokenizer import END
from kgen.tokenizers.clip_tokenizer import START
from kgen.tokenizers.clip_tokenizer import ClipTokenizer
from kgen.utils.atomic_directory import atomic_directory
from kgen.utils.json_file import read_json
from kgen.utils.safetensors_file import read_safetensors
from kgen.utils.safetensors_file import write_safetensors
from kgen.utils.unreadable_file_error import UnreadableFileError

PIPELINES = ("StableDiffusionPipeline",)
PARTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
# Parts that act after generation (or not at all), which kgen leaves.
UNREAD_PARTS = ("safety_checker", "feature_extractor", "image_encoder")
# diffusers' schedulers of Stable Diffusion's pipelines: each holds the
# one noise schedule the U-Net was trained on.
SCHEDULERS = (
    "PNDMScheduler",
    "DDIMScheduler",
    "DDPMScheduler",
    "LMSDiscreteScheduler",
    "EulerDiscreteScheduler",
    "EulerAncestralDiscreteScheduler",
    "DPMSolverMultistepScheduler",
)
# Options that change the schedule itself, with their "off" values.
SCHEDULE_OPTIONS = {"trained_betas": None, "rescale_betas_zero_snr": False}


def from_diffusers(model_class, folder):
    """`model_class` (`LatentTextToImage`) of the Stable Diffusion
    pipeline folder `folder`; every part checked before it is built, a
    part kgen does not read refused by name."""
    folder = os.fspath(folder)
    index_file = os.path.join(folder, "model_index.json")
    if not os.path.isfile(index_file):
        raise UnreadableFileError(
            f"{folder} has no model_index.json: a LatentTextToImage comes "
            "from a Stable Diffusion pipeline folder (`save_pretrained`)."
        )
    index = read_json(index_file)
    kind = index.get("_class_name")
    # A part saved as `[null, null]` is absent.
    parts = {
        key
        for key, value in index.items()
        if not key.startswith("_")
        and isinstance(value, list)
        and any(v is not None for v in value)
    }
    unknown = sorted(parts - set(PARTS) - set(UNREAD_PARTS))
    missing = sorted(set(PARTS) - parts)
    if kind not in PIPELINES or unknown or missing:
        raise UnreadableFileError(
            f"{folder} holds a {kind} of {sorted(parts)}; kgen imports a "
            f"StableDiffusionPipeline of {list(PARTS)}"
            + (f" (unknown: {unknown})" if unknown else "")
            + (f" (missing: {missing})" if missing else "")
            + "."
        )

    # 1. The text half: CLIP's encoder (frozen) and tokenizer.
    text_encoder = ClipTextEncoder.from_transformers(
        os.path.join(folder, "text_encoder")
    )
    text_encoder.trainable = False
    tokenizer = ClipTokenizer.from_folder(os.path.join(folder, "tokenizer"))
    context_length = text_encoder.clip_config["max_position_embeddings"]
    if tokenizer.sequence_length != context_length:
        raise UnreadableFileError(
            f"{folder}: the tokenizer pads to {tokenizer.sequence_length} "
            f"tokens, but the text encoder reads {context_length}."
        )
    known = text_encoder.clip_config["vocab_size"]
    if tokenizer.vocabulary_size > known:
        raise UnreadableFileError(
            f"{folder}: the tokenizer's ids reach "
            f"{tokenizer.vocabulary_size - 1:,}, but the text encoder "
            f"embeds {known:,} tokens."
        )

    # 2. The U-Net, counted before it is built.
    unet_folder = os.path.join(folder, "unet")
    config_path = os.path.join(unet_folder, "config.json")
    config = built(
        config_path, lambda: conditional_unet_config(read_json(config_path))
    )
    weights_path = os.path.join(unet_folder, WEIGHTS)
    (denoiser,) = built_within(
        unet_folder,
        [
            lambda: DiffusersConditionalUNet(
                config, context_length=context_length
            )
        ],
        weights_path,
        unstored=unstored_parameters(config),
    )
    tensors, _ = read_safetensors(weights_path)
    built(weights_path, lambda: load_diffusers_weights(denoiser, tensors))

    # 3. The autoencoder, and the schedule.
    autoencoder = KLAutoencoder.from_diffusers(os.path.join(folder, "vae"))
    scheduler_path = os.path.join(folder, "scheduler", "scheduler_config.json")
    scheduler_config = read_json(scheduler_path)
    scheduler = built(scheduler_path, lambda: noise_schedule(scheduler_config))
    return model_class(
        autoencoder,
        denoiser,
        text_encoder,
        tokenizer,
        scheduler=scheduler,
        latent_scale=autoencoder.encoder.autoencoder_config["scaling_factor"],
    )


def noise_schedule(config):
    """The kgen `DDIMScheduler` of a Stable Diffusion scheduler config:
    its noise schedule, and the DDIM options a PNDM or DDIM config holds
    (`steps_offset`, `set_alpha_to_one`), so that `sample(scheduler=
    model.scheduler)` takes the pipeline's DDIM steps; a `ValueError`
    names a scheduler or a schedule kgen does not have."""
    kind = config.get("_class_name")
    if kind not in SCHEDULERS:
        raise ValueError(
            f"A {kind} is not among Stable Diffusion's schedulers kgen "
            f"reads: {list(SCHEDULERS)}."
        )
    schedule = schedule_arguments(config)
    refused = {
        key: config[key]
        for key, off in SCHEDULE_OPTIONS.items()
        if config.get(key, off) != off
    }
    if refused:
        raise ValueError(
            f"This {kind} changes its schedule in ways kgen's schedulers "
            f"do not: {refused}."
        )
    return schedulers.DDIMScheduler(
        **schedule,
        clip_sample=False,
        # diffusers' default: True for DDIM, False for PNDM.
        set_alpha_to_one=config.get(
            "set_alpha_to_one", kind == "DDIMScheduler"
        ),
        steps_offset=config.get("steps_offset", 0),
    )


def write_pipeline(model, folder):
    """Writes `model` (a `LatentTextToImage` on the parts `from_diffusers`
    builds) as a `StableDiffusionPipeline` folder that diffusers'
    `from_pretrained` loads with the same tensors; whole or not at all
    (`atomic_directory`). A `ValueError` names a part with no diffusers
    or transformers counterpart before anything is written."""
    # 1. Everything in memory first.
    parts = {
        "denoiser": (model.denoiser, DiffusersConditionalUNet),
        "text_encoder": (model.text_encoder, ClipTextEncoder),
        "tokenizer": (model.tokenizer, ClipTokenizer),
    }
    for name, (part, kind) in parts.items():
        if not isinstance(part, kind):
            raise ValueError(
                f"`model.{name}` must be a {kind.__name__} (from "
                "`from_diffusers`) to be written as a Stable Diffusion "
                f"pipeline; it is a {type(part).__name__}."
            )
    scheduler = scheduler_config(model.scheduler)
    vae_config, vae_weights = autoencoder_files(model.autoencoder)
    vae_config["scaling_factor"] = float(model.latent_scale)
    unet_config = {
        key: value
        for key, value in model.denoiser.unet_config.items()
        if not key.startswith("_")
    }
    unet_config["_class_name"] = "UNet2DConditionModel"
    text_config = dict(
        model.text_encoder.clip_config,
        model_type="clip_text_model",
        architectures=["CLIPTextModel"],
    )
    modules = {
        "unet": ("diffusers", unet_config, diffusers_weights(model.denoiser)),
        "vae": ("diffusers", vae_config, vae_weights),
        "text_encoder": (
            "transformers",
            text_config,
            clip_weights(model.text_encoder),
        ),
    }
    index = {
        "_class_name": "StableDiffusionPipeline",
        "requires_safety_checker": False,
        "safety_checker": [None, None],
        "feature_extractor": [None, None],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "scheduler": ["diffusers", scheduler["_class_name"]],
    }
    for part, (library, config, _) in modules.items():
        name = config.get("_class_name") or config["architectures"][0]
        index[part] = [library, name]

    # 2. Then the folder, renamed into place whole.
    with atomic_directory(folder) as staging:
        for part, (library, config, weights) in modules.items():
            os.makedirs(os.path.join(staging, part))
            write_json(os.path.join(staging, part, "config.json"), config)
            write_safetensors(
                os.path.join(
                    staging,
                    part,
                    WEIGHTS if library == "diffusers" else CLIP_WEIGHTS,
                ),
                {k: np.asarray(v, "float32") for k, v in weights.items()},
                {"format": "pt"},
            )
        write_tokenizer(model.tokenizer, os.path.join(staging, "tokenizer"))
        os.makedirs(os.path.join(staging, "scheduler"))
        write_json(
            os.path.join(staging, "scheduler", "scheduler_config.json"),
            scheduler,
        )
        write_json(os.path.join(staging, "model_index.json"), index)


def write_tokenizer(tokenizer, folder):
    """`tokenizer`'s files as transformers' `CLIPTokenizer` reads them
    (`vocab.json`, `merges.txt`, `tokenizer_config.json`)."""
    os.makedirs(folder)
    write_json(os.path.join(folder, "vocab.json"), tokenizer.vocabulary)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(tokenizer.merges) + "\n")
    write_json(
        os.path.join(folder, "tokenizer_config.json"),
        {
            "tokenizer_class": "CLIPTokenizer",
            "model_max_length": tokenizer.sequence_length,
            "bos_token": START,
            "eos_token": END,
            "unk_token": END,
            "pad_token": tokenizer.pad_token,
        },
    )
