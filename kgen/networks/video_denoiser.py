"""A space-time factorised U-Net denoiser for clips (Video Diffusion
Models, Ho et al. 2022).

Every block is an image U-Net block applied to each frame alone, then a
mixing of each pixel's frames: a `(1, 3, 3)` convolution is a 3x3
convolution per frame, and attention along the frame axis alone lets
every pixel see its own past and future. Spatial resolution halves and
doubles as in `unet_denoiser`; time keeps its length.
"""

import math

import keras
from keras import layers
from keras import ops

from kgen.layers.group_normalization import GroupNormalization
from kgen.layers.multi_head_attention import MultiHeadAttention
from kgen.networks.denoiser_inputs import conditioning_embedding
from kgen.networks.denoiser_inputs import timestep_input
from kgen.networks.unet_levels import check_levels
from kgen.networks.unet_levels import group_count
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_shape

FRAME_AXIS = 1


def _spatial_convolution(width, name, strides=1):
    return layers.Conv3D(
        width,
        (1, 3, 3),
        strides=(1, strides, strides),
        padding="same",
        name=name,
    )


def _residual_block(x, embedding, width, name):
    """Two per-frame 3x3 convolutions with the embedding added between
    them, then a 3-frame convolution along time; residual."""
    h = GroupNormalization(group_count(x.shape[-1]), name=f"{name}_norm1")(x)
    h = layers.Activation("swish")(h)
    h = _spatial_convolution(width, f"{name}_conv1")(h)
    shift = layers.Dense(width, name=f"{name}_embedding")(embedding)
    h = h + layers.Reshape((1, 1, 1, width))(shift)
    h = GroupNormalization(group_count(width), name=f"{name}_norm2")(h)
    h = layers.Activation("swish")(h)
    h = _spatial_convolution(width, f"{name}_conv2")(h)
    h = h + layers.Conv3D(
        width, (3, 1, 1), padding="same", name=f"{name}_temporal"
    )(h)
    if x.shape[-1] != width:
        x = layers.Conv3D(width, 1, name=f"{name}_skip")(x)
    return x + h


def _attention_block(x, num_heads, axes, name):
    """Self-attention over `axes` of `(batch, frames, height, width,
    channels)`, the other axes kept apart; residual.

    The axes kept apart are folded into the batch, so the attention sees
    `(batch * rest, sequence, channels)` and its scores are 4-D:
    `MultiHeadAttention(attention_axes=...)` on the 5-D clip makes 6-D
    scores, whose softmax TensorFlow's oneDNN kernel refuses ("Input
    dims must be <= 5") on CPUs where it is on. The weights are the same
    either way."""
    channels = x.shape[-1]
    h = GroupNormalization(group_count(channels), name=f"{name}_norm")(x)
    kept = [axis for axis in (1, 2, 3) if axis not in axes]
    order = (0, *kept, *axes, 4)
    h = ops.transpose(h, order)
    folded_shape = h.shape
    length = math.prod(h.shape[1 + len(kept) : 4])
    h = ops.reshape(h, (-1, length, channels))
    h = MultiHeadAttention(
        num_heads, channels // num_heads, name=f"{name}_attention"
    )(h, h)
    h = ops.reshape(h, (-1, *folded_shape[1:]))
    return x + ops.transpose(h, [order.index(axis) for axis in range(5)])


def _space_time_attention(x, num_heads, spatial, name):
    """Attention along time at every level; over each frame's pixels too
    where `spatial`."""
    if spatial:
        x = _attention_block(x, num_heads, (2, 3), f"{name}_spatial")
    return _attention_block(x, num_heads, (FRAME_AXIS,), f"{name}_temporal")


