"""A digits classifier for domain metrics -> the `digits_classifier` preset.

Gives a domain Inception Score and, through its "features" layer, a fast
domain FID for 8x8 digits (`kgen evaluate --features digits_classifier`).

    python recipes/digits_classifier.py
    python recipes/update_presets.py digits_classifier
"""

import math
import os

import keras
import model_card  # recipes/model_card.py, beside this script
import recipe_steps  # recipes/recipe_steps.py, beside this script

import kgen

# === Config ===
name = "digits_classifier"
description = (
    "A small convolutional classifier of the 8x8 digits (softmax over 10 "
    "classes, a 128-wide 'features' layer): the feature extractor of a "
    "domain FID and the classifier of a domain Inception Score "
    "(`kgen evaluate --features digits_classifier`)."
)
seed = 0
filters = 32
features_dim = 128
learning_rate = 1e-3
batch_size = 64
epochs = 60
preset = model_card.preset_folder(name)
args = recipe_steps.recipe_parser(__doc__).parse_args()
if args.smoke:  # seconds end to end, written to /tmp
    epochs, preset = 2, model_card.SMOKE / name

# === Data === (images in [0, 1])
keras.utils.set_random_seed(seed)
(x_train, y_train), (x_test, y_test) = kgen.datasets.load("digits")

# === Model ===
model = kgen.networks.image_classifier(
    x_train.shape[1:], 10, filters=filters, features_dim=features_dim
)
recipe_steps.compile_classifier(model, keras.optimizers.Adam(learning_rate))

# === Training ===
history, wall_time = recipe_steps.timed_fit(
    model, x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=2
)

# === Evaluation, preset ===
command = "python recipes/digits_classifier.py"
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
note = "model.evaluate on the 297 test images"
kgen.presets.save_to_preset(
    model,
    preset,
    {
        "name": name,
        "description": description,
        "data": model_card.digits_data((0, 1), labels=True),
        "training": {
            "command": command,
            "epochs": epochs,
            "steps": len(history.epoch) * math.ceil(len(x_train) / batch_size),
            "batch_size": batch_size,
            "optimizer": f"Adam({learning_rate}), sparse cross-entropy",
            "config": dict(
                filters=filters, features_dim=features_dim, seed=seed
            ),
            "hardware": f"{os.cpu_count()} CPU cores",
            "backend": keras.backend.backend(),
            "wall_time_s": round(wall_time, 1),
        },
        "metrics": {
            "test_accuracy": {
                "value": float(test_accuracy),
                "command": command,
                "note": note,
            },
            "test_loss": {"value": float(test_loss), "command": command},
        },
        "headline_metrics": ["test_accuracy"],
    },
    overwrite=True,
)
print(f"{name}: accuracy {test_accuracy:.4f}, {wall_time:.0f} s -> {preset}")
