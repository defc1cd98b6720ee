"""Folding LoRA adapters into the base weights, for export and serving."""

import os
import tempfile

import keras

from kgen import backend
from kgen.lora.adaptation import lora_layers

# The keys Keras' layers add to their config once LoRA is enabled.
LORA_CONFIG_KEYS = ("lora_rank", "lora_alpha")


def merge_lora(model):
    """A copy of `model` with every adapter folded into its layer's
    kernel and no adapters left: what export and serving take (peft's
    `merge_and_unload`).

    Each adapted kernel becomes

    ```none
    W' = W + (alpha / r) A B
    ```

    computed in float32 by Keras (its layers write this merged kernel
    when an adapted model is saved), so the copy's outputs equal the
    adapted model's to float32 rounding. `model` itself is unchanged and
    keeps training; the copy is a plain, uncompiled model of the
    base's architecture, trainable as its constructor leaves it.

    Raises:
        ValueError: `model` has no adapters.

    Example:

    ```python
    served = kgen.lora.merge_lora(model)
    served.export("exported/my_model")
    ```
    """
    if not lora_layers(model):
        raise ValueError(f"{model.name!r} has no LoRA adapters to merge.")
    config = _without_lora(keras.saving.serialize_keras_object(model))
    # Uncompiled, as a loaded preset: an optimizer built for the adapters
    # has nothing to train in the copy.
    config.pop("compile_config", None)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "merged.weights.h5")
        model.save_weights(path)
        merged = backend.build_then_load(
            lambda: keras.saving.deserialize_keras_object(config),
            lambda built: built.load_weights(path),
        )
    if hasattr(model, "sample_defaults"):
        # A preset's sampling defaults (its card's), which no config holds.
        merged.sample_defaults = dict(model.sample_defaults)
    return merged


def _without_lora(config):
    """`config` with every layer's LoRA keys removed and every layer
    trainable (`enable_lora` froze the rest; a constructor that freezes
    a part, such as a latent model's autoencoder, freezes it again)."""
    if isinstance(config, dict):
        return {
            key: True if key == "trainable" else _without_lora(value)
            for key, value in config.items()
            if key not in LORA_CONFIG_KEYS
        }
    if isinstance(config, list):
        return [_without_lora(value) for value in config]
    return config
