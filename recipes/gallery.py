"""Samples of every shipped generative preset -> docs/gallery/ (README).

    python recipes/gallery.py

Each file is what `kgen generate PRESET --seed 0` writes for the preset's
kind of sample: a grid of 64 images (class-conditional presets: `--labels
0 ... 9`, one class per column; an RBM's 784-vectors drawn as 28x28, as
its card says), a scatter plot of 5,000 points of a 2-D flow, 4 texts of a
character model, one clip per digit of an audio model. Prints the
README's gallery table.
"""

import pathlib

import kgen
import kgen.cli

# === Config ===
seed = 0
gallery = pathlib.Path(__file__).resolve().parents[1] / "docs" / "gallery"
# Samples and file extension per kind of sample (see `kgen generate`).
num_samples = {"image": 64, "points": 5000, "text": 4, "audio": 10}
extension = {"image": ".png", "points": ".png", "text": ".txt", "audio": ".wav"}


def main():
    gallery.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in kgen.presets.list_presets():
        model = kgen.presets.load_preset(name)
        if not isinstance(model, kgen.models.GenerativeModel):
            continue
        card = kgen.presets.preset_metadata(name)
        kind = kgen.cli.sample_kind(model, card, name)
        path = gallery / f"{name}{extension[kind]}"
        arguments = ["generate", name, "-n", str(num_samples[kind])]
        arguments += ["--seed", str(seed)]
        if model.is_class_conditional:
            arguments += ["--labels"]
            arguments += [str(c) for c in range(model.num_classes)]
        if kgen.cli.main(arguments + ["--out", str(path)]) != 0:
            raise SystemExit(f"{name}: kgen {' '.join(arguments)} failed")
        headline = ", ".join(
            f"{metric} {card['metrics'][metric]['value']:.4g}"
            for metric in card.get("headline_metrics", [])
        )
        link = f"docs/gallery/{path.name}"
        shown = (
            f"![{name}]({link})"
            if kind in ("image", "points")
            else (f"[{path.name}]({link})")
        )
        rows.append(
            f"| `{name}` ({card['model_class']}) | {headline} | {shown} |"
        )
        print(f"{name}: kgen {' '.join(arguments)} --out {path}")
    print("\n| preset | headline metrics | samples (seed 0) |\n|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
