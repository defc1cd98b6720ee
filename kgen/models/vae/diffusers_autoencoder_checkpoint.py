"""A diffusers `AutoencoderKL` checkpoint as a kgen `KLAutoencoder`, and
back.

An `AutoencoderKL` folder (`config.json`,
`diffusion_pytorch_model.safetensors`) or a pipeline folder holding one
in `vae/` becomes a model whose `encode(x).mean()` is diffusers'
`latent_dist.mean` and whose `decode(z)` is diffusers'
`decode(z).sample`, channels last (`kgen.networks.DiffusersEncoder`,
`DiffusersDecoder`); `write_autoencoder` writes it back as a folder
diffusers loads.
"""

import json
import math
import os

import numpy as np

from kgen.networks.diffusers_decoder import DiffusersDecoder
from kgen.networks.diffusers_encoder import DiffusersEncoder
from kgen.networks.diffusers_weights import diffusers_weights
from kgen.networks.diffusers_weights import load_diffusers_weights
from kgen.utils.atomic_directory import atomic_directory
from kgen.utils.json_file import read_json
from kgen.utils.safetensors_file import read_safetensors
from kgen.utils.safetensors_file import safetensors_header
from kgen.utils.safetensors_file import write_safetensors
from kgen.utils.unallocated_count import count_unallocated_parameters
from kgen.utils.unreadable_file_error import UnreadableFileError

WEIGHTS = "diffusion_pytorch_model.safetensors"
# The most bytes a diffusers config file may have (Stable Diffusion's
# are about 2 KB).
# Which network each top-level module of the state dict belongs to.
ENCODER_MODULES = ("encoder.", "quant_conv.")
DECODER_MODULES = ("decoder.", "post_quant_conv.")


def load_autoencoder(model_class, folder):
    """`model_class` (a `KLAutoencoder`) of the `AutoencoderKL` folder
    `folder`, or of the `vae/` of a pipeline folder.

    Raises:
        FileNotFoundError: no config or no safetensors weights.
        UnreadableFileError: (a `ValueError`) a config kgen does not
            build as diffusers does or whose sizes are out of bounds, or
            a checkpoint whose tensors differ from the config's network
            (each named, with the folder).
    """
    folder = os.fspath(folder)
    if os.path.isfile(os.path.join(folder, "model_index.json")):
        folder = os.path.join(folder, "vae")
    config = read_json(os.path.join(folder, "config.json"))
    path = os.path.join(folder, WEIGHTS)
    encoder, decoder = built_within(
        folder,
        (lambda: DiffusersEncoder(config), lambda: DiffusersDecoder(config)),
        path,
    )
    tensors, _ = read_safetensors(path)
    others = sorted(
        key
        for key in tensors
        if not key.startswith(ENCODER_MODULES + DECODER_MODULES)
    )
    if others:
        raise ValueError(
            f"{path} holds tensors of no AutoencoderKL module kgen builds: "
            f"{others[:8]}."
        )
    for network, modules in (
        (encoder, ENCODER_MODULES),
        (decoder, DECODER_MODULES),
    ):
        part = {k: v for k, v in tensors.items() if k.startswith(modules)}
        built(path, lambda: load_diffusers_weights(network, part))
    return model_class(encoder, decoder)


def write_autoencoder(model, folder):
    """Writes `model` (a `KLAutoencoder` on a `DiffusersEncoder` and a
    `DiffusersDecoder`) as an `AutoencoderKL` folder, whole or not at
    all (`atomic_directory`)."""
    config, weights = autoencoder_files(model)
    with atomic_directory(folder) as staging:
        write_json(os.path.join(staging, "config.json"), config)
        write_safetensors(
            os.path.join(staging, WEIGHTS), weights, {"format": "pt"}
        )


def autoencoder_files(model):
    """`(config.json, weights)` of `model` as diffusers saves an
    `AutoencoderKL`."""
    encoder, decoder = model.encoder, model.decoder
    if not (
        isinstance(encoder, DiffusersEncoder)
        and isinstance(decoder, DiffusersDecoder)
    ):
        raise ValueError(
            "`model` must be a KLAutoencoder on a DiffusersEncoder and a "
            "DiffusersDecoder (from `KLAutoencoder.from_diffusers`) to be "
            f"written as a diffusers checkpoint; it has a "
            f"{type(encoder).__name__} and a {type(decoder).__name__}."
        )
    config = {
        key: value
        for key, value in encoder.autoencoder_config.items()
        if not key.startswith("_")
    }
    config["_class_name"] = "AutoencoderKL"
    weights = {
        key: np.asarray(value, "float32")
        for network in (encoder, decoder)
        for key, value in diffusers_weights(network).items()
    }
    return config, weights


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2)


def built(path, build):
    """`build()`, with a config kgen does not build (a value out of its
    bounds, a list for a number, a missing table) refused as an
    `UnreadableFileError` naming `path` (the config file, or the folder)
    rather than surfacing from inside the network's construction."""
    try:
        return build()
    except UnreadableFileError:
        raise
    except ValueError as error:
        raise UnreadableFileError(f"{path}: {error}") from None
    except (TypeError, AttributeError, KeyError, IndexError) as error:
        raise UnreadableFileError(
            f"{path}: its config is not one kgen can build "
            f"({type(error).__name__}: {error})."
        ) from None


def built_within(folder, builds, weights_path, unstored=0):
    """The networks of `builds` (callables), built only once all of them
    together are known to hold no more parameters than the safetensors
    file `weights_path` stores (and the `unstored` ones kgen adds):
    counted first without allocating (`count_unallocated_parameters`),
    so a config of a few bytes cannot ask for gigabytes that its weights
    would refuse only later."""
    if not os.path.isfile(weights_path):
        raise FileNotFoundError(
            f"{folder} has no {os.path.basename(weights_path)}: kgen reads "
            "a checkpoint's weights from safetensors "
            "(`save_pretrained(safe_serialization=True)`, diffusers' "
            "default), not from a pickled .bin."
        )
    stored = sum(
        math.prod(shape)
        for _, shape in safetensors_header(weights_path).values()
    )
    config_path = os.path.join(folder, "config.json")
    counted = sum(
        built(
            config_path,
            lambda build=build: count_unallocated_parameters(build),
        )
        for build in builds
    )
    if counted > stored + unstored:
        raise UnreadableFileError(
            f"{config_path}: builds a network of {counted:,} parameters, "
            f"more than the {stored:,} values {weights_path} stores."
        )
    return [built(config_path, build) for build in builds]
