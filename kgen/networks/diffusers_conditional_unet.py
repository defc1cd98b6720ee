"""diffusers' `UNet2DConditionModel` in Stable Diffusion 1.x / 2.x's
layout as a Keras network: the `UNet2DModel` of `DiffusersUNet` whose
attention blocks are transformers attending to a text context.

```
transformer(x, context) = x + proj_out(blocks(proj_in(norm(x))))
block(h) = h + attn1(LN(h))                      self-attention
         + attn2(LN(h), context)                 cross-attention
         + ff(LN(h)),  ff = net.2(a * gelu(g)), [a, g] = net.0.proj(h)
```

In this model `attention_head_dim` is, for historical reasons, the
number of heads of each level (diffusers#2011); a head is the level's
width divided by it. Query, key and value projections have no bias
while the output's has; Keras' attention layer has one switch for all
four, so the three are built, held at zero and frozen, and are not
among the checkpoint's tensors (`projection_bias = False` on the
layer, which `load_diffusers_weights` reads).
"""

import keras
from keras import layers
from keras import ops

from kgen.layers.group_normalization import GroupNormalization
from kgen.layers.multi_head_attention import MultiHeadAttention
from kgen.networks.denoiser_inputs import timestep_input
from kgen.networks.diffusers_unet import DiffusersBlocks
from kgen.networks.diffusers_unet import check_block_types
from kgen.networks.diffusers_unet import checked_config
from kgen.networks.diffusers_unet import sample_shape
from kgen.networks.diffusers_unet import time_embedding
from kgen.networks.diffusers_unet import unet_body
from kgen.utils.recorded_config import RecordedConfig
from kgen.utils.recorded_config import record_argument

DOWN_BLOCKS = ("CrossAttnDownBlock2D", "DownBlock2D")
UP_BLOCKS = ("CrossAttnUpBlock2D", "UpBlock2D")
# diffusers' `UNet2DConditionModel` constructor defaults.
DEFAULTS = {
    "sample_size": None,
    "in_channels": 4,
    "out_channels": 4,
    "center_input_sample": False,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "down_block_types": (
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "DownBlock2D",
    ),
    "mid_block_type": "UNetMidBlock2DCrossAttn",
    "up_block_types": (
        "UpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
    ),
    "only_cross_attention": False,
    "block_out_channels": (320, 640, 1280, 1280),
    "layers_per_block": 2,
    "downsample_padding": 1,
    "mid_block_scale_factor": 1,
    "dropout": 0.0,
    "act_fn": "silu",
    "norm_num_groups": 32,
    "norm_eps": 1e-5,
    "cross_attention_dim": 1280,
    "transformer_layers_per_block": 1,
    "reverse_transformer_layers_per_block": None,
    "encoder_hid_dim": None,
    "encoder_hid_dim_type": None,
    "attention_head_dim": 8,
    "num_attention_heads": None,
    "dual_cross_attention": False,
    "use_linear_projection": False,
    "class_embed_type": None,
    "addition_embed_type": None,
    "addition_time_embed_dim": None,
    "num_class_embeds": None,
    "upcast_attention": False,
    "resnet_time_scale_shift": "default",
    "resnet_skip_time_act": False,
    "resnet_out_scale_factor": 1.0,
    "time_embedding_type": "positional",
    "time_embedding_dim": None,
    "time_embedding_act_fn": None,
    "timestep_post_act": None,
    "time_cond_proj_dim": None,
    "conv_in_kernel": 3,
    "conv_out_kernel": 3,
    "projection_class_embeddings_input_dim": None,
    "attention_type": "default",
    "class_embeddings_concat": False,
    "mid_block_only_cross_attention": None,
    "cross_attention_norm": None,
    "addition_embed_type_num_heads": 64,
}
# What kgen builds as diffusers does (Stable Diffusion 1.x and 2.x);
# anything else is refused by name.
SUPPORTED = {
    "mid_block_type": ("UNetMidBlock2DCrossAttn",),
    "only_cross_attention": (False,),
    "act_fn": ("silu", "swish"),
    "reverse_transformer_layers_per_block": (None,),
    "encoder_hid_dim": (None,),
    "encoder_hid_dim_type": (None,),
    "num_attention_heads": (None,),
    "dual_cross_attention": (False,),
    "class_embed_type": (None,),
    "addition_embed_type": (None,),
    "num_class_embeds": (None,),
    "resnet_time_scale_shift": ("default",),
    "resnet_skip_time_act": (False,),
    "resnet_out_scale_factor": (1, 1.0),
    "time_embedding_type": ("positional",),
    "time_embedding_act_fn": (None,),
    "timestep_post_act": (None,),
    "time_cond_proj_dim": (None,),
    "conv_in_kernel": (3,),
    "conv_out_kernel": (3,),
    "attention_type": ("default",),
    "class_embeddings_concat": (False,),
    "mid_block_only_cross_attention": (None, False),
    "cross_attention_norm": (None,),
    "mid_block_scale_factor": (1, 1.0),
}
# The most transformer blocks a config may ask for, counting each
# level's `(2 * layers_per_block + 1) * transformer_layers_per_block`
# (down and up) and the middle's.
MAX_TRANSFORMER_BLOCKS = 128
# Per-level settings that may be one value or one per level.
PER_LEVEL = (
    "layers_per_block",
    "attention_head_dim",
    "transformer_layers_per_block",
    "cross_attention_dim",
)


