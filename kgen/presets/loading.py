"""Loading presets: verify every checksum, then rebuild the model."""

import copy
import io
import math
import os
import zipfile

import keras
import numpy as np

from kgen import backend
from kgen.presets import architectures
from kgen.presets import lora_adapter
from kgen.presets import registry
from kgen.presets import remote
from kgen.presets import weights_check
from kgen.utils.deserialize_instance import deserialize_instance
from kgen.utils.file_digest import sha256
from kgen.utils.preset_error import PresetError
from kgen.utils.preset_error import as_preset_error
from kgen.utils.regular_file import open_regular_file
from kgen.utils.unreadable_file_error import UnreadableFileError


def preset_directory(name_or_directory):
    """The local folder of a preset: a shipped preset's name or a folder
    (`registry.resolve`), or the URL or `hf://` handle of one, downloaded
    once into the cache with every file's sha256 checked
    (`kgen.presets.remote`)."""
    if remote.is_remote(name_or_directory):
        return remote.download_preset(name_or_directory)
    return registry.resolve(name_or_directory)


def preset_metadata(name_or_directory):
    """The model card of a preset: its `metadata.json` as a dict.

    The metadata is checked for its required keys; the other files are not
    hashed (`verify_preset` does that).

    Args:
        name_or_directory: str, a shipped preset name, a preset directory,
            or a preset's URL or `hf://` handle (`preset_directory`).

    Returns:
        dict with at least `name`, `description`, `model_class`,
        `num_parameters`, `trained`, `metrics`, `versions` and `files`.

    Example:

    ```python
    card = kgen.presets.preset_metadata("vae_digits")
    card["metrics"]["test_negative_elbo_nats"]
    ```
    """
    return registry.read_metadata(preset_directory(name_or_directory))


def verify_preset(name_or_directory):
    """Checks a preset's files and its model card against their sha256.

    The digests give integrity, not authenticity: a damaged, truncated or
    edited preset is refused, but anyone can write a preset whose digests
    agree (nothing is signed); load presets from sources you trust.

    Args:
        name_or_directory: str, a shipped preset name, a preset directory,
            or a preset's URL or `hf://` handle (`preset_directory`).

    Returns:
        dict, the verified metadata.

    Raises:
        PresetError: a listed file is missing or differs from its sha256, a
            file in the directory is not listed, or the metadata is invalid.
    """
    directory = preset_directory(name_or_directory)
    metadata = registry.read_metadata(directory)
    registry.check_card_digest(
        metadata, os.path.join(directory, registry.METADATA)
    )
    for filename, expected in sorted(metadata["files"].items()):
        path = os.path.join(directory, filename)
        if not os.path.lexists(path):
            raise PresetError(
                f"{path}: missing (metadata.json lists it with sha256 "
                f"{expected})."
            )
        # Kind and size first: a link out of the folder, a FIFO or a
        # sparse file of terabytes is refused unread.
        actual = sha256(path, registry.MAX_FILE_BYTES, PresetError)
        if actual != expected:
            raise PresetError(
                f"{path}: sha256 is {actual} but metadata.json says "
                f"{expected}; the file was changed or corrupted. Restore it "
                "or save the preset again."
            )
    unlisted = sorted(
        name
        for name in os.listdir(directory)
        if name != registry.METADATA
        and not name.startswith(".")
        and name not in metadata["files"]
    )
    if unlisted:
        raise PresetError(
            f"{directory}: {unlisted} not listed in metadata.json's 'files'; "
            "remove them or save the preset again."
        )
    return metadata


def read_array(directory, filename):
    """The `.npy` array, or the `.npz` arrays (a list, in order), of a
    preset file that `verify_preset` hashed.

    Only a regular file inside the folder is read, and no array is made
    before its header's size is checked against the bytes that hold it:
    NumPy allocates what a header declares before reading, so a small
    file could otherwise ask for terabytes.
    """
    path = os.path.join(directory, filename)
    with open_regular_file(path, registry.MAX_FILE_BYTES, PresetError) as f:
        try:
            if not zipfile.is_zipfile(f):
                f.seek(0)
                return _checked_npy(f.read(), path)
            with zipfile.ZipFile(f) as archive:
                members = archive.infolist()
                unpacked = sum(member.file_size for member in members)
                if unpacked > MAX_REFERENCE_BYTES:
                    raise PresetError(
                        f"{path}: its arrays unpack to {unpacked:,} bytes, "
                        f"above the {MAX_REFERENCE_BYTES:,} bytes of a "
                        "reference."
                    )
                names = {member.filename for member in members}
                return [
                    _checked_npy(archive.read(f"arr_{i}.npy"), path)
                    for i in range(len(names))
                ]
        except (ValueError, OSError, KeyError, zipfile.BadZipFile) as error:
            if isinstance(error, PresetError):
                raise
            raise PresetError(
                f"{path}: not a readable array file "
                f"({type(error).__name__}: {error})."
            ) from None


