"""Deprecated: the pretrained recipes are now presets (`kgen.presets`).

`load`, `available` and `save` remain as thin aliases of
`kgen.presets.load_preset`, `list_presets` and `save_to_preset`, and warn.
"""

import os
import warnings

from kgen import presets


def _deprecated(old, new):
    warnings.warn(
        f"kgen.recipes.{old} is deprecated; use kgen.presets.{new}.",
        DeprecationWarning,
        stacklevel=3,
    )


def available(directory=None):
    """Deprecated alias of `kgen.presets.list_presets`.

    Args:
        directory: str or `None`: list the preset folders in `directory`
            instead of the shipped presets.

    Returns:
        list of str, sorted.
    """
    _deprecated("available", "list_presets")
    if directory is None:
        return presets.list_presets()
    if not os.path.isdir(directory):
        return []
    return sorted(
        name
        for name in os.listdir(directory)
        if os.path.isfile(os.path.join(directory, name, "metadata.json"))
    )


def load(name, directory=None):
    """Deprecated alias of `kgen.presets.load_preset`.

    Args:
        name: str, a shipped preset name, or a folder in `directory`.
        directory: str or `None`, a folder of presets.

    Returns:
        the model.
    """
    _deprecated("load", "load_preset")
    if directory is not None:
        name = os.path.join(directory, name)
    return presets.load_preset(name)


def save(model, name, metrics=None, config=None, directory=None):
    """Deprecated alias of `kgen.presets.save_to_preset`.

    Args:
        model: `keras.Model`.
        name: str, the preset's name and folder.
        metrics: dict `{name: value}` or `None`.
        config: dict of training settings or `None` (stored as the
            metadata's `training`).
        directory: str, the folder to write `name/` into (required: the
            shipped presets are written by the recipe scripts).

    Returns:
        str, the preset directory.
    """
    _deprecated("save", "save_to_preset")
    if directory is None:
        raise ValueError(
            "`directory` is required: write presets with "
            "kgen.presets.save_to_preset(model, directory, metadata)."
        )
    metadata = {"name": name, "metrics": metrics or {}}
    if config:
        metadata["training"] = {"config": config}
    return presets.save_to_preset(
        model, os.path.join(directory, name), metadata, overwrite=True
    )
