"""The shipped generative presets as TF Serving model base paths.

    python recipes/saved_models.py [NAME ...]   # default: every preset

Writes `saved_models/<preset>/1/` (a SavedModel with XLA-compiled
endpoints, exported by `kgen.export.export_saved_model` from the preset as
shipped) for every generative preset that exports endpoints (all but the
WaveNet), and `saved_models/models.config`, a
TF Serving `ModelServerConfig` in text format listing them all. TF
Serving reads the base paths where the folder is mounted, `/models`:

    docker run -p 8501:8501 -v "$PWD/saved_models:/models" \\
        tensorflow/serving --model_config_file=/models/models.config

Runs on the TensorFlow backend (the reference one for export). Each
version folder is written under a temporary name and renamed into place;
models.config last, so it lists only folders that exist.
"""

import argparse
import os
import pathlib
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import kgen  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLDER = ROOT / "saved_models"
VERSION = 1
# Where TF Serving sees FOLDER (the `-v` mount above).
MOUNT = "/models"


def generative_presets():
    return [
        name
        for name in kgen.presets.list_presets()
        if kgen.presets.preset_metadata(name)["model_class"] != "Functional"
    ]


def model_server_config(names):
    """`ModelServerConfig` text for `names`, each at `MOUNT/<name>`."""
    lines = ["model_config_list {"]
    for name in names:
        lines += [
            "  config {",
            f'    name: "{name}"',
            f'    base_path: "{MOUNT}/{name}"',
            '    model_platform: "tensorflow"',
            "  }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_config(names):
    path = FOLDER / "models.config"
    staging = path.with_suffix(".config.writing")
    staging.write_text(model_server_config(names))
    os.replace(staging, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="presets (default: all)")
    args = parser.parse_args(argv)
    every = generative_presets()
    unknown = sorted(set(args.names) - set(every))
    if unknown:
        parser.error(f"not shipped generative presets: {unknown}")
    for name in args.names or every:
        model = kgen.presets.load_preset(name)
        try:
            model.serving_endpoints()
        except NotImplementedError:
            # WaveNet: its windowed step-by-step sampler is not exported.
            print(f"skipped {name}: {type(model).__name__} exports nothing")
            continue
        path = kgen.export.export_saved_model(
            model, str(FOLDER / name), version=VERSION, overwrite=True
        )
        print(f"wrote {os.path.relpath(path, ROOT)}", flush=True)
    listed = [name for name in every if (FOLDER / name / str(VERSION)).is_dir()]
    write_config(listed)
    print(f"wrote saved_models/models.config: {len(listed)} models")


if __name__ == "__main__":
    sys.exit(main())