def _checked_npy(data, path):
    """The array of `.npy` bytes `data`, its header checked first."""
    buffer = io.BytesIO(data)
    version = np.lib.format.read_magic(buffer)
    read_header = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    shape, _, dtype = read_header(buffer)
    declared = math.prod(shape) * dtype.itemsize
    if dtype.hasobject or declared > len(data) - buffer.tell():
        raise PresetError(
            f"{path}: an array header declares {shape} of {dtype}, which "
            f"{len(data) - buffer.tell():,} bytes cannot hold."
        )
    buffer.seek(0)
    return np.load(buffer, allow_pickle=False)


def load_preset(name_or_directory):
    """Loads a preset: a shipped name or a local directory, offline, or a
    URL or hub handle, downloaded once into a local cache.

    Every file's sha256 is checked before anything is deserialized; then
    the model is rebuilt from `config.json` (Keras safe mode) and given the
    weights of `model.weights.h5`. The model is returned uncompiled, and
    its `sample` takes the card's `sample_arguments` as defaults.

    Args:
        name_or_directory: str or `os.PathLike`: a name from
            `kgen.presets.list_presets()` or the path of a directory written
            by `save_to_preset`, or the URL or `hf://owner/repo` handle of
            one (`kgen.presets.download_preset`); an architecture name
            (`kgen.presets.list_architectures()`) gives that architecture
            untrained, compiled with its training defaults, for its own
            dataset's shape; a LoRA adapter folder
            (`save_lora_adapter`) gives its base with the adapter on it.

    Returns:
        the `keras.Model` (a `kgen.models.GenerativeModel` for generative
        presets).

    Raises:
        PresetError: unknown name (the message lists the shipped presets),
            or a file missing, altered or unreadable.

    Example:

    ```python
    vae = kgen.presets.load_preset("vae_digits")
    images = vae.sample(16, seed=0)
    model = kgen.presets.load_preset("runs/my_preset")  # a local directory
    ```
    """
    if _is_architecture(name_or_directory):
        return architectures.build_architecture(name_or_directory)
    directory = preset_directory(name_or_directory)
    if lora_adapter.is_lora_adapter(directory):
        return _load_adapted(directory)
    metadata = verify_preset(directory)
    config_path = os.path.join(directory, registry.CONFIG)
    config = registry.read_json(config_path)
    if not isinstance(config, dict) or "class_name" not in config:
        raise PresetError(
            f"{config_path}: must hold a serialized Keras object (a JSON "
            "object with 'class_name' and 'config')."
        )
    if config["class_name"] != metadata["model_class"]:
        raise PresetError(
            f"{config_path}: holds a {config['class_name']}, but "
            f"metadata.json says {metadata['model_class']}."
        )
    import kgen.models  # noqa: F401  (registers kgen's classes with Keras)

    weights_check.check_sizes(
        metadata, config, config_path, os.path.join(directory, registry.WEIGHTS)
    )
    model = rebuild(directory, config)
    _check_sample_arguments(model, metadata, directory)
    if metadata.get("sample_arguments"):
        model.sample_defaults = metadata["sample_arguments"]
    return model


def _load_adapted(directory):
    """The base an adapter folder names, with the adapter on it."""
    config, weights = lora_adapter.read_lora_adapter(directory)
    base = lora_adapter.base_location(directory, config)
    if lora_adapter.is_diffusers_folder(base):
        import kgen.models

        model_class = getattr(kgen.models, config["model_class"], None)
        if not hasattr(model_class, "from_diffusers"):
            raise PresetError(
                f"{os.path.join(directory, lora_adapter.ADAPTER_CONFIG)}: "
                f"`model_class` {config['model_class']!r} does not load "
                "from a diffusers folder."
            )
        try:
            model = model_class.from_diffusers(base)
        except (OSError, UnreadableFileError) as error:
            raise as_preset_error(error, base) from None
    else:
        _refuse_adapter_base(directory, base, config)
        model = load_preset(base)
    return lora_adapter.apply_read_adapter(model, directory, config, weights)


def _check_sample_arguments(model, metadata, directory):
    """`PresetError` naming the field when the card's `sample_arguments`
    or reference arguments name an argument `model.sample` does not
    take: checked as the command line checks its options, before a
    default runs unasked."""
    from kgen.models import contract

    reference = metadata.get("reference") or {}
    for field, arguments in (
        ("sample_arguments", metadata.get("sample_arguments")),
        ("reference.arguments", reference.get("arguments")),
    ):
        try:
            contract.check_sample_arguments(model, arguments or {}, field)
        except ValueError as error:
            card_path = os.path.join(directory, registry.METADATA)
            raise PresetError(f"{card_path}: {error}") from None


