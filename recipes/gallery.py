"""Samples of every shipped generative preset -> docs/gallery/.

    python recipes/gallery.py

Each file is what `kgen generate PRESET --seed 0` writes for the preset's
kind of sample: a grid of 64 images (class-conditional presets: `--labels
0 ... 9`, one class per column; an RBM's 784-vectors drawn as 28x28, as
its card says), a scatter plot of 5,000 points of a 2-D flow, 4 texts of a
character model, 12 molecules of a SMILES model drawn by RDKit (with the
SMILES file beside; a class per column), 16 sequences of a peptide model
(one per line, the labels in turn), one clip per digit of an audio model,
4 pieces of a music model in one MIDI file, 8 clips of a video model;
a text-to-image preset draws one of `PROMPTS` per column (eight images
each, with its card's sampling arguments). Prints the gallery table of
docs/presets.md.

    python recipes/gallery.py [NAME ...]   # default: every preset
"""

import os
import pathlib
import subprocess
import sys

import keras

import kgen

# === Config ===
seed = 0
root = pathlib.Path(__file__).resolve().parents[1]
gallery = root / "docs" / "gallery"
# Samples and file extension per kind of sample (see `kgen generate`).
num_samples = {
    "image": 64,
    "points": 5000,
    "text": 4,
    "molecules": 12,
    "peptides": 16,
    "audio": 10,
    "music": 4,
    "video": 8,
    "molecules_3d": 12,
}
extension = {
    "image": ".png",
    "points": ".png",
    "text": ".txt",
    "molecules": ".png",
    "peptides": ".txt",
    "audio": ".wav",
    "music": ".mid",
    "video": ".gif",
    "molecules_3d": ".png",
}
# A text-to-image preset's columns: its card's `example_prompts`, else
# (the digits) plain, combined and held-out
# (`kgen.datasets.captioned.HELD_OUT`: a thin four, a thick seven)
# descriptions.
PROMPTS = [
    "a thick zero",
    "a thin, slanted one",
    "2, backslanted",
    "a bold three",
    "a thin four",
    "a thick seven",
    "an italic eight",
    "a fine, left-leaning nine",
]


def draw_prompts(model, card, path):
    """A column of eight images per prompt."""
    columns = card.get("example_prompts", PROMPTS)
    prompts = [prompt for _ in range(8) for prompt in columns]
    options = dict(card.get("sample_arguments", {}))
    images = model.sample(len(prompts), seed=seed, prompts=prompts, **options)
    kgen.utils.save_image_grid(
        keras.ops.convert_to_numpy(images),
        str(path),
        value_range=kgen.presets.value_range_of(model, card),
        num_columns=len(columns),
    )
    return columns


def draw_molecules(arguments, path, num_columns):
    """`kgen ARGUMENTS --out PATH.smi`, drawn by RDKit into `path`, each
    molecule over its QED."""
    from rdkit import Chem
    from rdkit.Chem import Draw

    smiles_path = path.with_suffix(".smi")
    if not generate(arguments + ["--out", str(smiles_path)]):
        return False
    smiles = smiles_path.read_text().splitlines()
    qed = kgen.metrics.molecules.properties(smiles, "qed")
    image = Draw.MolsToGridImage(
        [Chem.MolFromSmiles(text) or Chem.Mol() for text in smiles],
        molsPerRow=num_columns,
        subImgSize=(220, 180),
        legends=[f"QED {value:.2f}" for value in qed],
    )
    image.save(path)
    return True


def generate(arguments):
    """Runs `kgen ARGUMENTS` (the command line, as a user runs it) from
    this checkout; whether it succeeded."""
    environment = dict(os.environ, PYTHONPATH=str(root))
    command = [sys.executable, "-m", "kgen"] + arguments
    return subprocess.run(command, env=environment).returncode == 0


def main():
    gallery.mkdir(parents=True, exist_ok=True)
    rows = []
    names = sys.argv[1:] or kgen.presets.list_presets()
    for name in names:
        model = kgen.presets.load_preset(name)
        if not isinstance(model, kgen.models.GenerativeModel):
            continue
        card = kgen.presets.preset_metadata(name)
        kind = kgen.presets.sample_kind(
            model, card, has_tokenizer=kgen.presets.has_tokenizer(name)
        )
        path = gallery / f"{name}{extension[kind]}"
        arguments = ["generate", name, "-n", str(num_samples[kind])]
        arguments += ["--seed", str(seed)]
        if model.samples_by_class:
            arguments += ["--labels"]
            arguments += [str(c) for c in range(model.num_classes)]
        if isinstance(model, kgen.models.TextToImage):
            columns = draw_prompts(model, card, path)
            arguments = ["generate", name, "# columns: " + " | ".join(columns)]
        elif kind == "molecules":
            columns = model.num_classes if model.samples_by_class else 4
            if not draw_molecules(arguments, path, columns):
                raise SystemExit(f"{name}: kgen {' '.join(arguments)} failed")
        elif not generate(arguments + ["--out", str(path)]):
            raise SystemExit(f"{name}: kgen {' '.join(arguments)} failed")
        headline = ", ".join(
            f"{metric} {card['metrics'][metric]['value']:.4g}"
            for metric in card.get("headline_metrics", [])
        )
        link = f"gallery/{path.name}"  # from docs/presets.md
        shown = (
            f"![{name}]({link})"
            if kind in ("image", "points", "molecules", "molecules_3d")
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
