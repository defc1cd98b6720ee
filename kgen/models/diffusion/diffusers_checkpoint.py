"""A diffusers `UNet2DModel` checkpoint as a kgen `DiffusionModel`, and
back (`to_diffusers`).

A folder as the field ships it, either the U-Net's own
(`config.json`, `diffusion_pytorch_model.safetensors`) or a pipeline's
(`model_index.json`, `unet/`, `scheduler/scheduler_config.json`, as
`DDPMPipeline.save_pretrained` writes), becomes a model whose `denoise`
equals diffusers' `unet(x_t, t).sample` (channels last) and whose
scheduler is the pipeline's (kgen's schedulers equal diffusers').
"""

import os

import numpy as np

from kgen import schedulers
from kgen.models.vae import diffusers_autoencoder_checkpoint
from kgen.models.vae.diffusers_autoencoder_checkpoint import read_json
from kgen.models.vae.diffusers_autoencoder_checkpoint import write_json
from kgen.models.vae.kl_autoencoder import KLAutoencoder
from kgen.networks.diffusers_unet import DiffusersUNet
from kgen.networks.diffusers_unet import diffusers_weights
from kgen.networks.diffusers_unet import load_diffusers_weights
from kgen.networks.diffusers_unet import unet_config
from kgen.utils.atomic_directory import atomic_directory
from kgen.utils.safetensors_file import read_safetensors
from kgen.utils.safetensors_file import write_safetensors

WEIGHTS = "diffusion_pytorch_model.safetensors"
PIPELINES = ("DDPMPipeline", "DDIMPipeline")
# diffusers' DDPM/DDIM beta schedules -> kgen's.
BETA_SCHEDULES = {
    "linear": "linear",
    "scaled_linear": "scaled_linear",
    "squaredcos_cap_v2": "cosine",
}


def load_unet(folder, check=None):
    """`(network, config)`: the `DiffusersUNet` of the `UNet2DModel`
    folder `folder` with its weights (`check(folder, config)` first)."""
    config = unet_config(read_json(os.path.join(folder, "config.json")))
    if check is not None:
        check(folder, config)
    path = os.path.join(folder, WEIGHTS)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{folder} has no {WEIGHTS}: kgen reads a UNet2DModel's weights "
            "from safetensors (`save_pretrained(safe_serialization=True)`, "
            "diffusers' default), not from a pickled .bin."
        )
    network = DiffusersUNet(config)
    tensors, _ = read_safetensors(path)
    load_diffusers_weights(network, tensors)
    return network, config


# diffusers scheduler options kgen's schedulers have no counterpart for,
# with the value that means "off": any other is refused by name.
UNSUPPORTED_OPTIONS = {
    "thresholding": False,
    "rescale_betas_zero_snr": False,
    "steps_offset": 0,
    "clip_sample_range": 1.0,
    "trained_betas": None,
}


def scheduler_of(config):
    """The kgen scheduler of a diffusers DDPM or DDIM scheduler config
    (`scheduler_config.json`), with every option that changes sampling;
    a `ValueError` names what kgen's schedulers do not have."""
    kind = config.get("_class_name", "DDPMScheduler")
    schedule = config.get("beta_schedule", "linear")
    if kind not in ("DDPMScheduler", "DDIMScheduler"):
        raise ValueError(
            f"A {kind} has no kgen scheduler; kgen maps DDPMScheduler and "
            "DDIMScheduler."
        )
    if schedule not in BETA_SCHEDULES:
        raise ValueError(
            f"beta_schedule={schedule!r} has no kgen schedule; kgen maps "
            f"{sorted(BETA_SCHEDULES)}."
        )
    refused = {
        key: config[key]
        for key, off in UNSUPPORTED_OPTIONS.items()
        if config.get(key, off) != off
    }
    options = {"clip_sample": config.get("clip_sample", True)}
    if kind == "DDPMScheduler":
        options["variance_type"] = config.get("variance_type", "fixed_small")
        if options["variance_type"] not in ("fixed_small", "fixed_large"):
            refused["variance_type"] = options["variance_type"]
    else:
        options["set_alpha_to_one"] = config.get("set_alpha_to_one", True)
    if refused:
        raise ValueError(
            f"This {kind} uses options kgen's schedulers do not have: "
            f"{refused}."
        )
    return getattr(schedulers, kind)(
        num_train_timesteps=config.get("num_train_timesteps", 1000),
        beta_schedule=BETA_SCHEDULES[schedule],
        beta_start=config.get("beta_start", 1e-4),
        beta_end=config.get("beta_end", 0.02),
        prediction_type=config.get("prediction_type", "epsilon"),
        timestep_spacing=config.get("timestep_spacing", "leading"),
        **options,
    )


