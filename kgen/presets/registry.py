"""Where presets are found: the shipped ones and local directories.

A preset is a directory (see `kgen.presets.save_to_preset`). The presets
that ship with kgen live in `kgen/presets/files/<name>/`, package data that
a wheel carries, so they load offline from any installation.

Extension point: `shipped_presets()` is the one table of named presets,
discovered from `files/`. Named presets of another kind (untrained
architectures with training defaults, presets downloaded to a cache) join
by adding entries to that table; everything else goes through it.
"""

import functools
import hashlib
import json
import os
import pathlib

from kgen.utils.preset_error import PresetError

FILES = pathlib.Path(__file__).resolve().parent / "files"
METADATA = "metadata.json"
CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
TOKENIZER = "tokenizer.json"

# Keys every metadata.json has; `save_to_preset` writes them all.
REQUIRED_KEYS = (
    "name",
    "description",
    "model_class",
    "num_parameters",
    "trained",
    "metrics",
    "versions",
    "files",
    "card_sha256",
)


def card_digest(metadata):
    """The sha256 of a model card: its canonical JSON (sorted keys, no
    spaces) without the `card_sha256` entry that stores it. With the
    `files` table it covers, every byte of a preset is checked."""
    card = {k: v for k, v in metadata.items() if k != "card_sha256"}
    text = json.dumps(card, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def shipped_presets():
    """`{name: directory}` of the presets inside the installed package.

    Returns:
        dict from preset name to the absolute path of its directory: every
        folder of `kgen/presets/files/` that holds a `metadata.json`.
    """
    if not FILES.is_dir():
        return {}
    return {
        folder.name: str(folder)
        for folder in sorted(FILES.iterdir())
        if (folder / METADATA).is_file()
    }


def list_presets():
    """Names of the presets shipped with kgen, sorted.

    Returns:
        list of str.

    Example:

    ```python
    kgen.presets.list_presets()
    # ['dcgan_digits', 'digits_classifier', 'vae_digits']
    ```
    """
    return sorted(shipped_presets())


def resolve(name_or_directory):
    """The directory of a preset given by name or by path.

    A shipped preset's name wins over a folder of the same name in the
    working directory; write `./name` for the folder.

    Args:
        name_or_directory: str or `os.PathLike`: a name from
            `list_presets()` or the path of a preset directory.

    Returns:
        str, the absolute path of the preset directory.

    Raises:
        PresetError: neither a shipped preset nor a directory.
    """
    if not isinstance(name_or_directory, (str, os.PathLike)):
        raise PresetError(
            "`name_or_directory` must be a preset name (one of "
            f"{list_presets()}) or a directory path; received "
            f"{name_or_directory!r}."
        )
    path = os.fspath(name_or_directory)
    presets = shipped_presets()
    if isinstance(name_or_directory, str) and path in presets:
        return presets[path]
    if os.path.isdir(path):
        return os.path.abspath(path)
    raise PresetError(
        f"No preset {path!r}: it is not one of the shipped presets "
        f"{list_presets()} and not a directory."
    )


def read_json(path):
    """The object in JSON file `path`; `PresetError` if missing or not
    JSON."""
    if not os.path.isfile(path):
        raise PresetError(f"{path}: missing.")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PresetError(f"{path}: not valid JSON ({error}).") from None


def read_metadata(directory):
    """Reads and checks `directory/metadata.json` (files not hashed).

    Args:
        directory: str, a preset directory.

    Returns:
        dict, the metadata.

    Raises:
        PresetError: the file is missing, not JSON, not an object, lacks a
            required key, or its `files` table is malformed.
    """
    path = os.path.join(directory, METADATA)
    metadata = read_json(path)
    if not isinstance(metadata, dict):
        raise PresetError(
            f"{path}: must hold a JSON object; received "
            f"{type(metadata).__name__}."
        )
    missing = [key for key in REQUIRED_KEYS if key not in metadata]
    if missing:
        raise PresetError(f"{path}: missing key(s) {missing}.")
    files = metadata["files"]
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and _is_sha256(v) for k, v in files.items()
    ):
        raise PresetError(
            f"{path}: 'files' must map file names to sha256 hex digests; "
            f"received {files!r}."
        )
    for required in (CONFIG, WEIGHTS):
        if required not in files:
            raise PresetError(
                f"{path}: 'files' does not list {required}, which every "
                "preset holds."
            )
    for filename in files:
        if filename != os.path.basename(filename) or filename in (
            "",
            ".",
            "..",
            METADATA,
        ):
            raise PresetError(
                f"{path}: 'files' may list only plain file names inside the "
                f"preset directory; received {filename!r}."
            )
    return metadata


def _is_sha256(value):
    return (
        isinstance(value, str)
        and len(value) == 64
        and all(c in "0123456789abcdef" for c in value)
    )
