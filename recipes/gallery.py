"""A sample grid of every shipped image preset -> docs/gallery/ (README).

    python recipes/gallery.py

Each grid is `model.sample(64, seed=0)` of a preset shipped in
kgen/presets/files/, drawn as `kgen generate` draws it (class-conditional
presets: `--labels 0 ... 9`, one class per column); models of flat vectors
that are square images (an RBM's 784 visible units) are shown as 28x28.
Prints the README's gallery table.
"""

import math
import pathlib

import keras
import numpy as np

import kgen

# === Config ===
num_samples = 64
seed = 0
gallery = pathlib.Path(__file__).resolve().parents[1] / "docs" / "gallery"


def image_shape(model):
    """The shape the grid draws one sample in, or `None` (not images)."""
    shape = tuple(model.data_shape)
    if len(shape) == 3 and shape[-1] in (1, 3):
        return shape
    side = math.isqrt(shape[0]) if len(shape) == 1 else 0
    if side > 1 and side * side == shape[0]:
        return (side, side, 1)
    return None


def main():
    gallery.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in kgen.presets.list_presets():
        model = kgen.presets.load_preset(name)
        if not isinstance(model, kgen.models.GenerativeModel):
            continue
        shape = image_shape(model)
        if shape is None:
            continue
        options = {}
        command = f"kgen generate {name} -n {num_samples} --seed {seed}"
        if model.is_class_conditional:
            classes = np.arange(model.num_classes)
            options["labels"] = np.resize(classes, num_samples)
            command += " --labels " + " ".join(str(c) for c in classes)
        samples = model.sample(num_samples, seed=seed, **options)
        samples = np.reshape(keras.ops.convert_to_numpy(samples), (-1,) + shape)
        path = gallery / f"{name}.png"
        kgen.utils.save_image_grid(
            samples, str(path), value_range=model.data_range or (0.0, 1.0)
        )
        card = kgen.presets.preset_metadata(name)
        headline = ", ".join(
            f"{metric} {card['metrics'][metric]['value']:.4g}"
            for metric in card.get("headline_metrics", [])
        )
        rows.append(
            f"| `{name}` ({card['model_class']}) | {headline} | "
            f"![{name}](docs/gallery/{name}.png) |"
        )
        print(f"{name}: {command} -> {path}")
    print("\n| preset | headline metrics | samples (seed 0) |\n|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
