"""DCGAN on the embedded 8x8 digits -> saved_models/dcgan_digits/.

python recipes/dcgan_digits.py
"""

import keras

import kgen

# === Config ===
name = "dcgan_digits"
seed = 0
latent_dim = 32
filters = 32  # channels of the generator's last stage (DCGAN width)
d_steps = 1
learning_rate = 2e-4
beta_1 = 0.5  # Adam momentum, as in the DCGAN paper
batch_size = 64
epochs = 100
grid_every = 10

# === Data === (tanh generator: pixels in [-1, 1])
keras.utils.set_random_seed(seed)
(x_train, _), (x_test, _) = kgen.datasets.load("digits", value_range=(-1, 1))

# === Model ===
model = kgen.models.DCGAN(
    image_shape=x_train.shape[1:],
    latent_dim=latent_dim,
    filters=filters,
    d_steps=d_steps,
    seed=seed,
)
model.compile(
    g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
    d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
)

# === Training ===
folder = kgen.recipes.registry.default_directory() + "/" + name
history = model.fit(
    x_train,
    validation_data=x_test,
    batch_size=batch_size,
    epochs=epochs,
    callbacks=[
        kgen.callbacks.SampleGrid(
            f"runs/{name}/grids", grid_every, seed=seed, value_range=(-1, 1)
        ),
        keras.callbacks.TerminateOnNaN(),
    ],
)

# === Artefacts ===
metrics = {k: float(v[-1]) for k, v in history.history.items()}
kgen.recipes.save(
    model,
    name,
    metrics=metrics,
    config=dict(
        latent_dim=latent_dim,
        filters=filters,
        d_steps=d_steps,
        learning_rate=learning_rate,
        beta_1=beta_1,
        batch_size=batch_size,
        epochs=epochs,
        seed=seed,
    ),
)
kgen.utils.save_image_grid(
    model.sample(64, seed=seed), f"{folder}/samples.png", value_range=(-1, 1)
)
kgen.export.export_saved_model(model, f"{folder}/saved_model", overwrite=True)
print(f"{name}: {metrics} -> {folder}")
