"""The property side of a `SequenceVAE` built with `num_properties`: the
small network `f` that predicts properties from the posterior mean, its
squared-error loss, and the gradient search of the latent space that it
drives (`predict_properties`, `optimize_latents`), as Gomez-Bombarelli
et al. (2018) organise and search a molecule VAE's codes. Apart from
`sequence_vae.py`, which holds the VAE itself, because a model built
without properties never runs any of it."""

import keras
from keras import layers
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.mixed_precision import to_float32


def property_head(latent_dim, hidden_dim, num_properties):
    """`f`: `(batch, latent_dim)` codes -> `(batch, num_properties)`."""
    return keras.Sequential(
        [
            keras.Input((latent_dim,)),
            layers.Dense(hidden_dim, activation="gelu"),
            layers.Dense(num_properties),
        ],
        name="property_head",
    )


def property_loss(predicted, properties):
    """Per-example mean squared error of the predicted properties."""
    return ops.mean(
        ops.square(predicted - ops.cast(properties, "float32")),
        axis=-1,
    )


def predict_properties(model, z):
    """`model`'s property network's predictions `f(z)`."""
    _check_has_properties(model, "predict_properties")
    z = public_inputs.check_codes(z, (model.latent_dim,), "z")
    with backend.no_grad():
        predicted = model.property_head(ops.convert_to_tensor(z))
    return to_float32(predicted)


def optimize_latents(
    model,
    z,
    property_index,
    num_steps,
    learning_rate,
    prior_weight,
    maximize,
):
    """Gradient ascent of `+-f_k(z) - prior_weight * |z|^2 / 2` from
    `z` (`SequenceVAE.optimize_latents`)."""
    _check_has_properties(model, "optimize_latents")
    z = public_inputs.check_codes(z, (model.latent_dim,), "z")
    property_index = validate_int(
        property_index,
        "property_index",
        minimum=0,
        maximum=model.num_properties - 1,
    )
    num_steps = validate_int(num_steps, "num_steps", minimum=0)
    learning_rate = validate_float(learning_rate, "learning_rate")
    prior_weight = validate_float(prior_weight, "prior_weight", minimum=0)
    sign = 1.0 if maximize else -1.0

    def objective(z):
        predicted = model.property_head(z, training=False)
        predicted = to_float32(predicted)[:, property_index]
        return sign * predicted - 0.5 * prior_weight * ops.sum(
            ops.square(z), axis=-1
        )

    z = ops.convert_to_tensor(z, "float32")
    for _ in range(num_steps):
        step = learning_rate * backend.grad(objective, z)
        z = ops.stop_gradient(z + step)
    return z


def _check_has_properties(model, method):
    if model.num_properties is None:
        raise ValueError(
            f"`{method}` needs a property network: build the "
            f"{type(model).__name__} with `num_properties` and train it "
            "on `fit(tokens, properties)`."
        )
