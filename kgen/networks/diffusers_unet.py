"""diffusers' `UNet2DModel` as a Keras network, and its weights.

A checkpoint of the field (a `UNet2DModel` folder: `config.json` and
`diffusion_pytorch_model.safetensors`) cannot load into
`kgen.networks.unet_denoiser`: the graphs differ where the numbers
depend on them (group counts and epsilons, padding of the strided
convolutions, the channels of the upsampling convolutions, heads of a
fixed width). `DiffusersUNet` builds `UNet2DModel`'s own graph from its
config, channels last, every layer named by its module's path in
diffusers' state dict (`-` for `.`, which torch refuses in a module's
name: `down_blocks-0-resnets-1-conv2`), so that `load_diffusers_weights`
assigns each tensor by name and `diffusers_weights` reads them back:

```
x  = conv_in(x_t)                             skips = [x]
e  = linear_2(silu(linear_1(sinusoid(t)))) + class_embedding(labels)
per level i: layers_per_block x (resnet(x, e) [-> attention]), skips += x
             then (not the last) downsample, skips += x
mid: resnet -> attention -> resnet
per level, deepest first: (layers_per_block + 1) x
             (resnet([x, skips.pop()], e) [-> attention]), then upsample
out = conv_out(silu(conv_norm_out(x)))
resnet(x, e) = shortcut(x) + conv2(silu(norm2(
                   conv1(silu(norm1(x))) + time_emb_proj(silu(e)))))
```

It takes kgen's denoiser inputs (`noisy_images`, `timesteps`, `labels`),
so every diffusion family drives it as it drives `unet_denoiser`; a
class-conditional one's table has kgen's "no class" row beside
diffusers' classes (`labels == num_class_embeds`).
"""

import json
import math

import keras
from keras import layers
from keras import ops

from kgen.layers.group_normalization import GroupNormalization
from kgen.layers.multi_head_attention import MultiHeadAttention
from kgen.layers.sinusoidal_embedding import SinusoidalEmbedding
from kgen.layers.up_sampling_conv2d import UpSamplingConv2D
from kgen.networks.denoiser_inputs import timestep_input
from kgen.networks.diffusers_weights import CLASS_EMBEDDING
from kgen.utils.recorded_config import RecordedConfig
from kgen.utils.recorded_config import record_argument

DOWN_BLOCKS = ("DownBlock2D", "AttnDownBlock2D")
UP_BLOCKS = ("UpBlock2D", "AttnUpBlock2D")
# The config a `UNet2DModel` is built with where `config.json` is silent
# (diffusers' constructor defaults).
DEFAULTS = {
    "sample_size": None,
    "in_channels": 3,
    "out_channels": 3,
    "center_input_sample": False,
    "time_embedding_type": "positional",
    "freq_shift": 0,
    "flip_sin_to_cos": True,
    "down_block_types": (
        "DownBlock2D",
        "AttnDownBlock2D",
        "AttnDownBlock2D",
        "AttnDownBlock2D",
    ),
    "mid_block_type": "UNetMidBlock2D",
    "up_block_types": (
        "AttnUpBlock2D",
        "AttnUpBlock2D",
        "AttnUpBlock2D",
        "UpBlock2D",
    ),
    "block_out_channels": (224, 448, 672, 896),
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "downsample_padding": 1,
    "downsample_type": "conv",
    "upsample_type": "conv",
    "dropout": 0.0,
    "act_fn": "silu",
    "attention_head_dim": 8,
    "norm_num_groups": 32,
    "attn_norm_num_groups": None,
    "norm_eps": 1e-5,
    "resnet_time_scale_shift": "default",
    "add_attention": True,
    "class_embed_type": None,
    "num_class_embeds": None,
    "time_embedding_dim": None,
    "num_train_timesteps": None,
}
# What kgen builds as diffusers does; anything else is refused by name.
SUPPORTED = {
    "time_embedding_type": ("positional",),
    "mid_block_type": ("UNetMidBlock2D",),
    "downsample_type": ("conv",),
    "upsample_type": ("conv",),
    "act_fn": ("silu", "swish"),
    "resnet_time_scale_shift": ("default",),
    "class_embed_type": (None,),
    "mid_block_scale_factor": (1, 1.0),
}


