"""The pieces the architecture tables share: optimizer configs, the
MNIST presets' networks, and the serialized forms of network builders and
of schedulers, as data."""

import keras

from kgen import networks


def builder(function):
    """Keras' serialized form of a registered network builder (a function
    of `kgen.networks`), which `keras.saving.deserialize_keras_object`
    turns back into the function.

    Written as data, as `serialized` writes a class: Keras'
    `serialize_keras_object` first asks whether TensorFlow is installed,
    and that question imports it, so `import kgen` on JAX or torch would
    load TensorFlow (about 3 s) for tables that never touch it. Keras
    names the function's class ("function") as its `registered_name` and
    finds the function itself by `config`.
    """
    return {
        "module": "builtins",
        "class_name": "function",
        "config": keras.saving.get_registered_name(function),
        "registered_name": "function",
    }


def network(function, *, shaped=True, follows_image_size=False, **arguments):
    """A network entry of an architecture: `function`, a builder of
    `kgen.networks`, called with `arguments`, and with the data's shape
    first when `shaped`; `follows_image_size` lets
    `kgen.presets.image_size_rule` fit a U-Net's levels to another image
    size."""
    entry = {"builder": builder(function), "shaped": shaped}
    if follows_image_size:
        entry["follows_image_size"] = True
    entry["arguments"] = arguments
    return entry


def serialized(cls, **config):
    """Keras' serialized form of `cls(**config)` (`cls` registered with
    Keras), written without building the object:
    `keras.saving.deserialize_keras_object` builds it."""
    return {
        "module": cls.__module__,
        "class_name": cls.__name__,
        "config": config,
        "registered_name": keras.saving.get_registered_name(cls),
    }


def adam(learning_rate, beta_1=0.9, beta_2=0.999, ema_momentum=None):
    """An Adam config; with `ema_momentum`, Keras' moving average of the
    weights."""
    config = {"learning_rate": learning_rate, "beta_1": beta_1}
    if beta_2 != 0.999:
        config["beta_2"] = beta_2
    if ema_momentum is not None:
        # The weights an epoch ends with are the moving average's.
        config.update(use_ema=True, ema_momentum=ema_momentum)
    return {"class_name": "Adam", "config": config}


def adamw_warmup_cosine(
    steps,
    learning_rate=1e-3,
    min_learning_rate=1e-4,
    warmup_steps=100,
    beta_2=0.99,
    weight_decay=0.1,
    global_clipnorm=1.0,
):
    """nanoGPT's optimizer: AdamW from 0 to `learning_rate` over
    `warmup_steps`, then a cosine to `min_learning_rate` at `steps`; no
    weight decay on vectors. The defaults are nanoGPT's configuration for
    a CPU, which every GPT preset trains with."""
    schedule = {
        "module": "keras.optimizers.schedules",
        "class_name": "CosineDecay",
        "config": {
            "initial_learning_rate": 0.0,
            "warmup_target": learning_rate,
            "warmup_steps": warmup_steps,
            "decay_steps": steps - warmup_steps,
            "alpha": min_learning_rate / learning_rate,
        },
        "registered_name": None,
    }
    config = {
        "learning_rate": schedule,
        "beta_2": beta_2,
        "epsilon": 1e-8,
        "weight_decay": weight_decay,
        "global_clipnorm": global_clipnorm,
    }
    return {
        "class_name": "AdamW",
        "config": config,
        "exclude_vectors_from_weight_decay": True,
    }


DIGITS = {"dataset": "digits", "shape": [8, 8, 1]}
MNIST = {"dataset": "mnist", "shape": [28, 28, 1]}


def mnist_unet(widths, timestep_dtype="int32"):
    """The class-conditional U-Net of the MNIST diffusion presets:
    attention at the lowest resolution (for 28x28 images; other sizes
    follow `kgen.presets.image_size_rule`)."""
    return network(
        networks.unet_denoiser,
        widths=widths,
        attention_levels=[len(widths) - 1],
        num_classes=10,
        timestep_dtype=timestep_dtype,
        follows_image_size=True,
    )


def mnist_dcgan(dropout_rate=0.3):
    """The MNIST GANs' DCGAN networks (32 filters, 64-d latent)."""
    return {
        "generator": network(
            networks.dcgan_generator, latent_dim=64, filters=32
        ),
        "discriminator": network(
            networks.dcgan_discriminator, filters=32, dropout_rate=dropout_rate
        ),
    }
