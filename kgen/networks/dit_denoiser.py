"""A Diffusion Transformer (DiT) denoiser for images."""

import keras
from keras import layers

from kgen.layers.adaptive_layer_normalization import AdaptiveLayerNormalization
from kgen.layers.dit_block import DiTBlock
from kgen.layers.patch_position_embedding import PatchPositionEmbedding
from kgen.networks.denoiser_inputs import conditioning_embedding
from kgen.networks.denoiser_inputs import image_denoiser_inputs
from kgen.networks.image_shapes import check_image_shape
from kgen.utils.argument_validation import validate_choice
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_num_heads

# DiT's model sizes (Peebles and Xie 2023, table 1): (hidden_dim,
# num_layers, num_heads). XL is left out: nothing here trains it.
# DiT embeds the timestep with 256 sinusoidal features at every size.
TIMESTEP_FREQUENCIES = 256
DIT_SIZES = {
    "S": (384, 12, 6),
    "B": (768, 12, 12),
    "L": (1024, 24, 16),
}


@keras.saving.register_keras_serializable(package="kgen")
def dit_denoiser(
    image_shape,
    patch_size=2,
    hidden_dim=384,
    num_layers=12,
    num_heads=6,
    mlp_ratio=4,
    num_classes=None,
    condition_channels=0,
    context_shape=None,
    position_embedding="sinusoidal",
    timestep_dtype="int32",
    step_size_input=False,
    name="dit_denoiser",
):
    """A DiT `[x_t, t(, labels)(, condition)(, context)] -> output`.

    ```
    tokens = Conv_{p x p, stride p}(x_t) + P            (patchify)
    c = swish(MLP(sinusoid(t)) + E[label] + W mean(context))
    tokens = DiTBlock(tokens, c(, context))  x num_layers  (adaLN-Zero)
    output = unpatchify(W_out adaLN(tokens, c))         (zero-initialised)
    ```

    The image is cut into `patch_size`-square patches, each a token; the
    blocks modulate every token by the conditioning vector `c` (adaLN-
    Zero, whose gates start at zero, so the untrained network predicts
    0 as `unet_denoiser` does) and, with a `context`, attend to the text
    tokens. It takes the same inputs under the same names as
    `unet_denoiser`, so any diffusion family (`DiffusionModel`,
    `FlowMatching`, `ConsistencyModel`, `TextToImage`,
    `CascadedDiffusion`) runs on either. `DIT_SIZES` lists the paper's
    S, B and L sizes.

    Args:
        image_shape: `(height, width, channels)`; height and width must be
            multiples of `patch_size`.
        patch_size: int. Side of a square patch (a token).
        hidden_dim: int. Token width; divisible by `num_heads` (and by 4
            for sinusoidal positions).
        num_layers: int. DiT blocks.
        num_heads: int. Attention heads.
        mlp_ratio: int. MLP hidden width over `hidden_dim`.
        num_classes: int or `None`. Adds an int `labels` input in
            `[0, num_classes]` (`num_classes` meaning "no label").
        condition_channels: int. Adds an image input of the same height and
            width with that many channels, concatenated to `x_t` before
            patchifying (a super-resolution stage's upsampled image).
        context_shape: `(sequence_length, width)` or `None`. Adds a float
            `context` input (a text encoder's token embeddings) that every
            block cross-attends to, and whose mean joins `c`.
        position_embedding: `"sinusoidal"` (fixed 2-D table, as DiT) or
            `"learned"`.
        timestep_dtype: str. `"int32"` for discrete diffusion steps,
            `"float32"` for continuous time.
        step_size_input: bool. Adds a float `step_sizes` input after
            `timesteps` (the jump a `MeanFlow` or shortcut model
            predicts over, on the timesteps' scale), embedded as the
            time is and added to `c`.

    Returns:
        A functional `keras.Model` with inputs `[x_t, timesteps]` plus
        `step_sizes`, `labels`, `condition` and `context` when
        configured.

    Example:

    >>> denoiser = dit_denoiser((8, 8, 3), hidden_dim=16, num_layers=1,
    ...                         num_heads=2, num_classes=4)
    >>> [tuple(x.shape) for x in denoiser.inputs]
    [(None, 8, 8, 3), (None,), (None,)]

    References:
        Peebles and Xie, "Scalable Diffusion Models with Transformers",
        2023, https://arxiv.org/abs/2212.09748.
    """
    image_shape = check_image_shape(image_shape)
    patch_size = validate_int(patch_size, "patch_size")
    hidden_dim = validate_int(hidden_dim, "hidden_dim")
    num_layers = validate_int(num_layers, "num_layers")
    position_embedding = validate_choice(
        position_embedding,
        "position_embedding",
        PatchPositionEmbedding.KINDS,
    )
    height, width, channels = image_shape
    if height % patch_size or width % patch_size:
        raise ValueError(
            f"`image_shape` {image_shape} must have a height and width "
            f"divisible by `patch_size` ({patch_size})."
        )
    num_heads = validate_num_heads(num_heads, hidden_dim, "hidden_dim")
    grid_shape = (height // patch_size, width // patch_size)
    num_tokens = grid_shape[0] * grid_shape[1]

    inputs, tensors = image_denoiser_inputs(
        image_shape,
        num_classes,
        condition_channels,
        context_shape,
        timestep_dtype,
        step_size_input,
    )
    x, context = tensors["x"], tensors["context"]
    conditioning = conditioning_embedding(
        tensors["timesteps"],
        tensors["labels"],
        hidden_dim,
        num_classes,
        name,
        context,
        frequency_dim=TIMESTEP_FREQUENCIES,
        step_sizes=tensors["step_sizes"],
    )

    # 1. Patchify: one token per patch, with its grid position.
    h = layers.Conv2D(
        hidden_dim, patch_size, strides=patch_size, name="patchify"
    )(x)
    h = layers.Reshape((num_tokens, hidden_dim))(h)
    h = PatchPositionEmbedding(
        grid_shape, position_embedding, name="positions"
    )(h)

    # 2. The blocks, each modulated by the conditioning vector.
    for index in range(num_layers):
        block_inputs = [h, conditioning]
        if context is not None:
            block_inputs.append(context)
        h = DiTBlock(
            num_heads,
            mlp_ratio,
            cross_attention=context is not None,
            name=f"block{index}",
        )(block_inputs)

    # 3. Each token back to its patch of pixels (zero-initialised).
    h = AdaptiveLayerNormalization(name="out_norm")([h, conditioning])
    h = layers.Dense(
        patch_size * patch_size * channels,
        kernel_initializer="zeros",
        name="out",
    )(h)
    h = layers.Reshape(grid_shape + (patch_size, patch_size, channels))(h)
    h = layers.Permute((1, 3, 2, 4, 5))(h)
    outputs = layers.Reshape(image_shape)(h)
    return keras.Model(inputs, outputs, name=name)