def conditional_unet_config(config):
    """`config` (a `UNet2DConditionModel` `config.json`, as a dict or a
    path) with diffusers' defaults filled in, its per-level settings as
    lists, checked: a `ValueError` names every key kgen does not build
    as diffusers does."""
    config = checked_config(config, "UNet2DConditionModel", DEFAULTS, SUPPORTED)
    check_block_types(config, DOWN_BLOCKS, UP_BLOCKS)
    levels = len(config["block_out_channels"])
    for key in PER_LEVEL:
        value = config[key]
        if isinstance(value, (list, tuple)):
            if len(value) != levels or not all(
                isinstance(v, int) for v in value
            ):
                raise ValueError(
                    f"`{key}` must be an int or {levels} ints (one per "
                    f"level); received {value}."
                )
        elif not isinstance(value, int):
            raise ValueError(
                f"`{key}` must be an int or {levels} ints; received {value}."
            )
    # Each transformer block is some 20 layers to trace: the depths a
    # config may ask for are bounded together (SDXL's are 70 blocks).
    depths = _per_level(config, "transformer_layers_per_block")
    blocks = depths[-1] + sum(
        (2 * layers + 1) * depth
        for kind, layers, depth in zip(
            config["down_block_types"],
            _per_level(config, "layers_per_block"),
            depths,
        )
        if kind.startswith("CrossAttn")
    )
    if blocks > MAX_TRANSFORMER_BLOCKS:
        raise ValueError(
            f"`transformer_layers_per_block` {depths} with "
            f"`layers_per_block` {config['layers_per_block']} make "
            f"{blocks:,} transformer blocks, more than the "
            f"{MAX_TRANSFORMER_BLOCKS} kgen builds."
        )
    return config


def _per_level(config, key):
    value = config[key]
    levels = len(config["block_out_channels"])
    return list(value) if isinstance(value, (list, tuple)) else [value] * levels


@keras.saving.register_keras_serializable(package="kgen")
class DiffusersConditionalUNet(RecordedConfig, keras.Model):
    """diffusers' `UNet2DConditionModel` (Stable Diffusion 1.x / 2.x's
    layout) in Keras, channels last.

    A functional model whose config is the checkpoint's own.

    Args:
        config: dict or path of a `UNet2DConditionModel` `config.json`.
        image_shape: `(height, width, channels)` of the latents; default
            the config's `sample_size` and `in_channels`.
        context_length: int, the text context's tokens (77 for CLIP).
        timestep_dtype: "int32" or "float32", the `timesteps` input.

    Inputs `[noisy_images, timesteps, context]` (`context`: `(batch,
    context_length, cross_attention_dim)`), output `(batch, height,
    width, out_channels)`, as diffusers' `unet(x_t, t,
    encoder_hidden_states=context).sample` channels last.

    Example:

    ```python
    network = kgen.networks.DiffusersConditionalUNet(
        "sd/unet/config.json", context_length=77
    )
    ```
    """

    def __init__(
        self,
        config,
        image_shape=None,
        context_length=77,
        timestep_dtype="int32",
        **kwargs,
    ):
        config = conditional_unet_config(config)
        image_shape = sample_shape(config, image_shape)
        inputs, outputs = _graph(
            config, image_shape, context_length, timestep_dtype
        )
        kwargs.setdefault("name", "diffusers_conditional_unet")
        super().__init__(inputs, outputs, **kwargs)
        self.unet_config = config
        # The config read and checked, not the path it may have come from.
        record_argument(self, "config", config)
        self.image_shape = tuple(image_shape)