# The largest value each size-like key of a diffusers config may hold,
# checked before anything is built from it: far above the field's
# largest checkpoints (SDXL's 1280 channels, DiT-XL's 28 layers, SD's
# 768 px), so that a config of a few bytes cannot ask for a graph that
# takes minutes to trace (the weights bound the parameters themselves:
# `kgen.utils.count_unallocated_parameters`).
MAX_LEVELS = 8
SIZE_BOUNDS = {
    "sample_size": 4096,
    "in_channels": 4096,
    "out_channels": 4096,
    "latent_channels": 4096,
    "block_out_channels": 8192,
    "layers_per_block": 16,
    "transformer_layers_per_block": 16,
    "num_layers": 128,
    "attention_head_dim": 4096,
    "num_attention_heads": 1024,
    "cross_attention_dim": 8192,
    "time_embedding_dim": 8192,
    "norm_num_groups": 4096,
    "attn_norm_num_groups": 4096,
    "patch_size": 64,
    "num_class_embeds": 2**20,
    "num_embeds_ada_norm": 2**20,
}

# The real-valued keys, each a number in its interval, `None` where a
# config may leave it out: a string there would build, then fail in the
# first call.
NUMBER_BOUNDS = {
    "norm_eps": (0.0, 1.0),  # open
    "dropout": (0.0, 1.0),  # [0, 1): no dropout is 0
    "scaling_factor": (0.0, math.inf),  # open
    "shift_factor": (-math.inf, math.inf),
    "freq_shift": (-math.inf, math.inf),
}


def unet_config(config):
    """`config` (a `UNet2DModel` `config.json`, as a dict or a path)
    with diffusers' defaults filled in, checked: a `ValueError` names
    every key kgen does not build as diffusers does."""
    config = checked_config(config, "UNet2DModel", DEFAULTS, SUPPORTED)
    check_block_types(config, DOWN_BLOCKS, UP_BLOCKS)
    return config


def checked_config(config, class_name, defaults, supported):
    """A diffusers model's `config` (a dict, or the path of its
    `config.json`) with its constructor's `defaults` filled in; a
    `ValueError` names a config of another class and every key whose
    value is not among those `supported` (kgen builds only what it
    builds as diffusers does)."""
    if not isinstance(config, dict):
        with open(config, encoding="utf-8") as handle:
            config = json.load(handle)
    kind = config.get("_class_name", class_name)
    if kind != class_name:
        raise ValueError(
            f"`config` describes a {kind}; only diffusers' {class_name} "
            "is built here."
        )
    config = dict(defaults, **config)
    check_sizes(config)
    refused = {
        key: config[key]
        for key, allowed in supported.items()
        if config[key] not in allowed
    }
    if refused:
        raise ValueError(
            f"This {class_name} config uses what kgen does not build: "
            f"{refused} (supported: "
            f"{ {key: supported[key] for key in refused} })."
        )
    return config


def check_sizes(config):
    """A `ValueError` naming the first size-like key (`SIZE_BOUNDS`) of
    `config` that is not `None`, an int in `[1, bound]` or a list of
    such ints, or `block_out_channels` of more than `MAX_LEVELS`."""
    for key, bound in SIZE_BOUNDS.items():
        value = config.get(key)
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        if not (
            1 <= len(values) <= MAX_LEVELS
            and all(
                type(v) is int and 1 <= v <= bound  # no bool, no float
                for v in values
            )
        ):
            raise ValueError(
                f"`{key}` must be an int in [1, {bound:,}] or a list of "
                f"1 to {MAX_LEVELS} of them; received {value!r}."
            )
    for key, (low, high) in NUMBER_BOUNDS.items():
        value = config.get(key)
        if value is None:
            continue
        inside = type(value) in (int, float) and (
            low <= value < high if key == "dropout" else low < value < high
        )
        if not inside:
            interval = (
                f"[{low}, {high})" if key == "dropout" else (f"({low}, {high})")
            )
            raise ValueError(
                f"`{key}` must be a number in {interval}; received {value!r}."
            )


def check_block_types(config, down_blocks, up_blocks):
    """A `ValueError` unless the config's down and up block types are
    one of `down_blocks` / `up_blocks` per `block_out_channels`."""
    levels = len(config["block_out_channels"])
    for key, known in (
        ("down_block_types", down_blocks),
        ("up_block_types", up_blocks),
    ):
        unknown = [b for b in config[key] if b not in known]
        if unknown or len(config[key]) != levels:
            raise ValueError(
                f"`{key}` must be {levels} of {known} (one per "
                f"block_out_channels); received {config[key]}."
            )


