"""U-Net and MLP denoisers for diffusion models."""

import keras
from keras import layers

from kgen.layers.group_normalization import GroupNormalization
from kgen.layers.multi_head_attention import MultiHeadAttention
from kgen.layers.up_sampling_conv2d import UpSamplingConv2D
from kgen.networks import denoiser_inputs
from kgen.networks.denoiser_inputs import conditioning_embedding
from kgen.networks.denoiser_inputs import image_denoiser_inputs
from kgen.networks.denoiser_inputs import timestep_input
from kgen.networks.image_shapes import check_image_shape
from kgen.networks.unet_levels import check_levels
from kgen.networks.unet_levels import group_count
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_shape


def _residual_block(x, embedding, width, name):
    """Two 3x3 convolutions with the embedding added in between."""
    h = GroupNormalization(group_count(x.shape[-1]), name=f"{name}_norm1")(x)
    h = layers.Activation("swish")(h)
    h = layers.Conv2D(width, 3, padding="same", name=f"{name}_conv1")(h)
    shift = layers.Dense(width, name=f"{name}_embedding")(embedding)
    h = h + layers.Reshape((1, 1, width))(shift)
    h = GroupNormalization(group_count(width), name=f"{name}_norm2")(h)
    h = layers.Activation("swish")(h)
    h = layers.Conv2D(width, 3, padding="same", name=f"{name}_conv2")(h)
    if x.shape[-1] != width:
        x = layers.Conv2D(width, 1, name=f"{name}_skip")(x)
    return x + h


def _attention_block(x, num_heads, name, context=None):
    """Attention from the pixels of one resolution (queries) to
    themselves, or to `context` (a text encoder's token embeddings: how a
    prompt reaches every position, Rombach et al. 2022, eq. 7); residual.
    """
    height, width, channels = x.shape[1:]
    h = GroupNormalization(group_count(channels), name=f"{name}_norm")(x)
    h = layers.Reshape((height * width, channels))(h)
    h = MultiHeadAttention(
        num_heads, channels // num_heads, name=f"{name}_attention"
    )(h, h if context is None else context)
    return x + layers.Reshape((height, width, channels))(h)


def _attention(x, context, num_heads, name):
    """Self-attention, then cross-attention when there is a `context`."""
    x = _attention_block(x, num_heads, name)
    if context is None:
        return x
    return _attention_block(x, num_heads, f"{name}_cross", context)