def _graph(config, image_shape, context_length, timestep_dtype):
    heads = _per_level(config, "attention_head_dim")
    depths = _per_level(config, "transformer_layers_per_block")
    context_dims = _per_level(config, "cross_attention_dim")
    if len(set(context_dims)) > 1:
        raise ValueError(
            "`cross_attention_dim` differs between levels "
            f"({context_dims}); kgen takes one text context."
        )
    images = keras.Input(image_shape, name="noisy_images")
    timesteps = timestep_input(timestep_dtype)
    context = keras.Input((context_length, context_dims[0]), name="context")
    block = DiffusersBlocks(
        time_embedding(timesteps, config),
        config["norm_num_groups"],
        config["norm_eps"],
        None,
    )
    linear = config["use_linear_projection"]

    # The U-Net's attention blocks are transformers over the context.
    def attend(x, level, name):
        level = -1 if level is None else level
        return _transformer(
            x, context, heads[level], depths[level], linear, block, name
        )

    outputs = unet_body(
        images, block, config, attend, _per_level(config, "layers_per_block")
    )
    return [images, timesteps, context], outputs


def _transformer(x, context, num_heads, depth, linear, block, name):
    """diffusers' `Transformer2DModel` on a feature map."""
    _, height, width, channels = x.shape
    h = GroupNormalization(block.groups, epsilon=1e-6, name=f"{name}-norm")(x)
    if linear:
        h = layers.Reshape((height * width, channels))(h)
        h = layers.Dense(channels, name=f"{name}-proj_in")(h)
    else:
        h = layers.Conv2D(channels, 1, name=f"{name}-proj_in")(h)
        h = layers.Reshape((height * width, channels))(h)
    for index in range(depth):
        prefix = f"{name}-transformer_blocks-{index}"
        for part, source in (("1", None), ("2", context)):
            normed = layers.LayerNormalization(
                epsilon=1e-5, name=f"{prefix}-norm{part}"
            )(h)
            h = h + _attention(
                normed, source, num_heads, channels, f"{prefix}-attn{part}"
            )
        normed = layers.LayerNormalization(
            epsilon=1e-5, name=f"{prefix}-norm3"
        )(h)
        projected = layers.Dense(8 * channels, name=f"{prefix}-ff-net-0-proj")(
            normed
        )
        hidden, gate = (
            projected[..., : 4 * channels],
            projected[..., 4 * channels :],
        )
        h = h + layers.Dense(channels, name=f"{prefix}-ff-net-2")(
            hidden * ops.gelu(gate, approximate=False)
        )
    if linear:
        h = layers.Dense(channels, name=f"{name}-proj_out")(h)
        h = layers.Reshape((height, width, channels))(h)
    else:
        h = layers.Reshape((height, width, channels))(h)
        h = layers.Conv2D(channels, 1, name=f"{name}-proj_out")(h)
    return x + h


def _attention(x, context, num_heads, channels, name):
    attention = MultiHeadAttention(num_heads, channels // num_heads, name=name)
    outputs = attention(x, x if context is None else context)
    # The checkpoint's query, key and value projections have no bias.
    attention.projection_bias = False
    for dense in (
        attention._query_dense,
        attention._key_dense,
        attention._value_dense,
    ):
        dense.bias.trainable = False
    return outputs


def unstored_parameters(config):
    """How many of the network's parameters its checkpoint does not
    store: the zero, frozen query, key and value biases, three of the
    level's width in each of a transformer block's two attentions."""
    widths = config["block_out_channels"]
    depths = _per_level(config, "transformer_layers_per_block")
    layers = _per_level(config, "layers_per_block")
    channels = depths[-1] * widths[-1]  # the middle block's
    for kind, width, count, depth in zip(
        config["down_block_types"], widths, layers, depths
    ):
        if kind.startswith("CrossAttn"):
            channels += count * depth * width
    for kind, width, count, depth in zip(
        config["up_block_types"],
        widths[::-1],
        layers[::-1],
        depths[::-1],
    ):
        if kind.startswith("CrossAttn"):
            channels += (count + 1) * depth * width
    return 2 * 3 * channels
