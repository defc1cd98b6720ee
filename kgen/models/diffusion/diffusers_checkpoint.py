"""A diffusers `UNet2DModel` checkpoint as a kgen `DiffusionModel`, and
back (`to_diffusers`).

A folder as the field ships it, either the U-Net's own
(`config.json`, `diffusion_pytorch_model.safetensors`) or a pipeline's
(`model_index.json`, `unet/`, `scheduler/scheduler_config.json`, as
`DDPMPipeline.save_pretrained` writes), becomes a model whose `denoise`
equals diffusers' `unet(x_t, t).sample` (channels last) and whose
scheduler is the pipeline's (kgen's schedulers equal diffusers').
"""

import json
import os

from kgen import schedulers
from kgen.networks.diffusers_unet import DiffusersUNet
from kgen.networks.diffusers_unet import diffusers_weights
from kgen.networks.diffusers_unet import load_diffusers_weights
from kgen.networks.diffusers_unet import unet_config
from kgen.utils.atomic_file import atomic_file
from kgen.utils.safetensors_file import read_safetensors
from kgen.utils.safetensors_file import write_safetensors

WEIGHTS = "diffusion_pytorch_model.safetensors"
# diffusers' DDPM/DDIM beta schedules -> kgen's.
BETA_SCHEDULES = {
    "linear": "linear",
    "scaled_linear": "scaled_linear",
    "squaredcos_cap_v2": "cosine",
}


def load_unet(folder, check=None):
    """`(network, config)`: the `DiffusersUNet` of the `UNet2DModel`
    folder `folder` with its weights (`check(folder, config)` first)."""
    config = unet_config(_read_json(os.path.join(folder, "config.json")))
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


def scheduler_of(config):
    """The kgen scheduler of a diffusers DDPM or DDIM scheduler config
    (`scheduler_config.json`), or a `ValueError` naming what kgen's
    schedulers do not have."""
    kind = config.get("_class_name", "DDPMScheduler")
    names = {"DDPMScheduler": "DDPMScheduler", "DDIMScheduler": "DDIMScheduler"}
    schedule = config.get("beta_schedule", "linear")
    if kind not in names or schedule not in BETA_SCHEDULES:
        raise ValueError(
            f"A {kind} with beta_schedule={schedule!r} has no kgen "
            f"scheduler; kgen maps {sorted(names)} with "
            f"{sorted(BETA_SCHEDULES)}."
        )
    if config.get("trained_betas") is not None:
        raise ValueError(
            "A scheduler with `trained_betas` has no kgen scheduler."
        )
    return getattr(schedulers, names[kind])(
        num_train_timesteps=config.get("num_train_timesteps", 1000),
        beta_schedule=BETA_SCHEDULES[schedule],
        beta_start=config.get("beta_start", 1e-4),
        beta_end=config.get("beta_end", 0.02),
        prediction_type=config.get("prediction_type", "epsilon"),
        timestep_spacing=config.get("timestep_spacing"),
    )


def from_diffusers(model_class, folder):
    """`model_class` (a `DiffusionModel`) of the diffusers folder
    `folder`: a `UNet2DModel` folder or a pipeline folder holding one
    (`unet/`) and its scheduler (`scheduler/`)."""
    folder = os.fspath(folder)
    unet_folder, scheduler = folder, None
    if os.path.isfile(os.path.join(folder, "model_index.json")):
        unet_folder = os.path.join(folder, "unet")
        scheduler_file = os.path.join(
            folder, "scheduler", "scheduler_config.json"
        )
        if os.path.isfile(scheduler_file):
            scheduler = scheduler_of(_read_json(scheduler_file))
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
    `from_diffusers` makes it) as a diffusers `DDPMPipeline` folder:
    `model_index.json`, `unet/` (its config and safetensors weights) and
    `scheduler/`, so that `DDPMPipeline.from_pretrained(folder)` loads
    what kgen trained. Files are written whole or not at all.

    Raises:
        ValueError: the model's denoiser is not a `DiffusersUNet` (a kgen
            U-Net has no diffusers counterpart), or its scheduler is
            neither DDPM nor DDIM.
    """
    network = model.denoiser
    if not isinstance(network, DiffusersUNet):
        raise ValueError(
            "`model` must denoise with a kgen.networks.DiffusersUNet (from "
            "`from_diffusers`) to be written as a diffusers checkpoint; "
            f"its denoiser is {type(network).__name__}."
        )
    names = {value: key for key, value in BETA_SCHEDULES.items()}
    scheduler = model.scheduler.get_config()
    kind = type(model.scheduler).__name__
    if kind not in ("DDPMScheduler", "DDIMScheduler"):
        raise ValueError(
            f"A {kind} has no diffusers scheduler kgen writes; use "
            "DDPMScheduler or DDIMScheduler."
        )
    folder = os.fspath(folder)
    unet_folder = os.path.join(folder, "unet")
    os.makedirs(unet_folder, exist_ok=True)
    os.makedirs(os.path.join(folder, "scheduler"), exist_ok=True)
    config = {
        key: value
        for key, value in network.unet_config.items()
        if not key.startswith("_")
    }
    _write_json(
        os.path.join(unet_folder, "config.json"),
        dict(config, _class_name="UNet2DModel"),
    )
    write_safetensors(
        os.path.join(unet_folder, WEIGHTS),
        diffusers_weights(network),
        {"format": "pt"},  # as diffusers' own files say
    )
    _write_json(
        os.path.join(folder, "scheduler", "scheduler_config.json"),
        {
            "_class_name": kind,
            "num_train_timesteps": scheduler["num_train_timesteps"],
            "beta_schedule": names[scheduler["beta_schedule"]],
            "beta_start": scheduler["beta_start"],
            "beta_end": scheduler["beta_end"],
            "prediction_type": scheduler["prediction_type"],
            "timestep_spacing": scheduler["timestep_spacing"],
        },
    )
    _write_json(
        os.path.join(folder, "model_index.json"),
        {
            "_class_name": "DDPMPipeline",
            "scheduler": ["diffusers", kind],
            "unet": ["diffusers", "UNet2DModel"],
        },
    )


def _write_json(path, value):
    with atomic_file(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2)


def _read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
