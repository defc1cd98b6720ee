"""The shipped generative presets as TF Serving's model base paths: one
SavedModel per preset and the `models.config` that lists them, written
in one call (`kgen export --all FOLDER`) rather than committed."""

import os
import pathlib

from kgen.export import export_saved_model
from kgen.presets.loading import load_preset
from kgen.presets.loading import preset_metadata
from kgen.presets.registry import list_presets

VERSION = 1
# Where TF Serving sees the folder: the `-v FOLDER:/models` mount of its
# Docker image, whose documentation uses this path.
MOUNT = "/models"


def generative_presets():
    """The shipped presets that model data (not classifiers), by name."""
    return [
        name
        for name in list_presets()
        if preset_metadata(name)["model_class"] != "Functional"
    ]


def model_server_config(names, mount=MOUNT):
    """TF Serving's `ModelServerConfig` in text format, one config per
    name in `names` at the base path `mount/<name>`."""
    lines = ["model_config_list {"]
    for name in names:
        lines += [
            "  config {",
            f'    name: "{name}"',
            f'    base_path: "{mount}/{name}"',
            '    model_platform: "tensorflow"',
            "  }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def export_serving_tree(folder, names=None, *, mount=MOUNT, log=print):
    """Writes `folder/<preset>/1/`, a SavedModel with XLA-compiled
    endpoints of each preset as shipped, and `folder/models.config`
    listing every exported preset in `folder`.

    Serve it with TF Serving's Docker image:

    ```
    docker run -p 8501:8501 -v "$PWD/FOLDER:/models" \\
        tensorflow/serving --model_config_file=/models/models.config
    ```

    Each version folder is written under a temporary name and renamed
    into place (`kgen.export.export_saved_model`), and `models.config`
    last, so the config lists only complete SavedModels.

    Args:
        folder: the tree's root, created if missing.
        names: generative presets to export; `None` for all of them.
        mount: where TF Serving sees `folder`.
        log: called with a line per preset written or skipped.

    Returns:
        The names `models.config` lists: every generative preset with a
        complete SavedModel in `folder`, this call's and earlier ones'.
    """
    every = generative_presets()
    names = every if names is None else list(names)
    unknown = sorted(set(names) - set(every))
    if unknown:
        raise ValueError(
            f"`names` must be shipped generative presets ({every}); "
            f"received {unknown}."
        )
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        model = load_preset(name)
        try:
            endpoints = model.serving_endpoints()
        except NotImplementedError:
            # WaveNet: its windowed step-by-step sampler is not exported.
            log(f"skipped {name}: {type(model).__name__} exports nothing")
            continue
        path = export_saved_model(
            model,
            str(folder / name),
            version=VERSION,
            overwrite=True,
            endpoints=endpoints,
        )
        log(f"wrote {path}")
    listed = [
        name
        for name in every
        if (folder / name / str(VERSION) / "saved_model.pb").is_file()
    ]
    config = folder / "models.config"
    staging = config.with_suffix(".config.writing")
    staging.write_text(model_server_config(listed, mount))
    os.replace(staging, config)
    log(f"wrote {config}: {len(listed)} models")
    return listed
