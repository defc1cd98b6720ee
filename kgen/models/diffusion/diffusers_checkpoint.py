"""A diffusers `UNet2DModel` checkpoint as a kgen `DiffusionModel`, and
back (`to_diffusers`).

A folder as the field ships it, either the U-Net's own
(`config.json`, `diffusion_pytorch_model.safetensors`) or a pipeline's
(`model_index.json`, `unet/`, `scheduler/scheduler_config.json`, as
`DDPMPipeline.save_pretrained` writes), becomes a model whose `denoise`
equals diffusers' `unet(x_t, t).sample` (channels last) and whose
scheduler is the pipeline's (kgen's schedulers equal diffusers').
"""

import inspect
import os

import numpy as np

from kgen.models.diffusion import stable_diffusion_checkpoint
from kgen.models.diffusion.diffusers_schedulers import scheduler_config
from kgen.models.diffusion.diffusers_schedulers import scheduler_of
from kgen.models.vae import diffusers_autoencoder_checkpoint
from kgen.models.vae.diffusers_autoencoder_checkpoint import WEIGHTS
from kgen.models.vae.diffusers_autoencoder_checkpoint import built
from kgen.models.vae.diffusers_autoencoder_checkpoint import built_within
from kgen.models.vae.diffusers_autoencoder_checkpoint import write_json
from kgen.models.vae.kl_autoencoder import KLAutoencoder
from kgen.networks.diffusers_dit import DiffusersDiT
from kgen.networks.diffusers_dit import dit_config
from kgen.networks.diffusers_unet import DiffusersUNet
from kgen.networks.diffusers_unet import unet_config
from kgen.networks.diffusers_unet import unstored_parameters
from kgen.networks.diffusers_weights import diffusers_weights
from kgen.networks.diffusers_weights import load_diffusers_weights
from kgen.utils.atomic_directory import atomic_directory
from kgen.utils.json_file import read_json
from kgen.utils.safetensors_file import read_safetensors
from kgen.utils.safetensors_file import write_safetensors
from kgen.utils.unreadable_file_error import UnreadableFileError

# The pipelines kgen imports, and the modules each may hold.
PIPELINES = {
    "DDPMPipeline": {"unet", "scheduler"},
    "DDIMPipeline": {"unet", "scheduler"},
    "DiTPipeline": {"transformer", "vae", "scheduler"},
}


def load_unet(folder, check=None):
    """`(network, config)`: the `DiffusersUNet` of the `UNet2DModel`
    folder `folder` with its weights (`check(folder, config)` first)."""
    config_path = os.path.join(folder, "config.json")
    config = built(config_path, lambda: unet_config(read_json(config_path)))
    if check is not None:
        check(folder, config)
    path = os.path.join(folder, WEIGHTS)
    (network,) = built_within(
        folder,
        [lambda: DiffusersUNet(config)],
        path,
        unstored=unstored_parameters(config),
    )
    _load_weights(network, path)
    return network, config


