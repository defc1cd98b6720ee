"""VAE on the embedded 8x8 digits -> the `vae_digits` preset.

    python recipes/vae_digits.py
    python recipes/update_presets.py vae_digits  # JAX, torch references

Writes kgen/presets/files/vae_digits/ (config, weights, model card with the
test ELBO and the domain FID and IS, sample grid, reference samples) and
runs/vae_digits/ (grids, SavedModel). Needs the digits_classifier preset
(`recipes/digits_classifier.py`).
"""

import keras
import model_card  # recipes/model_card.py, beside this script
import numpy as np
import recipe_steps  # recipes/recipe_steps.py, beside this script

import kgen

# === Config ===
name = "vae_digits"
description = (
    "A convolutional VAE (8-dimensional latent, Bernoulli likelihood) on the "
    "8x8 digits: sample(n) gives 8x8x1 images in [0, 1]; elbo, encode and "
    "decode as kgen.models.VAE."
)
seed = 0
# The networks, optimizer and schedule: the `vae` architecture preset
# (kgen/presets/architectures.py), the one place they are written down.
grid_every = 10  # epochs between sample grids
preset = model_card.preset_folder(name)
runs = f"runs/{name}"
epochs = None  # the architecture's
args = recipe_steps.recipe_parser(__doc__).parse_args()
if args.smoke:  # seconds end to end, written to /tmp
    preset, runs = model_card.SMOKE / name, model_card.SMOKE / "runs" / name
    epochs, grid_every = 2, 1

# === Data ===
keras.utils.set_random_seed(seed)
(x_train, _), (x_test, _) = kgen.datasets.load("digits")
image_shape = x_train.shape[1:]

# === Model ===
model = kgen.presets.build_architecture("vae", image_shape, seed=seed)

# === Training ===
run = recipe_steps.fit_with_sample_grids(
    model,
    x_train,
    x_test,
    "vae",
    runs=runs,
    every=grid_every,
    epochs=epochs,
    seed=seed,
)

# === Evaluation ===
command = "python recipes/vae_digits.py"
test_negative_elbo = np.mean(
    [keras.ops.convert_to_numpy(-model.elbo(x_test, seed=s)) for s in range(10)]
)
metrics = {
    "test_negative_elbo_nats": {
        "value": float(test_negative_elbo),
        "command": command,
        "note": "-ELBO on the 297 test images, mean over seeds 0-9",
    },
    "val_loss": {
        "value": float(run.history.history["val_loss"][-1]),
        "command": command,
        "note": "last epoch, test split",
    },
}
metrics.update(model_card.digits_domain_metrics(model, name, (0, 1)))

# === Preset ===
card = {
    "data": model_card.digits_data((0, 1), held_out="validation"),
    "training": model_card.architecture_training(
        command, "vae", run, seed=seed
    ),
    "metrics": metrics,
    "headline_metrics": ["test_negative_elbo_nats", "domain_fid"],
}
model_card.write(model, preset, name, description, card, run.wall_time)
kgen.export.export_saved_model(model, f"{runs}/saved_model", overwrite=True)