@keras.saving.register_keras_serializable(package="kgen")
def video_unet_denoiser(
    video_shape,
    widths=(32, 64),
    num_res_blocks=1,
    spatial_attention_levels=(1,),
    num_heads=4,
    num_classes=None,
    timestep_dtype="int32",
    name="video_unet_denoiser",
):
    """A factorised space-time U-Net `[x_t, t(, labels)] -> output` for
    clips `(frames, height, width, channels)`.

    The blocks of `unet_denoiser`, applied per frame, each followed by a
    3-frame convolution along time; every level attends along time, and
    the chosen levels and the middle attend over each frame's pixels as
    well. Down- and upsampling are spatial only, so a clip keeps its
    frames; the time (and class) embedding joins every block.

    Args:
        video_shape: `(frames, height, width, channels)`; each of the
            `len(widths) - 1` downsamplings must halve an even height and
            width.
        widths: tuple of ints. Channels per resolution level.
        num_res_blocks: int. Residual blocks per level on the way down.
        spatial_attention_levels: tuple of level indices (0 = full
            resolution) whose blocks also attend over each frame's
            pixels; the middle always does.
        num_heads: int. Attention heads; every width must divide by it.
        num_classes: int or `None`. Adds an int `labels` input in
            `[0, num_classes]` (`num_classes` meaning "no label").
        timestep_dtype: str. `"int32"` for a discrete diffusion's steps,
            `"float32"` for continuous time (`FlowMatching`).

    Returns:
        A functional `keras.Model` with inputs `[noisy_videos, timesteps]`
        plus `labels` when configured, whose output has the clip's shape.

    Example:

    ```python
    denoiser = kgen.networks.video_unet_denoiser(
        (8, 16, 16, 1), widths=(16, 32), timestep_dtype="float32"
    )
    model = kgen.models.FlowMatching(denoiser, seed=0)
    ```

    References:
        1. Ho et al. Video Diffusion Models. 2022. arXiv:2204.03458.
    """
    video_shape = validate_shape(video_shape, "video_shape")
    if len(video_shape) != 4:
        raise ValueError(
            "`video_shape` must be (frames, height, width, channels); "
            f"received {video_shape}."
        )
    widths = validate_shape(widths, "widths")
    num_res_blocks = validate_int(num_res_blocks, "num_res_blocks")
    num_heads = validate_int(num_heads, "num_heads")
    check_levels(
        *video_shape[1:3], widths, num_heads, "video_shape", video_shape
    )
    videos = keras.Input(video_shape, name="noisy_videos")
    timesteps = timestep_input(timestep_dtype)
    inputs = [videos, timesteps]
    labels = None
    if num_classes is not None:
        labels = keras.Input((), dtype="int32", name="labels")
        inputs.append(labels)
    embedding = conditioning_embedding(
        timesteps, labels, 4 * widths[0], num_classes, name
    )

    h = _spatial_convolution(widths[0], "stem")(videos)
    skips = [h]
    for level, channels in enumerate(widths):
        spatial = level in spatial_attention_levels
        for block in range(num_res_blocks):
            h = _residual_block(h, embedding, channels, f"down{level}_{block}")
            h = _space_time_attention(
                h, num_heads, spatial, f"down{level}_{block}_attn"
            )
            skips.append(h)
        if level < len(widths) - 1:
            h = _spatial_convolution(channels, f"down{level}", strides=2)(h)
            skips.append(h)
    h = _residual_block(h, embedding, widths[-1], "middle1")
    h = _space_time_attention(h, num_heads, True, "middle_attn")
    h = _residual_block(h, embedding, widths[-1], "middle2")
    for level in reversed(range(len(widths))):
        spatial = level in spatial_attention_levels
        for block in range(num_res_blocks + 1):
            h = layers.Concatenate()([h, skips.pop()])
            h = _residual_block(
                h, embedding, widths[level], f"up{level}_{block}"
            )
            h = _space_time_attention(
                h, num_heads, spatial, f"up{level}_{block}_attn"
            )
        if level > 0:
            h = layers.UpSampling3D((1, 2, 2), name=f"upsample{level}")(h)
            h = _spatial_convolution(widths[level - 1], f"up{level}")(h)
    h = GroupNormalization(group_count(widths[0]), name="out_norm")(h)
    h = layers.Activation("swish")(h)
    # Zero-initialised output, as `unet_denoiser`'s: the untrained
    # denoiser predicts 0.
    outputs = layers.Conv3D(
        video_shape[-1],
        (1, 3, 3),
        padding="same",
        kernel_initializer="zeros",
        name="out",
    )(h)
    return keras.Model(inputs, outputs, name=name)