def from_diffusers(model_class, folder):
    """`model_class` of the diffusers folder `folder`.

    A `DiffusionModel` from a `UNet2DModel` or `DiTTransformer2DModel`
    folder, or from a `DDPMPipeline` / `DDIMPipeline` folder (`unet/`,
    `scheduler/`); a `LatentDiffusion` from a `DiTPipeline` folder
    (`transformer/`, `vae/`, `scheduler/`), its latent scale the
    autoencoder's `scaling_factor`. A DiT is class-conditional: its
    label table's last row is the "no class" of guidance, as kgen's. A
    class-conditional U-Net (`num_class_embeds`) has none: its table
    gains a zero "no class" row (the time embedding alone), which
    guidance reads only once fine-tuning with `condition_dropout` has
    trained it.
    """
    folder = os.fspath(folder)
    # A latent model takes its autoencoder first (`LatentDiffusion`);
    # by its constructor, as this module sits below the classes.
    latent = "autoencoder" in inspect.signature(model_class).parameters
    index_file = os.path.join(folder, "model_index.json")
    if not os.path.isfile(index_file):
        if latent:
            raise UnreadableFileError(
                f"{folder} is a denoiser's folder; a LatentDiffusion comes "
                "from a pipeline folder with its `vae/` (a DiTPipeline)."
            )
        denoiser, num_classes = load_denoiser(folder)
        return model_class(denoiser, num_classes=num_classes)
    index = read_json(index_file)
    # A pipeline's modules are `[library, class]` pairs; other keys (a
    # DiT's `id2label`) are data.
    parts = {
        key
        for key, value in index.items()
        if not key.startswith("_") and isinstance(value, list)
    }
    kind = index.get("_class_name")
    # A list or a dict there (any JSON) is named, not looked up.
    known = isinstance(kind, str) and kind in PIPELINES
    if not known or not parts <= PIPELINES[kind]:
        raise UnreadableFileError(
            f"{folder} holds a {kind} of {sorted(parts)}; kgen imports "
            + "; ".join(
                f"a {name} of {sorted(modules)}"
                for name, modules in PIPELINES.items()
            )
            + "."
        )
    if ("vae" in parts) != latent:
        raise UnreadableFileError(
            f"{folder} is a {kind}: load it with "
            + ("LatentDiffusion" if "vae" in parts else "DiffusionModel")
            + ".from_diffusers."
        )
    denoiser_part = "transformer" if "transformer" in parts else "unet"
    denoiser, num_classes = load_denoiser(os.path.join(folder, denoiser_part))
    scheduler = None
    scheduler_file = os.path.join(folder, "scheduler", "scheduler_config.json")
    if os.path.isfile(scheduler_file):
        config = read_json(scheduler_file)
        scheduler = built(scheduler_file, lambda: scheduler_of(config))
    if not latent:
        return model_class(
            denoiser, scheduler=scheduler, num_classes=num_classes
        )
    autoencoder = KLAutoencoder.from_diffusers(os.path.join(folder, "vae"))
    return model_class(
        autoencoder,
        denoiser,
        scheduler=scheduler,
        num_classes=num_classes,
        latent_scale=autoencoder.encoder.autoencoder_config["scaling_factor"],
    )


def load_denoiser(folder):
    """`(network, num_classes)` of a `UNet2DModel` or
    `DiTTransformer2DModel` folder, its weights assigned."""
    config = read_json(os.path.join(folder, "config.json"))
    if config.get("_class_name") != "DiTTransformer2DModel":
        network, config = load_unet(folder, _check_denoiser)
        return network, config["num_class_embeds"]
    config = built(
        os.path.join(folder, "config.json"), lambda: dit_config(config)
    )
    channels = config["in_channels"]
    out_channels = config["out_channels"] or channels
    if out_channels not in (channels, 2 * channels):
        raise UnreadableFileError(
            f"{folder} predicts {out_channels} channels of {channels}; a "
            "DiT predicts one per channel, or twice that with a learned "
            "variance."
        )
    # A learned variance is dropped, as DiTPipeline drops it.
    path = os.path.join(folder, WEIGHTS)
    (network,) = built_within(
        folder,
        [lambda: DiffusersDiT(config, output_channels=channels)],
        path,
    )
    _load_weights(network, path)
    return network, config["num_embeds_ada_norm"]


def _load_weights(network, path):
    """Assigns the tensors of safetensors file `path` to `network`; a
    tensor missing, unknown or of another shape is refused naming the
    file."""
    tensors, _ = read_safetensors(path)
    built(path, lambda: load_diffusers_weights(network, tensors))


def _check_denoiser(folder, config):
    """Refuses a U-Net a `DiffusionModel` cannot drive as diffusers'
    pipelines do."""
    if config["out_channels"] != config["in_channels"]:
        raise UnreadableFileError(
            f"{folder} predicts {config['out_channels']} channels of "
            f"{config['in_channels']} (a learned variance); kgen's "
            "DiffusionModel takes one prediction per channel."
        )


