"""LoRA adapters saved alone: a small preset that names its base.

An adapter folder holds peft's two files:

- `adapter_config.json`: the base it was trained on (a preset name or
  folder, or a diffusers folder) and the sha256 of that base's weights
  (`kgen.lora.base_weights_sha256`), the rank, alpha and adapted layers,
  and the sha256 of the weights file;
- `adapter_model.safetensors`: the adapters, named
  `"<layer path>.lora_kernel_a"` and so on (`kgen.lora.lora_weights`).

`load_preset(folder)` loads the base and puts the adapters on it;
`apply_lora_adapter(model, folder)` puts them on a base already loaded.
Either refuses a base whose weights are not the ones the adapter was
trained on.
"""

import glob
import json
import math
import os

import numpy as np

from kgen import lora
from kgen.presets import registry
from kgen.presets import remote
from kgen.utils.atomic_directory import atomic_directory
from kgen.utils.file_digest import sha256
from kgen.utils.preset_error import PresetError
from kgen.utils.preset_error import as_preset_error
from kgen.utils.safetensors_file import read_safetensors
from kgen.utils.safetensors_file import safetensors_header
from kgen.utils.safetensors_file import write_safetensors
from kgen.utils.unreadable_file_error import UnreadableFileError
from kgen.version import __version__

ADAPTER_CONFIG = registry.ADAPTER_CONFIG
ADAPTER_WEIGHTS = "adapter_model.safetensors"
FORMAT = "kgen-lora"
FORMAT_VERSION = 1

# Bounds on what an adapter's config may declare (far above any adapter
# of a kgen network), checked before anything is built from it.
MAX_RANK = 4096
MAX_LAYERS = 100_000
MAX_WEIGHTS_BYTES = 2**30


def is_lora_adapter(directory):
    """Whether `directory` holds an adapter (and is no full preset): its
    config exists, of whatever kind, so that one that is not a regular
    file is refused as the adapter's (`read_lora_adapter`)."""
    return os.path.lexists(
        os.path.join(directory, ADAPTER_CONFIG)
    ) and not os.path.lexists(os.path.join(directory, registry.METADATA))


def save_lora_adapter(model, directory, base, card=None):
    """Writes `model`'s LoRA adapters alone, as a preset that names its
    base.

    The folder is written whole or not at all (`atomic_directory`).

    Args:
        model: a model with adapters (`kgen.lora.enable_lora`).
        directory: str or path-like, the adapter folder to write.
        base: str, how to load the base again: a preset name, a preset
            folder or a diffusers folder (a relative folder is read
            relative to the adapter folder first, then to the working
            directory).
        card: `None` or a JSON-serializable dict: the adapter's model
            card (a description, its metrics with their command), kept
            as the config's `card`.

    Returns:
        str, the absolute path of the folder.

    Example:

    ```python
    kgen.presets.save_lora_adapter(model, "runs/fashion_lora", "ddpm_mnist")
    model = kgen.presets.load_preset("runs/fashion_lora")
    ```
    """
    if not isinstance(base, (str, os.PathLike)) or not os.fspath(base):
        raise ValueError(
            "`base` must name the base the adapter loads on (a preset name "
            f"or folder, or a diffusers folder); received {base!r}."
        )
    if card is not None:
        try:
            if not isinstance(card, dict):
                raise TypeError
            json.dumps(card)  # refused here, before anything is written
        except (TypeError, ValueError):
            raise ValueError(
                "`card` must be None or a dict that JSON can hold; "
                f"received {card!r}."
            ) from None
    if remote.is_remote(base):
        raise ValueError(
            f"`base` must be a local preset name or folder; received "
            f"{os.fspath(base)!r} (download it first)."
        )
    lora.check_base_unchanged(model)
    settings = lora.lora_settings(model)
    weights = lora.lora_weights(model)
    directory = os.path.abspath(os.fspath(directory))
    base = os.fspath(base)
    if os.path.isdir(base) and base not in registry.shipped_presets():
        # A folder, named from the adapter's own, so that both can move
        # together (`base_location` reads it from there first).
        base = os.path.relpath(os.path.abspath(base), directory)
    with atomic_directory(directory) as staging:
        weights_path = os.path.join(staging, ADAPTER_WEIGHTS)
        write_safetensors(
            weights_path,
            weights,
            metadata={"format": FORMAT, "base": base},
        )
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "base": base,
            "base_sha256": lora.base_weights_sha256(model),
            "model_class": type(model).__name__,
            "rank": settings["rank"],
            "alpha": settings["alpha"],
            "layers": settings["layers"],
            "num_parameters": int(sum(w.size for w in weights.values())),
            "weights_sha256": sha256(weights_path),
            "kgen_version": __version__,
        }
        if card is not None:
            config["card"] = card
        with open(os.path.join(staging, ADAPTER_CONFIG), "w") as file:
            json.dump(config, file, indent=2, sort_keys=True)
            file.write("\n")
    return directory


def read_lora_adapter(directory):
    """The checked config and weights of an adapter folder.

    Raises:
        PresetError: a file missing or not as its config says, naming
            the file and the field.
    """
    directory = os.fspath(directory)
    config = read_adapter_config(directory)
    config_path = os.path.join(directory, ADAPTER_CONFIG)
    weights_path = os.path.join(directory, ADAPTER_WEIGHTS)
    try:
        digest = sha256(weights_path, MAX_WEIGHTS_BYTES, PresetError)
        if digest != config["weights_sha256"]:
            raise PresetError(
                f"{weights_path}: sha256 {digest} differs from the "
                f"{config['weights_sha256']} of {ADAPTER_CONFIG}."
            )
        stored = sum(
            math.prod(shape)
            for _, shape in safetensors_header(weights_path).values()
        )
        if stored != config["num_parameters"]:
            raise PresetError(
                f"{config_path}: `num_parameters` is "
                f"{config['num_parameters']:,}, but {ADAPTER_WEIGHTS} "
                f"stores {stored:,} values."
            )
        weights, _ = read_safetensors(weights_path)
    except (OSError, UnreadableFileError) as error:
        raise as_preset_error(error, weights_path) from None
    return config, weights


