"""A digits classifier for domain metrics -> the `digits_classifier` preset.

Gives a domain Inception Score and, through its "features" layer, a fast
domain FID for 8x8 digits (`kgen evaluate --features digits_classifier`).

    python recipes/digits_classifier.py
    python recipes/update_presets.py digits_classifier
"""

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
run = recipe_steps.timed_fit(
    model, x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=2
)

# === Evaluation, preset ===
command = "python recipes/digits_classifier.py"
note = "model.evaluate on the 297 test images"
metrics = model_card.classifier_metrics(model, x_test, y_test, command, note)
card = {
    "data": model_card.digits_data((0, 1), labels=True),
    "training": model_card.training_section(
        command,
        run,
        optimizers={
            "optimizer": "Adam",
            "learning_rate": learning_rate,
            "loss": "sparse categorical cross-entropy",
        },
        config=dict(filters=filters, features_dim=features_dim, seed=seed),
    ),
    "metrics": metrics,
    "headline_metrics": ["test_accuracy"],
}
print(f"{name}: test accuracy {metrics['test_accuracy']['value']:.4f}")
model_card.write(model, preset, name, description, card, run.wall_time)
