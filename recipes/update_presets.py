"""Rewrites the presets shipped in kgen/presets/files/ and their references.

    python recipes/update_presets.py              # every shipped preset
    python recipes/update_presets.py vae_digits   # only some

Each preset is loaded from its own files (sha256 verified) and saved again
with `kgen.presets.save_to_preset` on TensorFlow: config, weights, model
card, `samples.png` and `reference_samples.npy` (`model.sample(4, seed=0)`);
then one subprocess per other backend (JAX, torch) adds that backend's
`reference_samples_<backend>.npy`. Weights and model cards are kept, so
this is the one command to run after any change to how `sample` turns a
seed into noise; commit the rewritten files.

    python recipes/update_presets.py --from-saved-models saved_models

converts the pre-preset artefacts (`saved_models/<name>/model.keras` and
`manifest.json`, as `kgen.recipes.save` wrote them) into presets, with the
model cards below.

The recipe scripts (`recipes/dcgan_digits.py`, ...) train the models and
write these presets in the first place.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

# === Config ===
main_backend = "tensorflow"  # writes reference_samples.npy and samples.png
other_backends = ("jax", "torch")  # each adds reference_samples_<b>.npy
presets_directory = (
    pathlib.Path(__file__).resolve().parents[1] / "kgen" / "presets" / "files"
)

# Model cards of the artefacts in saved_models/ (their manifests hold only
# the metrics and the recipe's config block).
digits_data = {
    "dataset": "digits",
    "source": "scikit-learn load_digits (UCI optical recognition, 8x8)",
    "train": "train split: the first 1,500 images",
    "validation": "test split: the last 297 images",
    "shape": [8, 8, 1],
}
not_recorded = (
    "hardware and wall time were not recorded when this model was trained "
    "(CPU, TensorFlow backend)"
)
domain_metrics_command = (
    "kgen evaluate {name} --metric fid --metric is --features "
    "digits_classifier -n 1000"
)
domain_metrics_note = (
    "on the digits_classifier preset's features and predictions: a domain "
    "metric for 8x8 digits, not comparable with FID-Inception; 1,000 "
    "samples (seed 0) against the first 1,000 digits train images"
)
legacy_cards = {
    "digits_classifier": {
        "description": (
            "A small convolutional classifier of the 8x8 digits (softmax "
            "over 10 classes, a 128-wide 'features' layer): the feature "
            "extractor of a domain FID and the classifier of a domain "
            "Inception Score (`kgen evaluate --features digits_classifier`)."
        ),
        "data": dict(digits_data, value_range=[0, 1], labels="digit 0-9"),
        "training": {
            "command": "python recipes/digits_classifier.py",
            "epochs": 60,
            "steps": 60 * 24,
            "optimizer": "Adam(1e-3), sparse categorical cross-entropy",
        },
        "metric_notes": {
            "test_accuracy": "model.evaluate on the 297 test images",
            "test_loss": "model.evaluate on the 297 test images",
        },
        "headline_metrics": ["test_accuracy"],
    },
    "dcgan_digits": {
        "description": (
            "A DCGAN (non-saturating loss) on the 8x8 digits: "
            "sample(n) gives 8x8x1 images in [-1, 1]."
        ),
        "data": dict(digits_data, value_range=[-1, 1]),
        "training": {
            "command": "python recipes/dcgan_digits.py",
            "epochs": 100,
            "steps": 100 * 24,
            "optimizer": "Adam(2e-4, beta_1=0.5) for each network",
        },
        "metric_notes": {
            "d_loss": "last epoch's mean over the train split",
            "g_loss": "last epoch's mean over the train split",
            "val_d_loss": "last epoch, test split",
            "val_g_loss": "last epoch, test split",
        },
        "headline_metrics": ["domain_fid", "domain_inception_score"],
    },
    "vae_digits": {
        "description": (
            "A convolutional VAE (8-dimensional latent, Bernoulli "
            "likelihood) on the 8x8 digits: sample(n) gives 8x8x1 images "
            "in [0, 1]; elbo, encode and decode as kgen.models.VAE."
        ),
        "data": dict(digits_data, value_range=[0, 1]),
        "training": {
            "command": "python recipes/vae_digits.py",
            "epochs": 50,
            "steps": 50 * 24,
            "optimizer": "Adam(1e-3)",
        },
        "metric_notes": {
            "test_negative_elbo_nats": (
                "-ELBO on the 297 test images, mean over seeds 0-9"
            ),
            "val_loss": "last epoch, test split",
        },
        "headline_metrics": ["test_negative_elbo_nats", "domain_fid"],
    },
}
# Measured on the converted presets with `domain_metrics_command`.
domain_metrics = {
    "dcgan_digits": {"domain_fid": 6.1092, "domain_inception_score": 8.1840},
    "vae_digits": {"domain_fid": 16.6847, "domain_inception_score": 7.9007},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="default: every preset")
    parser.add_argument("--from-saved-models", metavar="DIR")
    parser.add_argument(
        "--add-reference", metavar="DIR", help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.add_reference:  # a subprocess, under KERAS_BACKEND
        import kgen

        added = kgen.presets.add_backend_reference(args.add_reference)
        print(f"  {added or 'none needed: outputs do not depend on seeds'}")
        return
    os.environ["KERAS_BACKEND"] = main_backend
    import kgen

    names = args.names or sorted(
        path.name for path in presets_directory.iterdir() if path.is_dir()
    )
    if args.from_saved_models:
        names = args.names or sorted(legacy_cards)
    for name in names:
        start = time.time()
        directory = presets_directory / name
        if args.from_saved_models:
            model, card = convert(args.from_saved_models, name)
        else:
            model = kgen.presets.load_preset(directory)
            card = {
                key: value
                for key, value in kgen.presets.preset_metadata(
                    directory
                ).items()
                if key not in kgen.presets.saving.COMPUTED_KEYS
            }
        kgen.presets.save_to_preset(model, directory, card, overwrite=True)
        print(f"{name}: {main_backend} -> {directory}")
        for backend in other_backends:
            subprocess.run(
                [sys.executable, __file__, "--add-reference", str(directory)],
                env=dict(os.environ, KERAS_BACKEND=backend),
                check=True,
            )
            print(f"{name}: {backend} reference added")
        print(f"{name}: {time.time() - start:.1f} s")


def convert(saved_models, name):
    """The model of `saved_models/<name>/` and its model card."""
    import keras

    import kgen

    folder = os.path.join(saved_models, name)
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    for filename, expected in manifest["files"].items():
        actual = kgen.presets.loading.sha256(os.path.join(folder, filename))
        if actual != expected:
            raise ValueError(f"{folder}/{filename}: sha256 {actual} differs.")
    model = keras.saving.load_model(os.path.join(folder, "model.keras"))
    legacy = legacy_cards[name]
    command = legacy["training"]["command"]
    metrics = {
        metric: {
            "value": value,
            "command": command,
            "note": legacy["metric_notes"][metric],
        }
        for metric, value in manifest["metrics"].items()
    }
    for metric, value in domain_metrics.get(name, {}).items():
        metrics[metric] = {
            "value": value,
            "command": domain_metrics_command.format(name=name),
            "note": domain_metrics_note,
        }
    card = {
        "name": name,
        "description": legacy["description"],
        "trained": True,
        "data": legacy["data"],
        "training": dict(
            legacy["training"],
            batch_size=manifest["config"]["batch_size"],
            config=manifest["config"],
            hardware=None,
            wall_time_s=None,
            note=not_recorded,
            versions=manifest["versions"],
        ),
        "metrics": metrics,
        "headline_metrics": [
            metric for metric in legacy["headline_metrics"] if metric in metrics
        ],
    }
    return model, card


if __name__ == "__main__":
    main()