def read_adapter_config(directory):
    """An adapter folder's checked `adapter_config.json` alone (its
    weights neither read nor hashed): what its base is."""
    config_path = os.path.join(os.fspath(directory), ADAPTER_CONFIG)
    config = registry.read_json(config_path)
    _check_config(config, config_path)
    return config


def _check_config(config, path):
    def refuse(field, expected):
        raise PresetError(f"{path}: `{field}` must be {expected}.")

    if not isinstance(config, dict) or config.get("format") != FORMAT:
        refuse("format", f"{FORMAT!r}")
    if config.get("format_version") != FORMAT_VERSION:
        refuse("format_version", str(FORMAT_VERSION))
    for field in ("base", "model_class"):
        if not isinstance(config.get(field), str) or not config[field]:
            refuse(field, "a non-empty string")
    if remote.is_remote(config["base"]):
        refuse("base", "a local preset name or folder, not a URL")
    count = config.get("num_parameters")
    if type(count) is not int or count < 0:
        refuse("num_parameters", "an int >= 0")
    card = config.get("card", {})
    if not isinstance(card, dict) or not all(
        isinstance(card.get(key, {}), dict) for key in ("metrics",)
    ):
        refuse("card", "a dict, its `metrics` a dict")
    for field in ("base_sha256", "weights_sha256"):
        if not registry.is_sha256(config.get(field)):
            refuse(field, "a sha256 (64 lowercase hex digits)")
    rank = config.get("rank")
    if type(rank) is not int or not 1 <= rank <= MAX_RANK:
        refuse("rank", f"an int in [1, {MAX_RANK}]")
    alpha = config.get("alpha")
    if (
        type(alpha) not in (int, float)
        or not math.isfinite(alpha)
        or alpha <= 0
    ):
        refuse("alpha", "a positive number")
    layers = config.get("layers")
    if (
        not isinstance(layers, list)
        or not 1 <= len(layers) <= MAX_LAYERS
        or not all(isinstance(layer, str) and layer for layer in layers)
        or len(set(layers)) != len(layers)
    ):
        refuse("layers", f"1 to {MAX_LAYERS:,} distinct layer paths")


def base_location(directory, config):
    """Where an adapter's base is: its folder (relative to the adapter
    folder first, then to the working directory) or its preset name."""
    base = config["base"]
    if not os.path.isabs(base):
        beside = os.path.join(os.fspath(directory), base)
        if os.path.isdir(beside):
            return beside
    return base


def is_diffusers_folder(folder):
    """Whether `folder` is a diffusers model or pipeline folder."""
    return os.path.isdir(folder) and (
        os.path.isfile(os.path.join(folder, "model_index.json"))
        or os.path.isfile(
            os.path.join(folder, "diffusion_pytorch_model.safetensors")
        )
    )


def apply_lora_adapter(model, directory):
    """Puts the adapters of `directory` on `model`, its base.

    Args:
        model: the base, loaded (`load_preset`, `from_diffusers`), with
            no adapters.
        directory: an adapter folder (`save_lora_adapter`).

    Returns:
        `model`, adapted; `fit` then trains the adapters further.

    Raises:
        PresetError: `model`'s weights are not the base the adapter was
            trained on (their sha256 differs), or the adapter does not
            fit its layers.
    """
    return apply_read_adapter(model, directory, *read_lora_adapter(directory))


def apply_read_adapter(model, directory, config, weights):
    """`apply_lora_adapter` of an adapter already read and checked
    (`read_lora_adapter`), so that loading reads its files once."""
    config_path = os.path.join(os.fspath(directory), ADAPTER_CONFIG)
    digest = lora.base_weights_sha256(model)
    if digest != config["base_sha256"]:
        raise PresetError(
            f"{config_path}: this adapter was trained on a base whose "
            f"weights have sha256 {config['base_sha256']} "
            f"({config['base']!r}); the model given has {digest}. Load it "
            f"onto {config['base']!r}."
        )
    try:
        # Everything checked before the model changes: a refused adapter
        # leaves the base as it was.
        if lora.lora_layers(model):
            raise ValueError(f"{model.name!r} already has LoRA adapters.")
        shapes = lora.adapter_shapes(model, config["layers"], config["rank"])
        found = {
            name: tuple(np.shape(value)) for name, value in weights.items()
        }
        if found != shapes:
            missing = sorted(set(shapes) - set(found))
            unknown = sorted(set(found) - set(shapes))
            wrong = sorted(
                name
                for name in set(shapes) & set(found)
                if shapes[name] != found[name]
            )
            raise ValueError(
                f"the adapter's weights do not fit its layers: missing "
                f"{missing[:5]}, unknown {unknown[:5]}, of another shape "
                f"{wrong[:5]}."
            )
        lora.enable_lora(
            model,
            config["rank"],
            alpha=config["alpha"],
            # Exact paths: a path's own `*`, `?` or `[` matches itself.
            target_layers=[glob.escape(path) for path in config["layers"]],
        )
    except ValueError as error:
        raise PresetError(f"{config_path}: {error}") from None
    lora.set_lora_weights(
        model, {name: np.asarray(value) for name, value in weights.items()}
    )
    return model