def to_diffusers(model, folder):
    """Writes `model` as a diffusers folder, so that diffusers loads what
    kgen trained:

    - a `DiffusionModel` on a `DiffusersUNet`: a `DDPMPipeline` folder
      (`model_index.json`, `unet/`, `scheduler/`);
    - a `LatentDiffusion` on a `DiffusersDiT` and a diffusers
      autoencoder: a `DiTPipeline` folder (`transformer/`, `vae/` with
      the latent scale as its `scaling_factor`, `scheduler/`);
    - a `KLAutoencoder` of an `AutoencoderKL`: that model's folder;
    - a `LatentTextToImage` from a Stable Diffusion folder: a
      `StableDiffusionPipeline` folder (`stable_diffusion_checkpoint.
      write_pipeline`).

    Weights are float32 safetensors; a class-conditional U-Net's "no
    class" row, which diffusers' class table has no place for, is not
    written (the diffusers model draws with a class). The folder is
    written whole or not at all (`atomic_directory`): an earlier one
    stays until the new one is complete.

    Raises:
        ValueError: a network with no diffusers counterpart (kgen's own
            U-Net or DiT), or a scheduler no pipeline expresses
            (`scheduler_config`); nothing is written then.
    """
    if isinstance(model, KLAutoencoder):
        return diffusers_autoencoder_checkpoint.write_autoencoder(model, folder)
    if hasattr(model, "text_encoder"):
        return stable_diffusion_checkpoint.write_pipeline(model, folder)
    # 1. Everything in memory first, so that nothing is written when any
    # part cannot be.
    network = model.denoiser
    latent = hasattr(model, "autoencoder")
    kinds = (DiffusersDiT,) if latent else (DiffusersUNet,)
    if not isinstance(network, kinds):
        raise ValueError(
            f"`model` must denoise with a kgen.networks."
            f"{kinds[0].__name__} (from `from_diffusers`) to be written as "
            f"a diffusers {'DiTPipeline' if latent else 'DDPMPipeline'}; "
            f"its denoiser is {type(network).__name__}."
        )
    scheduler = scheduler_config(model.scheduler)
    modules = {}
    if latent:
        modules["transformer"] = _module_files(
            "DiTTransformer2DModel", network.dit_config, network
        )
        vae_config, vae_weights = (
            diffusers_autoencoder_checkpoint.autoencoder_files(
                model.autoencoder
            )
        )
        vae_config["scaling_factor"] = float(model.latent_scale)
        modules["vae"] = (vae_config, vae_weights)
    else:
        modules["unet"] = _module_files(
            "UNet2DModel", network.unet_config, network
        )
    index = {
        "_class_name": "DiTPipeline" if latent else "DDPMPipeline",
        "scheduler": ["diffusers", scheduler["_class_name"]],
    }
    for part, (config, _) in modules.items():
        index[part] = ["diffusers", config["_class_name"]]
    # 2. Then the folder, renamed into place whole.
    with atomic_directory(folder) as staging:
        for part, (config, weights) in modules.items():
            os.makedirs(os.path.join(staging, part))
            write_json(os.path.join(staging, part, "config.json"), config)
            write_safetensors(
                os.path.join(staging, part, WEIGHTS),
                weights,
                {"format": "pt"},  # as diffusers' own files say
            )
        os.makedirs(os.path.join(staging, "scheduler"))
        write_json(
            os.path.join(staging, "scheduler", "scheduler_config.json"),
            scheduler,
        )
        write_json(os.path.join(staging, "model_index.json"), index)


def _module_files(class_name, config, network):
    """`(config.json, weights)` of a denoiser as diffusers saves it."""
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    config["_class_name"] = class_name
    weights = {
        key: np.asarray(value, "float32")
        for key, value in diffusers_weights(network).items()
    }
    return config, weights
