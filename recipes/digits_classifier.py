"""A digits classifier for domain metrics -> saved_models/digits_classifier/.

Gives a domain Inception Score and, through its "features" layer, a fast
domain FID for 8x8 digits (`kgen evaluate --features digits_classifier`).

    python recipes/digits_classifier.py
"""

import keras

import kgen

# === Config ===
name = "digits_classifier"
seed = 0
filters = 32
features_dim = 128
learning_rate = 1e-3
batch_size = 64
epochs = 60

# === Data === (images in [0, 1])
keras.utils.set_random_seed(seed)
(x_train, y_train), (x_test, y_test) = kgen.datasets.load("digits")

# === Model ===
model = kgen.networks.image_classifier(
    x_train.shape[1:], 10, filters=filters, features_dim=features_dim
)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)

# === Training ===
model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=2)

# === Evaluation, artefacts ===
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
metrics = {"test_accuracy": float(test_accuracy), "test_loss": float(test_loss)}
folder = kgen.recipes.save(
    model,
    name,
    metrics=metrics,
    config=dict(
        filters=filters,
        features_dim=features_dim,
        learning_rate=learning_rate,
        batch_size=batch_size,
        epochs=epochs,
        seed=seed,
    ),
)
print(f"{name}: {metrics} -> {folder}")
