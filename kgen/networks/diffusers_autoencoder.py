"""diffusers' `AutoencoderKL` (Stable Diffusion's first stage) as two
Keras networks, and its weights.

As `DiffusersUNet`, each network is diffusers' own graph built from the
checkpoint's `config.json`, channels last, each layer named by its
module's path in the state dict (`-` for `.`):

```
encoder:  moments = quant_conv(conv_out(silu(conv_norm_out(
              mid(down_blocks(conv_in(x)))))))       (2 c channels)
decoder:  x = conv_out(silu(conv_norm_out(
              up_blocks(mid(conv_in(post_quant_conv(z)))))))
mid:      resnet -> attention (one head) -> resnet
down:     per level: layers_per_block resnets, then (not the last) a
          stride-2 convolution padded (0, 1) on the far sides
up:       per level, deepest first: layers_per_block + 1 resnets, then
          (not the last) nearest 2x and a convolution
```

The resnets take no time embedding; every group normalization has
epsilon 1e-6. The moments are the posterior's mean and log-variance,
concatenated on the channel axis, which is what
`kgen.models.KLAutoencoder` reads, so the autoencoder's
`encode(x).mean()` is diffusers' `latent_dist.mean` and its `decode`
diffusers' `decode(z).sample`.
"""

from keras import layers

from kgen.layers.group_normalization import GroupNormalization
from kgen.layers.up_sampling_conv2d import UpSamplingConv2D
from kgen.networks.diffusers_unet import DiffusersBlocks
from kgen.networks.diffusers_unet import checked_config
from kgen.networks.diffusers_unet import conv3x3

# diffusers' `AutoencoderKL` constructor defaults.
DEFAULTS = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ("DownEncoderBlock2D",),
    "up_block_types": ("UpDecoderBlock2D",),
    "block_out_channels": (64,),
    "layers_per_block": 1,
    "act_fn": "silu",
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 32,
    "scaling_factor": 0.18215,
    "shift_factor": None,
    "latents_mean": None,
    "latents_std": None,
    "force_upcast": True,
    "use_quant_conv": True,
    "use_post_quant_conv": True,
    "mid_block_add_attention": True,
}
# diffusers' `Encoder` and `Decoder` fix these.
EPSILON = 1e-6


def autoencoder_config(config):
    """`config` (an `AutoencoderKL` `config.json`, as a dict or a path)
    with diffusers' defaults filled in, checked: a `ValueError` names
    every key kgen does not build as diffusers does."""
    config = checked_config(config, "AutoencoderKL", DEFAULTS, {})
    levels = len(config["block_out_channels"])
    for key, block in (
        ("down_block_types", "DownEncoderBlock2D"),
        ("up_block_types", "UpDecoderBlock2D"),
    ):
        if list(config[key]) != [block] * levels:
            raise ValueError(
                f"`{key}` must be {levels} x {block!r} (one per "
                f"block_out_channels); received {config[key]}."
            )
    if config["act_fn"] not in ("silu", "swish"):
        raise ValueError(
            f"`act_fn` {config['act_fn']!r} is not built here (silu only)."
        )
    return config


def encoder_graph(config, image_shape):
    """`(inputs, moments)` of the encoder and its `quant_conv`."""
    widths = list(config["block_out_channels"])
    block = DiffusersBlocks(None, config["norm_num_groups"], EPSILON, None)
    images = layers.Input(tuple(image_shape), name="images")
    x = conv3x3(widths[0], "encoder-conv_in")(images)
    for level, width in enumerate(widths):
        name = f"encoder-down_blocks-{level}"
        for index in range(config["layers_per_block"]):
            x = block.resnet(x, width, f"{name}-resnets-{index}")
        if level < len(widths) - 1:
            x = layers.ZeroPadding2D(((0, 1), (0, 1)))(x)
            x = conv3x3(
                width,
                f"{name}-downsamplers-0-conv",
                strides=2,
                padding="valid",
            )(x)
    x = _middle(x, block, widths[-1], config, "encoder")
    x = _out(x, config["norm_num_groups"], "encoder")
    moments = conv3x3(2 * config["latent_channels"], "encoder-conv_out")(x)
    if config["use_quant_conv"]:
        moments = layers.Conv2D(moments.shape[-1], 1, name="quant_conv")(
            moments
        )
    return images, moments


def decoder_graph(config, latent_shape):
    """`(inputs, images)` of the `post_quant_conv` and the decoder."""
    widths = list(config["block_out_channels"])
    block = DiffusersBlocks(None, config["norm_num_groups"], EPSILON, None)
    latents = layers.Input(tuple(latent_shape), name="latents")
    x = latents
    if config["use_post_quant_conv"]:
        x = layers.Conv2D(latents.shape[-1], 1, name="post_quant_conv")(x)
    x = conv3x3(widths[-1], "decoder-conv_in")(x)
    x = _middle(x, block, widths[-1], config, "decoder")
    for index, width in enumerate(reversed(widths)):
        name = f"decoder-up_blocks-{index}"
        for inner in range(config["layers_per_block"] + 1):
            x = block.resnet(x, width, f"{name}-resnets-{inner}")
        if index < len(widths) - 1:
            x = UpSamplingConv2D(width, name=f"{name}-upsamplers-0-conv")(x)
    x = _out(x, config["norm_num_groups"], "decoder")
    return latents, conv3x3(config["out_channels"], "decoder-conv_out")(x)


def _middle(x, block, width, config, prefix):
    name = f"{prefix}-mid_block"
    x = block.resnet(x, width, f"{name}-resnets-0")
    if config["mid_block_add_attention"]:
        x = block.attention(x, f"{name}-attentions-0")
    return block.resnet(x, width, f"{name}-resnets-1")


def _out(x, groups, prefix):
    x = GroupNormalization(
        groups, epsilon=EPSILON, name=f"{prefix}-conv_norm_out"
    )(x)
    return layers.Activation("silu")(x)


def latent_shape_of(config, image_shape):
    """The latent grid of `image_shape`: halved per level but the last."""
    factor = 2 ** (len(config["block_out_channels"]) - 1)
    height, width = image_shape[:2]
    if height % factor or width % factor:
        raise ValueError(
            f"`image_shape` {tuple(image_shape)} must have sides divisible "
            f"by {factor}, the autoencoder's downsampling."
        )
    return (height // factor, width // factor, config["latent_channels"])