def load_tokenizer(name_or_directory):
    """Loads the tokenizer saved with a token model's preset, offline.

    Every file's sha256 is checked first, as by `load_preset`.

    Args:
        name_or_directory: str or `os.PathLike`, a shipped preset name, a
            preset directory, or a preset's URL or `hf://` handle.

    Returns:
        the tokenizer (such as a `kgen.tokenizers.CharacterTokenizer`).

    Raises:
        PresetError: the preset holds no tokenizer, or any error of
            `verify_preset`.

    Example:

    ```python
    gpt = kgen.presets.load_preset("gpt_shakespeare")
    tokenizer = kgen.presets.load_tokenizer("gpt_shakespeare")
    tokens = gpt.generate(tokenizer("ROMEO:")[None], 60, seed=0)
    print(tokenizer.detokenize(tokens)[0])
    ```
    """
    import kgen.tokenizers  # noqa: F401  (registers the tokenizers)

    directory = preset_directory(name_or_directory)
    base = adapter_base(directory)
    if base is not None:
        return load_tokenizer(base)
    metadata = verify_preset(directory)
    if registry.TOKENIZER not in metadata["files"]:
        raise PresetError(
            f"Preset {os.fspath(name_or_directory)!r} holds no tokenizer "
            f"(no {registry.TOKENIZER}): its {metadata['model_class']} "
            "does not read text."
        )
    path = os.path.join(directory, registry.TOKENIZER)
    config = registry.read_json(path)
    kinds = (
        kgen.tokenizers.CharacterTokenizer,
        kgen.tokenizers.SmilesTokenizer,
        kgen.tokenizers.WordTokenizer,
    )
    return deserialize_instance(config, kinds, path, PresetError)


def has_tokenizer(name_or_directory):
    """Whether a preset holds a tokenizer (its metadata lists one); an
    adapter's is its base's."""
    directory = preset_directory(name_or_directory)
    if lora_adapter.is_lora_adapter(directory):
        base = adapter_base(directory)
        return base is not None and has_tokenizer(base)
    return registry.TOKENIZER in registry.read_metadata(directory)["files"]


def adapter_base(directory):
    """The preset (a name or folder) an adapter folder's adapters go on,
    whose card and tokenizer it shares; `None` for a folder that is no
    adapter or an adapter on a diffusers folder, which has neither."""
    if not lora_adapter.is_lora_adapter(directory):
        return None
    config = lora_adapter.read_adapter_config(directory)
    base = lora_adapter.base_location(directory, config)
    if lora_adapter.is_diffusers_folder(base):
        return None
    _refuse_adapter_base(directory, base, config)
    return base


def _refuse_adapter_base(directory, base, config):
    """`PresetError` when an adapter's base is an adapter (itself, or a
    chain): an adapter's base is a preset or a diffusers folder."""
    if os.path.isdir(base) and lora_adapter.is_lora_adapter(base):
        raise PresetError(
            f"{os.path.join(directory, lora_adapter.ADAPTER_CONFIG)}: its "
            f"base {config['base']!r} is an adapter; an adapter's base is "
            "a preset or a diffusers folder (merge the first adapter into "
            "a preset to stack them)."
        )


def rebuild(directory, config):
    """The model of `config` with the weights of `directory`'s weights
    file; nothing is verified (the callers do)."""
    import kgen.models  # noqa: F401  (registers kgen's classes with Keras)

    config_path = os.path.join(directory, registry.CONFIG)
    weights_path = os.path.join(directory, registry.WEIGHTS)

    def build():
        try:
            # A copy: deserializing nested Functional configs consumes them.
            return keras.saving.deserialize_keras_object(copy.deepcopy(config))
        except Exception as error:
            raise PresetError(
                f"{config_path}: could not rebuild the "
                f"{config['class_name']} ({type(error).__name__}: {error})."
            ) from error

    def load(model):
        try:
            model.load_weights(weights_path)
        except Exception as error:
            raise PresetError(
                f"{weights_path}: does not fit the {config['class_name']} "
                f"of config.json ({type(error).__name__}: {error})."
            ) from error

    return backend.build_then_load(build, load)


def from_preset(cls, name_or_directory):
    """Loads a preset and checks that it holds a `cls`.

    The body of `GenerativeModel.from_preset`.

    Args:
        cls: class the preset's model must be an instance of.
        name_or_directory: str, a shipped preset name, a preset
            directory, or a preset's URL or `hf://` handle.

    Returns:
        the model, an instance of `cls`.

    Raises:
        PresetError: the preset holds a model of another class, or any
            error of `load_preset`.

    Example:

    ```python
    gan = kgen.presets.from_preset(kgen.models.DCGAN, "dcgan_digits")
    ```
    """
    model = load_preset(name_or_directory)
    if not isinstance(model, cls):
        raise PresetError(
            f"Preset {os.fspath(name_or_directory)!r} holds a "
            f"{type(model).__name__}, which is not a {cls.__name__}; load it "
            f"with {type(model).__name__}.from_preset or "
            "kgen.presets.load_preset."
        )
    return model


# The most a preset's reference arrays may unpack to (the shipped ones
# hold at most a few MB).
MAX_REFERENCE_BYTES = 256 * 2**20


def _is_architecture(name_or_directory):
    # A trained preset or a directory of the same name wins.
    return (
        isinstance(name_or_directory, str)
        and name_or_directory in architectures.ARCHITECTURES
        and name_or_directory not in registry.shipped_presets()
        and not os.path.isdir(name_or_directory)
    )