@keras.saving.register_keras_serializable(package="kgen")
class DiffusersUNet(RecordedConfig, keras.Model):
    """diffusers' `UNet2DModel` graph in Keras, channels last.

    A functional model, as keras-hub's backbones are: its config is the
    UNet's own (`get_config` keeps it, so a saved model can still be
    written back as a diffusers checkpoint).

    Args:
        config: dict or path of a `UNet2DModel` `config.json`.
        image_shape: `(height, width, channels)`; default the config's
            `sample_size` and `in_channels`.
        timestep_dtype: "int32" or "float32", the `timesteps` input.

    Inputs `[noisy_images, timesteps(, labels)]`, output `(batch, height,
    width, out_channels)`; layers named by their diffusers module
    (`down_blocks-0-resnets-1-conv2`).

    Example:

    ```python
    network = kgen.networks.DiffusersUNet("ddpm/unet/config.json")
    tensors, _ = kgen.utils.read_safetensors(
        "ddpm/unet/diffusion_pytorch_model.safetensors"
    )
    kgen.networks.load_diffusers_weights(network, tensors)
    ```
    """

    def __init__(
        self, config, image_shape=None, timestep_dtype="int32", **kwargs
    ):
        config = unet_config(config)
        inputs, outputs = _unet_graph(config, image_shape, timestep_dtype)
        kwargs.setdefault("name", "diffusers_unet")
        super().__init__(inputs, outputs, **kwargs)
        self.unet_config = config
        # The config read and checked, not the path it may have come from.
        record_argument(self, "config", config)
        self.image_shape = tuple(inputs[0].shape[1:])


def _unet_graph(config, image_shape, timestep_dtype):
    """`(inputs, outputs)` of the UNet of the checked `config`."""
    image_shape = sample_shape(config, image_shape)
    images = keras.Input(tuple(image_shape), name="noisy_images")
    timesteps = timestep_input(timestep_dtype)
    inputs = [images, timesteps]

    # 1. The time (and class) embedding.
    embedding = time_embedding(timesteps, config)
    if config["num_class_embeds"]:
        labels = keras.Input((), dtype="int32", name="labels")
        inputs.append(labels)
        # One row more than diffusers' table: kgen's "no class" (id
        # `num_class_embeds`) of classifier-free guidance, zero when
        # imported (the time embedding alone) and left out when written
        # back, as diffusers' U-Net has no unconditional call.
        embedding = embedding + layers.Embedding(
            config["num_class_embeds"] + 1,
            embedding.shape[-1],
            name=CLASS_EMBEDDING,
        )(labels)
    block = DiffusersBlocks(
        embedding,
        config["norm_num_groups"],
        config["norm_eps"],
        config["attention_head_dim"],
    )
    mid_groups = config["attn_norm_num_groups"] or config["norm_num_groups"]

    # 2. The U-Net, its attention blocks those of `UNet2DModel`.
    def attend(x, level, name):
        if level is None:  # the middle block's
            if not config["add_attention"]:
                return x
            return block.attention(x, name, mid_groups)
        return block.attention(x, name)

    layers_per_block = [config["layers_per_block"]] * len(
        config["block_out_channels"]
    )
    return inputs, unet_body(images, block, config, attend, layers_per_block)


def sample_shape(config, image_shape):
    """`image_shape`, or the config's `sample_size` and `in_channels`."""
    if image_shape is not None:
        return tuple(image_shape)
    size = config["sample_size"]
    if size is None:
        raise ValueError("Pass `image_shape`: the config has no `sample_size`.")
    size = (size, size) if isinstance(size, int) else tuple(size)
    return (*size, config["in_channels"])


def unstored_parameters(config):
    """How many of a `UNet2DModel`'s parameters kgen adds beyond its
    checkpoint's: a class-conditional one's "no class" row."""
    if not config["num_class_embeds"]:
        return 0
    return config["time_embedding_dim"] or 4 * config["block_out_channels"][0]


def time_embedding(timesteps, config):
    """diffusers' `time_proj` and `time_embedding` of a U-Net."""
    width = config["block_out_channels"][0]
    embedding = SinusoidalEmbedding(
        width,
        frequency_shift=config["freq_shift"],
        flip_sin_to_cos=config["flip_sin_to_cos"],
        name="time_proj",
    )(timesteps)
    embedding_dim = config["time_embedding_dim"] or 4 * width
    embedding = layers.Dense(
        embedding_dim, activation="silu", name="time_embedding-linear_1"
    )(embedding)
    return layers.Dense(embedding_dim, name="time_embedding-linear_2")(
        embedding
    )


# The block types that hold attention, of both U-Nets.
ATTENTION_BLOCKS = (
    "AttnDownBlock2D",
    "AttnUpBlock2D",
    "CrossAttnDownBlock2D",
    "CrossAttnUpBlock2D",
)