def scheduler_config(scheduler):
    """The diffusers `scheduler_config.json` of a kgen DDPM or DDIM
    scheduler: `scheduler_of`'s inverse."""
    kind = type(scheduler).__name__
    config = scheduler.get_config()
    if kind not in ("DDPMScheduler", "DDIMScheduler") or (
        config.get("eta") or config.get("use_clipped_model_output")
    ):
        raise ValueError(
            f"A {kind} ({config}) has no diffusers pipeline scheduler kgen "
            "writes: use a DDPMScheduler, or a DDIMScheduler with eta=0 "
            "and use_clipped_model_output=False."
        )
    names = {value: key for key, value in BETA_SCHEDULES.items()}
    written = dict(
        UNSUPPORTED_OPTIONS,
        _class_name=kind,
        beta_schedule=names[config["beta_schedule"]],
    )
    for key in (
        "num_train_timesteps",
        "beta_start",
        "beta_end",
        "prediction_type",
        "timestep_spacing",
        "clip_sample",
        "variance_type",
        "set_alpha_to_one",
    ):
        if key in config:
            written[key] = config[key]
    return written


def from_diffusers(model_class, folder):
    """`model_class` (a `DiffusionModel`) of the diffusers folder
    `folder`: a `UNet2DModel` folder or a pipeline folder holding one
    (`unet/`) and its scheduler (`scheduler/`)."""
    folder = os.fspath(folder)
    unet_folder, scheduler = folder, None
    index_file = os.path.join(folder, "model_index.json")
    if os.path.isfile(index_file):
        index = read_json(index_file)
        parts = {key for key in index if not key.startswith("_")}
        kind = index.get("_class_name")
        if kind not in PIPELINES or not parts <= {"unet", "scheduler"}:
            raise ValueError(
                f"{folder} holds a {kind} of {sorted(parts)}; kgen imports "
                f"{PIPELINES} of a unet and its scheduler (a latent "
                "pipeline's autoencoder is not imported yet)."
            )
        unet_folder = os.path.join(folder, "unet")
        scheduler_file = os.path.join(
            folder, "scheduler", "scheduler_config.json"
        )
        if os.path.isfile(scheduler_file):
            scheduler = scheduler_of(read_json(scheduler_file))
    network, _ = load_unet(unet_folder, _check_denoiser)
    return model_class(network, scheduler=scheduler)


def _check_denoiser(folder, config):
    """Refuses a U-Net a `DiffusionModel` cannot drive as diffusers'
    pipelines do."""
    if config["num_class_embeds"]:
        raise ValueError(
            f"{folder} is class-conditional (num_class_embeds="
            f"{config['num_class_embeds']}); kgen imports unconditional "
            "UNet2DModels so far (its guidance needs a 'no label' class "
            "the checkpoint does not have)."
        )
    if config["out_channels"] != config["in_channels"]:
        raise ValueError(
            f"{folder} predicts {config['out_channels']} channels of "
            f"{config['in_channels']} (a learned variance); kgen's "
            "DiffusionModel takes one prediction per channel."
        )


def to_diffusers(model, folder):
    """Writes `model` (a `DiffusionModel` on a `DiffusersUNet`, as
    `from_diffusers` makes it, or a `KLAutoencoder` of an
    `AutoencoderKL`, as an `AutoencoderKL` folder) as a diffusers
    `DDPMPipeline` folder:
    `model_index.json`, `unet/` (its config and safetensors weights, in
    float32) and `scheduler/`, so that `DDPMPipeline.from_pretrained`
    loads what kgen trained. The folder is written whole or not at all
    (`atomic_directory`): an earlier one stays until the new one is
    complete.

    Raises:
        ValueError: the model's denoiser is not a `DiffusersUNet` (a kgen
            U-Net has no diffusers counterpart), or its scheduler has no
            diffusers pipeline counterpart (`scheduler_config`).
    """
    if isinstance(model, KLAutoencoder):
        return diffusers_autoencoder_checkpoint.write_autoencoder(model, folder)
    network = model.denoiser
    if not isinstance(network, DiffusersUNet):
        raise ValueError(
            "`model` must denoise with a kgen.networks.DiffusersUNet (from "
            "`from_diffusers`) to be written as a diffusers checkpoint; "
            f"its denoiser is {type(network).__name__}."
        )
    # 1. Everything in memory first, so that nothing is written when any
    # part cannot be.
    scheduler = scheduler_config(model.scheduler)
    unet = {
        key: value
        for key, value in network.unet_config.items()
        if not key.startswith("_")
    }
    unet["_class_name"] = "UNet2DModel"
    weights = {
        key: np.asarray(value, "float32")
        for key, value in diffusers_weights(network).items()
    }
    index = {
        "_class_name": "DDPMPipeline",
        "scheduler": ["diffusers", scheduler["_class_name"]],
        "unet": ["diffusers", "UNet2DModel"],
    }
    # 2. Then the folder, renamed into place whole.
    with atomic_directory(folder) as staging:
        for part in ("unet", "scheduler"):
            os.makedirs(os.path.join(staging, part))
        write_json(os.path.join(staging, "unet", "config.json"), unet)
        write_safetensors(
            os.path.join(staging, "unet", WEIGHTS),
            weights,
            {"format": "pt"},  # as diffusers' own files say
        )
        write_json(
            os.path.join(staging, "scheduler", "scheduler_config.json"),
            scheduler,
        )
        write_json(os.path.join(staging, "model_index.json"), index)
