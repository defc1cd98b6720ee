"""Pretrained recipe artefacts: `saved_models/<name>/`, checksum-verified.

A recipe folder holds `model.keras` (weights without optimizer state),
`samples.png` and `manifest.json`:

```
{"name": ..., "model_class": ..., "files": {"model.keras": "<sha256>"},
 "metrics": {...}, "config": {...}, "versions": {...}}
```
"""

import hashlib
import json
import os
import pathlib

import keras

from kgen.version import __version__

MANIFEST = "manifest.json"


def default_directory():
    """`$KGEN_SAVED_MODELS`, else `saved_models/` beside the kgen package."""
    if os.environ.get("KGEN_SAVED_MODELS"):
        return os.environ["KGEN_SAVED_MODELS"]
    return str(pathlib.Path(__file__).resolve().parents[2] / "saved_models")


def available(directory=None):
    """Names of the recipes with a manifest in `directory`."""
    directory = directory or default_directory()
    if not os.path.isdir(directory):
        return []
    return sorted(
        name
        for name in os.listdir(directory)
        if os.path.isfile(os.path.join(directory, name, MANIFEST))
    )


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save(model, name, metrics=None, config=None, directory=None):
    """Writes a trained model as recipe `name`; returns the folder.

    The optimizer state is dropped (a fresh, uncompiled copy of the model
    with the trained weights is saved) to keep shipped artefacts small.
    """
    folder = os.path.join(directory or default_directory(), name)
    os.makedirs(folder, exist_ok=True)
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    model_path = os.path.join(folder, "model.keras")
    copy.save(model_path)
    manifest = {
        "name": name,
        "model_class": type(model).__name__,
        "files": {"model.keras": sha256(model_path)},
        "metrics": metrics or {},
        "config": config or {},
        "versions": {
            "kgen": __version__,
            "keras": keras.__version__,
            "backend": keras.backend.backend(),
        },
    }
    with open(os.path.join(folder, MANIFEST), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    return folder


def load(name, directory=None):
    """Loads pretrained recipe `name`, offline.

    Raises:
        FileNotFoundError: no such recipe (the message lists those found).
        ValueError: a file's sha256 differs from the manifest's.

    Example:

    ```python
    vae = kgen.recipes.load("vae_digits")
    images = vae.sample(16, seed=0)
    ```
    """
    directory = directory or default_directory()
    folder = os.path.join(directory, name)
    manifest_path = os.path.join(folder, MANIFEST)
    if not os.path.isfile(manifest_path):
        raise FileNotFoundError(
            f"No recipe {name!r} in {directory}; available: "
            f"{available(directory)}."
        )
    with open(manifest_path) as f:
        manifest = json.load(f)
    for filename, expected in manifest["files"].items():
        actual = sha256(os.path.join(folder, filename))
        if actual != expected:
            raise ValueError(
                f"{os.path.join(folder, filename)} has sha256 {actual}, but "
                f"the manifest says {expected}: the file is corrupt or was "
                "changed; re-run the recipe to rebuild it."
            )
    import kgen.models  # noqa: F401  (registers kgen's classes)

    return keras.saving.load_model(os.path.join(folder, "model.keras"))
