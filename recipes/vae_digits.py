"""VAE on the embedded 8x8 digits -> saved_models/vae_digits/.

python recipes/vae_digits.py
"""

import keras
import numpy as np

import kgen

# === Config ===
name = "vae_digits"
seed = 0
latent_dim = 8
filters = 32  # conv channels of the first encoder stage
hidden_dim = 256
likelihood = "bernoulli"
beta = 1.0
learning_rate = 1e-3
batch_size = 64
epochs = 50
grid_every = 10  # epochs between sample grids

# === Data ===
keras.utils.set_random_seed(seed)
(x_train, _), (x_test, _) = kgen.datasets.load("digits")
image_shape = x_train.shape[1:]

# === Model ===
model = kgen.models.VAE(
    encoder=kgen.networks.vae_encoder(
        image_shape, latent_dim, filters, hidden_dim
    ),
    decoder=kgen.networks.vae_decoder(
        image_shape, latent_dim, filters, hidden_dim
    ),
    latent_dim=latent_dim,
    likelihood=likelihood,
    beta=beta,
    seed=seed,
)
model.compile(optimizer=keras.optimizers.Adam(learning_rate))

# === Training ===
folder = kgen.recipes.registry.default_directory() + "/" + name
history = model.fit(
    x_train,
    validation_data=x_test,
    batch_size=batch_size,
    epochs=epochs,
    callbacks=[
        kgen.callbacks.SampleGrid(f"runs/{name}/grids", grid_every, seed=seed),
        keras.callbacks.TerminateOnNaN(),
    ],
)

# === Evaluation, artefacts ===
test_negative_elbo = float(
    np.mean(
        [
            keras.ops.convert_to_numpy(-model.elbo(x_test, seed=s))
            for s in range(10)
        ]
    )
)
metrics = {
    "test_negative_elbo_nats": test_negative_elbo,
    "val_loss": float(history.history["val_loss"][-1]),
}
kgen.recipes.save(
    model,
    name,
    metrics=metrics,
    config=dict(
        latent_dim=latent_dim,
        filters=filters,
        hidden_dim=hidden_dim,
        likelihood=likelihood,
        beta=beta,
        learning_rate=learning_rate,
        batch_size=batch_size,
        epochs=epochs,
        seed=seed,
    ),
)
kgen.utils.save_image_grid(model.sample(64, seed=seed), f"{folder}/samples.png")
kgen.export.export_saved_model(model, f"{folder}/saved_model", overwrite=True)
print(f"{name}: {metrics} -> {folder}")
