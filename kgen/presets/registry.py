"""Where presets are found: the shipped ones and local directories.

A preset is a directory (see `kgen.presets.save_to_preset`). A core set
ships inside kgen, in `kgen/presets/files/<name>/`, package data that the
wheel carries, so those load offline from any installation. The rest ship
as preset packages built from this repository's `preset_packages/` (the
pattern of spaCy's model packages): each is a Python package whose
`kgen.presets` entry point names its folder of preset folders, so
`pip install preset_packages/audio` makes its presets load by name,
offline, with every file's sha256 checked as for the core set. (They are
not on PyPI: install them from the repository.)

Extension point: `shipped_presets()` is the one table of named presets,
discovered from `files/` and the entry points. Named presets of another
kind (untrained architectures with training defaults) join by adding
entries to that table; everything else goes through it.
"""

import functools
import hashlib
import importlib.metadata
import json
import os
import pathlib
import warnings

from kgen.utils.preset_error import PresetError
from kgen.utils.regular_file import open_regular_file

FILES = pathlib.Path(__file__).resolve().parent / "files"
METADATA = "metadata.json"
CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
TOKENIZER = "tokenizer.json"
# A LoRA adapter's config (`kgen.presets.lora_adapter`).
ADAPTER_CONFIG = "adapter_config.json"

# Bounds on what a preset folder, written by anyone, may make kgen read:
# each is checked before the bytes are read. The shipped presets' largest
# JSON file is under 1 MB and their largest file under 20 MB.
MAX_JSON_BYTES = 16 * 2**20
MAX_FILE_BYTES = 8 * 2**30
# Bounds on the card's values that size work or memory, checked as the
# command line checks its arguments: a card's default runs unasked, so
# its bounds are tighter than those of what a user asks for. DDPM's
# 1,000 steps are the most a sampler of the field takes; 2**14 tokens or
# audio steps are 2.7 times the longest shipped default (a WaveNet's
# 6,000, itself 150 s for `kgen generate -n 2` on one core under torch).
MAX_NUM_STEPS = 1_000
MAX_LENGTH = 2**14
MAX_REFERENCE_SAMPLES = 16
MAX_SAMPLE_RATE = 384_000

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


def check_card_digest(metadata, path):
    """`PresetError` unless the card `metadata` (read from `path`, a file
    or a URL) hashes to the `card_sha256` it records."""
    card = card_digest(metadata)
    if card != metadata["card_sha256"]:
        raise PresetError(
            f"{path}: the model card's sha256 is {card} but it records "
            f"{metadata['card_sha256']}; the card was changed. Restore it "
            "or save the preset again."
        )


