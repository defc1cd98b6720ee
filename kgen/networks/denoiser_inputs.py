"""The inputs and the conditioning embedding every denoiser shares.

`unet_denoiser`, `dit_denoiser` and `mlp_denoiser` take the same inputs
under the same names (`noisy_images` or `noisy_vectors`, `timesteps`,
`step_sizes`, `labels`, `condition`, `context`), so that every diffusion
family calls any of them alike, and turn time, step size, class and text
into one embedding vector the same way.
"""

import keras
from keras import layers

from kgen.layers.sinusoidal_embedding import SinusoidalEmbedding
from kgen.utils.argument_validation import validate_shape


def timestep_input(timestep_dtype):
    """The `timesteps` input: int32 steps or float32 continuous time."""
    if timestep_dtype not in ("int32", "float32"):
        raise ValueError(
            "`timestep_dtype` must be 'int32' (discrete diffusion steps) or "
            f"'float32' (continuous time); received {timestep_dtype!r}."
        )
    return keras.Input((), dtype=timestep_dtype, name="timesteps")


def step_size_input(step_size_input):
    """The `step_sizes` input of a denoiser that predicts a jump (the
    length `t - r` of `MeanFlow`'s average velocity, a shortcut model's
    step), on the timesteps' float scale; `None` when not asked for."""
    if not step_size_input:
        return None
    return keras.Input((), dtype="float32", name="step_sizes")


def image_denoiser_inputs(
    image_shape,
    num_classes,
    condition_channels,
    context_shape,
    timestep_dtype,
    step_size=False,
):
    """The inputs of an image denoiser, in the order every family passes
    them: `[x_t, timesteps]`, then `step_sizes`, `labels`, `condition`
    and `context` where configured.

    Returns:
        `(inputs, tensors)`: the list of `keras.Input`s, and a dict of them
        by role (`images`, `timesteps`, `step_sizes`, `labels`,
        `condition`, `context`; `None` where absent), with `x`: the images
        with the condition's channels concatenated, what the network's
        first layer takes.
    """
    tensors = {
        "images": keras.Input(image_shape, name="noisy_images"),
        "timesteps": timestep_input(timestep_dtype),
        "step_sizes": step_size_input(step_size),
        "labels": None,
        "condition": None,
        "context": None,
    }
    if num_classes is not None:
        tensors["labels"] = keras.Input((), dtype="int32", name="labels")
    if condition_channels:
        tensors["condition"] = keras.Input(
            tuple(image_shape[:2]) + (condition_channels,), name="condition"
        )
    if context_shape is not None:
        context_shape = validate_shape(context_shape, "context_shape")
        if len(context_shape) != 2:
            raise ValueError(
                "`context_shape` must be (sequence_length, width); "
                f"received {context_shape}."
            )
        tensors["context"] = keras.Input(context_shape, name="context")
    roles = (
        "images",
        "timesteps",
        "step_sizes",
        "labels",
        "condition",
        "context",
    )
    inputs = [tensors[role] for role in roles if tensors[role] is not None]
    tensors["x"] = tensors["images"]
    if tensors["condition"] is not None:
        tensors["x"] = layers.Concatenate()(
            [tensors["images"], tensors["condition"]]
        )
    return inputs, tensors


def conditioning_embedding(
    timesteps,
    labels,
    dim,
    num_classes,
    name,
    context=None,
    frequency_dim=None,
    step_sizes=None,
):
    """One `dim`-vector per example from the time, the step size, the
    class and the text:

    ```
    e = MLP(sinusoid(t)) + MLP'(sinusoid(d)) + E_class[label]
        + W mean_tokens(context)
    return swish(e)
    ```

    Index `num_classes` of the class table is the "no label" class that
    classifier-free guidance trains on and samples with; the sinusoids
    have `frequency_dim` features (default `dim // 4`, as DDPM's U-Net).
    The step size `d` has its own embedding added to the time's, as
    MeanFlow embeds `(t, t - r)` (Geng et al. 2025, table 1c) and
    shortcut models `(t, d)` (Frans et al. 2024).
    """
    embedding = _scalar_embedding(timesteps, dim, frequency_dim, name, "time")
    if step_sizes is not None:
        embedding = embedding + _scalar_embedding(
            step_sizes, dim, frequency_dim, name, "step_size"
        )
    if labels is not None:
        label_embedding = layers.Embedding(
            num_classes + 1, dim, name=f"{name}_labels"
        )(labels)
        embedding = embedding + label_embedding
    if context is not None:
        # The mean token embedding joins the time embedding, as Imagen
        # adds its pooled text embedding (Saharia et al. 2022, appendix
        # F): a global summary of the prompt in every block.
        pooled = layers.GlobalAveragePooling1D(name=f"{name}_pool")(context)
        embedding = embedding + layers.Dense(dim, name=f"{name}_context")(
            pooled
        )
    return layers.Activation("swish")(embedding)


def _scalar_embedding(values, dim, frequency_dim, name, role):
    """`MLP(sinusoid(values))`: a `dim`-vector per example."""
    suffix = "" if role == "time" else f"_{role}"
    embedding = SinusoidalEmbedding(
        frequency_dim or dim // 4, name=f"{name}_sinusoidal{suffix}"
    )(values)
    embedding = layers.Dense(dim, activation="swish", name=f"{name}_{role}1")(
        embedding
    )
    return layers.Dense(dim, name=f"{name}_{role}2")(embedding)