@keras.saving.register_keras_serializable(package="kgen")
def unet_denoiser(
    image_shape,
    widths=(32, 64),
    num_res_blocks=1,
    attention_levels=(1,),
    num_heads=4,
    num_classes=None,
    condition_channels=0,
    context_shape=None,
    timestep_dtype="int32",
    step_size_input=False,
    name="unet_denoiser",
):
    """A DDPM-style U-Net `[x_t, t(, labels)(, condition)] -> output`.

    Residual blocks with GroupNorm and swish, a sinusoidal time embedding
    (and a class embedding when `num_classes` is set) added inside every
    block, self-attention at the chosen levels and in the middle, stride-2
    convolutions down and nearest upsampling + convolution up (JAX's
    transposed convolutions are slow on CPU), skip connections between
    levels of equal resolution. The output has the image's shape.

    Args:
        image_shape: `(height, width, channels)`; each of the
            `len(widths) - 1` downsamplings must halve an even size.
        widths: tuple of ints. Channels per resolution level.
        num_res_blocks: int. Residual blocks per level on the way down.
        attention_levels: tuple of level indices (0 = full resolution)
            that get self-attention; the middle always has it.
        num_heads: int. Attention heads.
        num_classes: int or `None`. Adds an int `labels` input in
            `[0, num_classes]` (`num_classes` meaning "no label").
        condition_channels: int. Adds an image input of the same height and
            width with that many channels, concatenated to `x_t` (e.g. the
            upsampled low-resolution image of a super-resolution stage).
        context_shape: `(sequence_length, width)` or `None`. Adds a float
            `context` input (a text encoder's token embeddings) that every
            attention block attends to after its self-attention, and whose
            mean joins the time embedding: the denoiser of a
            `TextToImage` model.
        timestep_dtype: str. `"int32"` for the integer steps of a
            discrete diffusion, `"float32"` for continuous time (a
            `FlowMatching` model's `sigma * num_train_timesteps`).
        step_size_input: bool. Adds a float `step_sizes` input after
            `timesteps` (the jump a `MeanFlow` or shortcut model
            predicts over, on the timesteps' scale), embedded as the
            time is and added to it.

    Returns:
        A functional `keras.Model` with inputs `[x_t, timesteps]` plus
        `step_sizes`, `labels`, `condition` and `context` when
        configured.
    """
    image_shape = check_image_shape(image_shape)
    widths = validate_shape(widths, "widths")
    check_levels(
        *image_shape[:2], widths, num_heads, "image_shape", image_shape
    )
    embedding_dim = 4 * widths[0]
    inputs, tensors = image_denoiser_inputs(
        image_shape,
        num_classes,
        condition_channels,
        context_shape,
        timestep_dtype,
        step_size_input,
    )
    x, context = tensors["x"], tensors["context"]
    embedding = conditioning_embedding(
        tensors["timesteps"],
        tensors["labels"],
        embedding_dim,
        num_classes,
        name,
        context,
        step_sizes=tensors["step_sizes"],
    )

    h = layers.Conv2D(widths[0], 3, padding="same", name="stem")(x)
    skips = [h]
    for level, channels in enumerate(widths):
        for block in range(num_res_blocks):
            h = _residual_block(h, embedding, channels, f"down{level}_{block}")
            if level in attention_levels:
                h = _attention(
                    h, context, num_heads, f"down{level}_{block}_attn"
                )
            skips.append(h)
        if level < len(widths) - 1:
            h = layers.Conv2D(
                channels, 3, strides=2, padding="same", name=f"down{level}"
            )(h)
            skips.append(h)
    h = _residual_block(h, embedding, widths[-1], "middle1")
    h = _attention(h, context, num_heads, "middle_attn")
    h = _residual_block(h, embedding, widths[-1], "middle2")
    for level in reversed(range(len(widths))):
        for block in range(num_res_blocks + 1):
            h = layers.Concatenate()([h, skips.pop()])
            h = _residual_block(
                h, embedding, widths[level], f"up{level}_{block}"
            )
            if level in attention_levels:
                h = _attention(h, context, num_heads, f"up{level}_{block}_attn")
        if level > 0:
            h = UpSamplingConv2D(widths[level - 1], name=f"up{level}")(h)
    h = GroupNormalization(group_count(widths[0]), name="out_norm")(h)
    h = layers.Activation("swish")(h)
    # Zero-initialised output: the untrained denoiser predicts 0, a stable
    # start for every prediction type.
    outputs = layers.Conv2D(
        image_shape[-1],
        3,
        padding="same",
        kernel_initializer="zeros",
        name="out",
    )(h)
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="kgen")
def mlp_denoiser(
    dim,
    hidden_dim=256,
    num_layers=3,
    num_classes=None,
    timestep_dtype="int32",
    step_size_input=False,
    name="mlp_denoiser",
):
    """An MLP `[x_t, t(, step_sizes)(, labels)] -> output` for vector
    data (2-D toys, VAE latents in latent diffusion), with the same time,
    step-size and class embeddings (and `timestep_dtype`) as
    `unet_denoiser`."""
    dim = validate_int(dim, "dim")
    vectors = keras.Input((dim,), name="noisy_vectors")
    timesteps = timestep_input(timestep_dtype)
    step_sizes = denoiser_inputs.step_size_input(step_size_input)
    inputs = [vectors, timesteps]
    if step_sizes is not None:
        inputs.append(step_sizes)
    labels = None
    if num_classes is not None:
        labels = keras.Input((), dtype="int32", name="labels")
        inputs.append(labels)
    embedding = conditioning_embedding(
        timesteps, labels, hidden_dim, num_classes, name, step_sizes=step_sizes
    )
    h = layers.Dense(hidden_dim, name="stem")(vectors)
    for index in range(num_layers):
        update = layers.LayerNormalization(name=f"block{index}_norm")(h)
        update = layers.Dense(
            hidden_dim, activation="swish", name=f"block{index}_dense1"
        )(update + embedding)
        update = layers.Dense(hidden_dim, name=f"block{index}_dense2")(update)
        h = h + update
    h = layers.LayerNormalization(name="out_norm")(h)
    outputs = layers.Dense(dim, kernel_initializer="zeros", name="out")(h)
    return keras.Model(inputs, outputs, name=name)
