"""DCGAN on the embedded 8x8 digits -> the `dcgan_digits` preset.

    python recipes/dcgan_digits.py
    python recipes/update_presets.py dcgan_digits  # JAX, torch references

Writes kgen/presets/files/dcgan_digits/ (config, weights, model card with
the domain FID and IS, sample grid, reference samples) and
runs/dcgan_digits/ (grids, SavedModel). Needs the digits_classifier preset
(`recipes/digits_classifier.py`).
"""

import keras
import model_card  # recipes/model_card.py, beside this script
import recipe_steps  # recipes/recipe_steps.py, beside this script

import kgen

# === Config ===
name = "dcgan_digits"
description = (
    "A DCGAN (non-saturating loss) on the 8x8 digits: sample(n) gives 8x8x1 "
    "images in [-1, 1]."
)
seed = 0
# The network, optimizers and schedule: the `dcgan` architecture preset
# (kgen/presets/architectures.py), the one place they are written down.
grid_every = 10
preset = model_card.preset_folder(name)
runs = f"runs/{name}"
epochs = None  # the architecture's
args = recipe_steps.recipe_parser(__doc__).parse_args()
if args.smoke:  # seconds end to end, written to /tmp
    preset, runs = model_card.SMOKE / name, model_card.SMOKE / "runs" / name
    epochs, grid_every = 2, 1

# === Data === (tanh generator: pixels in [-1, 1])
keras.utils.set_random_seed(seed)
(x_train, _), (x_test, _) = kgen.datasets.load("digits")
x_train = kgen.presets.architectures.prepare_data("dcgan", x_train)
x_test = kgen.presets.architectures.prepare_data("dcgan", x_test)

# === Model ===
model = kgen.presets.build_architecture("dcgan", x_train.shape[1:], seed=seed)

# === Training ===
run = recipe_steps.fit_with_sample_grids(
    model,
    x_train,
    x_test,
    "dcgan",
    runs=runs,
    every=grid_every,
    epochs=epochs,
    seed=seed,
    value_range=(-1, 1),
)

# === Evaluation ===
command = "python recipes/dcgan_digits.py"
metrics = {
    key: {"value": float(values[-1]), "command": command, "note": "last epoch"}
    for key, values in run.history.history.items()
}
metrics.update(model_card.digits_domain_metrics(model, name, (-1, 1)))

# === Preset ===
card = {
    "data": model_card.digits_data((-1, 1), held_out="validation"),
    "training": model_card.architecture_training(
        command, "dcgan", run, seed=seed
    ),
    "metrics": metrics,
    "headline_metrics": ["domain_fid", "domain_inception_score"],
}
model_card.write(model, preset, name, description, card, run.wall_time)
kgen.export.export_saved_model(model, f"{runs}/saved_model", overwrite=True)
