"""A diffusers `UNet2DModel` checkpoint as a kgen `DiffusionModel`.

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
from kgen.networks.diffusers_unet import diffusers_unet
from kgen.networks.diffusers_unet import load_diffusers_weights
from kgen.networks.diffusers_unet import unet_config
from kgen.utils.safetensors_file import read_safetensors

WEIGHTS = "diffusion_pytorch_model.safetensors"
# diffusers' DDPM/DDIM beta schedules -> kgen's.
BETA_SCHEDULES = {
    "linear": "linear",
    "scaled_linear": "scaled_linear",
    "squaredcos_cap_v2": "cosine",
}


def load_unet(folder, check=None):
    """`(network, config)`: the `diffusers_unet` of the `UNet2DModel`
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
    network = diffusers_unet(config)
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


def _read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