def unet_body(x, block, config, attend, layers_per_block):
    """`conv_in` to `conv_out` of a diffusers U-Net on images `x`:
    resnets from `block`, and `attend(x, level, name)` after each resnet
    of a block with attention (`level` `None` in the middle block).

    Down, every resnet (and attention) output is a skip; up, each resnet
    takes the newest skip."""
    widths = list(config["block_out_channels"])
    if config["center_input_sample"]:
        x = 2.0 * x - 1.0
    x = conv3x3(widths[0], "conv_in")(x)
    skips = [x]
    for level, kind in enumerate(config["down_block_types"]):
        name = f"down_blocks-{level}"
        for index in range(layers_per_block[level]):
            x = block.resnet(x, widths[level], f"{name}-resnets-{index}")
            if kind in ATTENTION_BLOCKS:
                x = attend(x, level, f"{name}-attentions-{index}")
            skips.append(x)
        if level < len(widths) - 1:
            if config["downsample_padding"] == 0:  # diffusers pads (0, 1)
                x = layers.ZeroPadding2D(((0, 1), (0, 1)))(x)
            else:
                x = layers.ZeroPadding2D(config["downsample_padding"])(x)
            x = conv3x3(
                widths[level],
                f"{name}-downsamplers-0-conv",
                strides=2,
                padding="valid",
            )(x)
            skips.append(x)

    x = block.resnet(x, widths[-1], "mid_block-resnets-0")
    x = attend(x, None, "mid_block-attentions-0")
    x = block.resnet(x, widths[-1], "mid_block-resnets-1")

    for index, kind in enumerate(config["up_block_types"]):
        level = len(widths) - 1 - index
        name = f"up_blocks-{index}"
        for inner in range(layers_per_block[level] + 1):
            x = layers.Concatenate()([x, skips.pop()])
            x = block.resnet(x, widths[level], f"{name}-resnets-{inner}")
            if kind in ATTENTION_BLOCKS:
                x = attend(x, level, f"{name}-attentions-{inner}")
        if level > 0:
            x = UpSamplingConv2D(
                widths[level], name=f"{name}-upsamplers-0-conv"
            )(x)

    x = GroupNormalization(
        config["norm_num_groups"] or min(widths[0] // 4, 32),
        epsilon=config["norm_eps"],
        name="conv_norm_out",
    )(x)
    x = layers.Activation("silu")(x)
    return conv3x3(config["out_channels"], "conv_out")(x)


def conv3x3(filters, name, strides=1, padding="same"):
    # A 3x3 convolution padded by 1 on every side is Keras' "same" at
    # stride 1; a strided one is padded explicitly (diffusers pads both
    # sides, "same" the far side only).
    return layers.Conv2D(
        filters, 3, strides=strides, padding=padding, name=name
    )


class DiffusersBlocks:
    """Makes the resnet and attention blocks of one network, with its
    time embedding (`None` for an autoencoder's resnets, which take
    none), groups, epsilon and head width."""

    def __init__(self, embedding, groups, epsilon, head_dim):
        if embedding is not None:
            embedding = layers.Activation("silu")(embedding)
        self.embedding = embedding
        self.groups, self.epsilon, self.head_dim = groups, epsilon, head_dim

    def norm(self, name, groups=None):
        return GroupNormalization(
            groups or self.groups, epsilon=self.epsilon, name=name
        )

    def resnet(self, x, width, name):
        h = layers.Activation("silu")(self.norm(f"{name}-norm1")(x))
        h = conv3x3(width, f"{name}-conv1")(h)
        if self.embedding is not None:
            time = layers.Dense(width, name=f"{name}-time_emb_proj")(
                self.embedding
            )
            h = h + ops.reshape(time, (-1, 1, 1, width))
        h = layers.Activation("silu")(self.norm(f"{name}-norm2")(h))
        h = conv3x3(width, f"{name}-conv2")(h)
        if x.shape[-1] != width:
            x = layers.Conv2D(width, 1, name=f"{name}-conv_shortcut")(x)
        return x + h

    def attention(self, x, name, groups=None):
        _, height, width, channels = x.shape
        head_dim = self.head_dim or channels
        h = self.norm(f"{name}-group_norm", groups)(x)
        h = layers.Reshape((height * width, channels))(h)
        h = MultiHeadAttention(channels // head_dim, head_dim, name=name)(h, h)
        return x + layers.Reshape((height, width, channels))(h)