def card_digest(metadata):
    """The sha256 of a model card: its canonical JSON (sorted keys, no
    spaces) without the `card_sha256` entry that stores it. With the
    `files` table it covers, every byte of a preset is checked."""
    card = {k: v for k, v in metadata.items() if k != "card_sha256"}
    text = json.dumps(card, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The entry-point group through which a preset package names its folder.
ENTRY_POINT_GROUP = "kgen.presets"
# The preset packages built from this repository's `preset_packages/`
# and the presets each holds, so that asking for one that is not
# installed says which package to install (a test holds this table to
# the folders).
PRESET_PACKAGES = {
    "kgen-presets-audio": (
        "spoken_digits_classifier",
        "wave_net_spoken_digits",
        "wavegan_spoken_digits",
    ),
    "kgen-presets-images": ("consistency_mnist", "hierarchical_vae_mnist"),
    "kgen-presets-sequences": (
        "gpt_moses",
        "gpt_peptides",
        "masked_diffusion_chorales",
        "sequence_vae_moses",
    ),
    "kgen-presets-text-to-image": (
        "flow_matching_emoji",
        "text_to_image_digits",
        "text_to_image_emoji",
    ),
    "kgen-presets-video": ("video_diffusion_moving_mnist",),
}


def preset_folders():
    """The folders of preset folders: kgen's own, then each installed
    preset package's, in the order of their entry points' names.

    A package whose entry point does not load a folder is left out with
    a warning naming it, so one broken package does not stop the others
    (or kgen's own presets) from loading.

    Returns:
        list of `(source, folder)`: `source` is `"kgen"` or the preset
        package's distribution name, `folder` a `pathlib.Path`.
    """
    folders = [("kgen", FILES)] if FILES.is_dir() else []
    entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    for entry_point in sorted(entry_points, key=lambda e: e.name):
        source = entry_point.dist.name if entry_point.dist else "?"
        try:
            folder = pathlib.Path(entry_point.load())
            problem = None if folder.is_dir() else f"names {folder}"
        except (ImportError, AttributeError, TypeError) as error:
            problem = f"does not load ({error})"
        if problem is not None:
            warnings.warn(
                f"The preset package {source}'s entry point "
                f"{entry_point.value!r} ({ENTRY_POINT_GROUP}) {problem}, "
                "which is not a folder of presets; its presets are left "
                "out. Reinstall the package.",
                stacklevel=2,
            )
            continue
        folders.append((source, folder))
    return folders


@functools.cache
def shipped_presets():
    """`{name: directory}` of the presets of kgen and of every installed
    preset package.

    A name found twice keeps its first folder (kgen's own before any
    package's), with a warning naming both.

    Returns:
        dict from preset name to the absolute path of its directory: every
        folder that holds a `metadata.json` in `preset_folders()`.
    """
    presets, sources = {}, {}
    for source, folder in preset_folders():
        for preset in sorted(folder.iterdir()):
            if not (preset / METADATA).is_file():
                continue
            if preset.name in presets:
                warnings.warn(
                    f"Preset {preset.name!r} is shipped by both "
                    f"{sources[preset.name]} and {source}; loading "
                    f"{sources[preset.name]}'s.",
                    stacklevel=2,
                )
                continue
            presets[preset.name], sources[preset.name] = str(preset), source
    return dict(sorted(presets.items()))


@functools.cache
def shipped_lora_adapters():
    """`{name: directory}` of the LoRA adapters shipped beside the
    presets (folders with an `adapter_config.json` and no
    `metadata.json`): `load_preset(name)` loads each on its base."""
    adapters = {}
    for _, folder in preset_folders():
        for adapter in sorted(folder.iterdir()):
            if (adapter / ADAPTER_CONFIG).is_file() and not (
                adapter / METADATA
            ).exists():
                adapters.setdefault(adapter.name, str(adapter))
    return adapters


def package_of(name):
    """The preset package that ships preset `name`, or None (kgen's own,
    or not one of this repository's)."""
    for package, names in PRESET_PACKAGES.items():
        if name in names:
            return package
    return None


def package_source(package):
    """Where preset package `package` lies in kgen's repository, relative
    to its root: `"preset_packages/text_to_image"` for
    `"kgen-presets-text-to-image"`."""
    key = package.removeprefix("kgen-presets-").replace("-", "_")
    return f"preset_packages/{key}"


def list_presets():
    """Names of the presets shipped with kgen and its installed preset
    packages, sorted.

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
            `list_presets()` or the path of a preset directory (URLs and
            hub handles: `kgen.presets.loading.preset_directory`).

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
    adapters = shipped_lora_adapters()
    if isinstance(name_or_directory, str) and path in adapters:
        return adapters[path]
    if os.path.isdir(path):
        return os.path.abspath(path)
    package = package_of(path)
    if package is not None:
        raise PresetError(
            f"Preset {path!r} ships in the preset package {package}, which "
            "is not installed: from kgen's repository, `pip install "
            f"{package_source(package)}`."
        )
    raise PresetError(
        f"No preset {path!r}: it is not one of the shipped presets "
        f"{list_presets()} and not a directory."
    )


def read_json(path):
    """The object in JSON file `path`; `PresetError` if missing, not a
    regular file of at most `MAX_JSON_BYTES`, not JSON, or nested too
    deep to read."""
    if not os.path.lexists(path):
        raise PresetError(f"{path}: missing.")
    try:
        with open_regular_file(path, MAX_JSON_BYTES, PresetError) as file:
            return json.loads(file.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PresetError(f"{path}: not valid JSON ({error}).") from None
    except RecursionError:
        raise PresetError(f"{path}: JSON nested too deep to read.") from None


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
        isinstance(k, str) and is_sha256(v) for k, v in files.items()
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
        if not is_plain_name(filename) or filename == METADATA:
            raise PresetError(
                f"{path}: 'files' may list only plain file names inside the "
                f"preset directory; received {filename!r}."
            )
    _check_card_types(metadata, path)
    _check_card_values(metadata, path)
    for field, filename in card_paths(metadata):
        if not isinstance(filename, str) or filename not in files:
            raise PresetError(
                f"{path}: '{field}' must name a file that 'files' lists "
                f"(and so hashes); received {filename!r}."
            )
    return metadata


# The JSON type of each card field that kgen reads (None: may be absent).
CARD_TYPES = {
    "name": (str,),
    "description": (str,),
    "model_class": (str,),
    "num_parameters": (int,),
    "trained": (bool,),
    "metrics": (dict,),
    "versions": (dict,),
    "training": (dict, type(None)),
    "data": (dict, type(None)),
    "reference": (dict, type(None)),
    "sample_arguments": (dict, type(None)),
    "headline_metrics": (list, type(None)),
}


def _check_card_types(metadata, path):
    for field, types in CARD_TYPES.items():
        value = metadata.get(field)
        wrong_bool = isinstance(value, bool) and bool not in types
        if wrong_bool or not isinstance(value, types):
            names = " or ".join(
                "null" if t is type(None) else _JSON_NAMES[t] for t in types
            )
            raise PresetError(
                f"{path}: '{field}' must be {names}; received "
                f"{type(value).__name__}."
            )


_JSON_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    dict: "an object",
    list: "a list",
}


def _check_card_values(metadata, path):
    """`PresetError` naming the field when a card value that sizes work
    or memory is not an int (a number for a rate) within its bound."""
    bounded = []
    for field in ("sample_arguments", "reference", "data"):
        value = metadata.get(field)
        if value is not None and not isinstance(value, dict):
            raise PresetError(
                f"{path}: '{field}' must be a JSON object; received "
                f"{type(value).__name__}."
            )
    reference = metadata.get("reference") or {}
    for prefix, arguments in (
        ("sample_arguments", metadata.get("sample_arguments") or {}),
        ("reference.arguments", reference.get("arguments") or {}),
    ):
        if not isinstance(arguments, dict):
            raise PresetError(f"{path}: '{prefix}' must be a JSON object.")
        bounded += [
            (f"{prefix}.num_steps", arguments.get("num_steps"), MAX_NUM_STEPS),
            (f"{prefix}.length", arguments.get("length"), MAX_LENGTH),
        ]
    bounded.append(
        (
            "reference.num_samples",
            reference.get("num_samples"),
            MAX_REFERENCE_SAMPLES,
        )
    )
    for field, value, maximum in bounded:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise PresetError(
                f"{path}: '{field}' must be an int; received {value!r}."
            )
        if not 1 <= value <= maximum:
            raise PresetError(
                f"{path}: '{field}' must lie in [1, {maximum:,}]; received "
                f"{value:,}."
            )
    rate = (metadata.get("data") or {}).get("sample_rate")
    if rate is not None and (
        isinstance(rate, bool)
        or not isinstance(rate, (int, float))
        or not 0 < rate <= MAX_SAMPLE_RATE
    ):
        raise PresetError(
            f"{path}: 'data.sample_rate' must be a number in (0, "
            f"{MAX_SAMPLE_RATE:,}] Hz; received {rate!r}."
        )


def is_plain_name(filename):
    """Whether `filename` names a file directly inside a folder: no
    separator, no `.` or `..`, no control character."""
    return (
        isinstance(filename, str)
        and filename == os.path.basename(filename)
        and "/" not in filename
        and "\\" not in filename
        and filename not in ("", ".", "..")
        and all(character.isprintable() for character in filename)
    )


def card_paths(metadata):
    """`(field, filename)` for every file the card's `reference` names."""
    reference = metadata.get("reference")
    if not reference:
        return []
    if not isinstance(reference, dict):
        raise PresetError(
            f"{METADATA}: 'reference' must be a JSON object; received "
            f"{type(reference).__name__}."
        )
    paths = []
    outputs = reference.get("outputs", {})
    if not isinstance(outputs, dict):
        outputs = {"": outputs}
    for backend, filename in outputs.items():
        paths.append((f"reference.outputs.{backend}".rstrip("."), filename))
    if "inputs" in reference:
        paths.append(("reference.inputs", reference["inputs"]))
    noise = reference.get("noise")
    if noise is not None:
        if not isinstance(noise, dict):
            noise = {"inputs": noise}
        for key in ("inputs", "outputs"):
            paths.append((f"reference.noise.{key}", noise.get(key)))
    return paths


def is_sha256(value):
    return (
        isinstance(value, str)
        and len(value) == 64
        and all(c in "0123456789abcdef" for c in value)
    )
