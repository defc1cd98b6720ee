"""diffusers' `DiTTransformer2DModel` as a Keras network.

As `DiffusersUNet`, the graph is diffusers' own, built from the
checkpoint's `config.json`, channels last, each layer named by its
module's path in the state dict (`-` for `.`), so that
`load_diffusers_weights` and `diffusers_weights` map every tensor:

```
x = patchify_conv(x_t) + P                 P: fixed sine-cosine table,
                                              columns' half first
per block b (each with its own conditioning, as diffusers keeps it):
  c_b = timestep_embedder_b(sinusoid_256(t)) + class_embedder_b(y)
  shift1, scale1, gate1, shift2, scale2, gate2 = linear_b(silu(c_b))
  x = x + gate1 * attn(LN_1e-6(x) (1 + scale1) + shift1)
  x = x + gate2 * ff(LN(x) (1 + scale2) + shift2)      ff: tanh-GELU MLP
shift, scale = proj_out_1(silu(c_0))
out = unpatchify(proj_out_2(LN_1e-6(x) (1 + scale) + shift))
```

kgen's own `dit_denoiser` shares one conditioning over its blocks and
orders its position table rows first; a checkpoint's numbers depend on
both, hence this graph.
"""

import keras
import numpy as np
from keras import layers
from keras import ops

from kgen.layers.multi_head_attention import MultiHeadAttention
from kgen.layers.sinusoidal_embedding import SinusoidalEmbedding
from kgen.networks.denoiser_inputs import timestep_input
from kgen.networks.diffusers_unet import checked_config
from kgen.utils.recorded_config import RecordedConfig
from kgen.utils.recorded_config import record_argument

# diffusers' `DiTTransformer2DModel` constructor defaults.
DEFAULTS = {
    "num_attention_heads": 16,
    "attention_head_dim": 72,
    "in_channels": 4,
    "out_channels": None,
    "num_layers": 28,
    "dropout": 0.0,
    "norm_num_groups": 32,
    "attention_bias": True,
    "sample_size": 32,
    "patch_size": 2,
    "activation_fn": "gelu-approximate",
    "num_embeds_ada_norm": 1000,
    "upcast_attention": False,
    "norm_type": "ada_norm_zero",
    "norm_elementwise_affine": False,
    "norm_eps": 1e-5,
}
SUPPORTED = {
    "attention_bias": (True,),
    "activation_fn": ("gelu-approximate",),
    "norm_type": ("ada_norm_zero",),
}
# The most values of a DiT's position table (DiT-XL/2 at 512 px has
# 1,024 patches of width 1,152: 1.2M).
MAX_POSITION_VALUES = 2**24
# diffusers' DiT embeds the timestep with 256 sinusoids, shifted by one.
TIME_CHANNELS = 256


def dit_config(config):
    """`config` (a `DiTTransformer2DModel` `config.json`, as a dict or a
    path) with diffusers' defaults filled in, checked: a `ValueError`
    names every key kgen does not build as diffusers does."""
    config = checked_config(
        config, "DiTTransformer2DModel", DEFAULTS, SUPPORTED
    )
    if not config["num_embeds_ada_norm"]:
        raise ValueError(
            "`num_embeds_ada_norm` must be the number of classes (diffusers "
            "requires it with ada_norm_zero)."
        )
    if config["sample_size"] % config["patch_size"]:
        raise ValueError(
            f"`sample_size` {config['sample_size']} must be divisible by "
            f"`patch_size` {config['patch_size']}."
        )
    # The position table is computed while the graph is built, before
    # any weight is compared: its size is bounded here.
    patches = (config["sample_size"] // config["patch_size"]) ** 2
    width = config["num_attention_heads"] * config["attention_head_dim"]
    if patches * width > MAX_POSITION_VALUES:
        raise ValueError(
            f"`sample_size` {config['sample_size']} / `patch_size` "
            f"{config['patch_size']} gives {patches:,} patches of width "
            f"{width:,}, a position table above {MAX_POSITION_VALUES:,} "
            "values."
        )
    return config


@keras.saving.register_keras_serializable(package="kgen")
class DiffusersDiT(RecordedConfig, keras.Model):
    """diffusers' `DiTTransformer2DModel` graph in Keras, channels last.

    A functional model whose config is the checkpoint's own (so a saved
    model can still be written back for diffusers).

    Args:
        config: dict or path of a `DiTTransformer2DModel` `config.json`.
        timestep_dtype: "int32" or "float32", the `timesteps` input.
        output_channels: `None` for all of the transformer's
            `out_channels`, or how many of the first to keep: diffusers'
            `DiTPipeline` keeps the noise half of a learned-variance
            output (`out_channels` twice `in_channels`) and drops the
            variance.

    Inputs `[noisy_images, timesteps, labels]` (labels in `[0,
    num_embeds_ada_norm]`, the last the "no class" of classifier-free
    guidance, as kgen's), output `(batch, sample_size, sample_size,
    out_channels)`.

    Example:

    ```python
    network = kgen.networks.DiffusersDiT("dit/transformer/config.json")
    ```
    """

    def __init__(
        self, config, timestep_dtype="int32", output_channels=None, **kwargs
    ):
        config = dit_config(config)
        inputs, outputs = _dit_graph(config, timestep_dtype)
        if output_channels is not None:
            if not 1 <= output_channels <= outputs.shape[-1]:
                raise ValueError(
                    f"`output_channels` must be in [1, {outputs.shape[-1]}] "
                    f"(the transformer's out_channels); received "
                    f"{output_channels}."
                )
            outputs = outputs[..., :output_channels]
        kwargs.setdefault("name", "diffusers_dit")
        super().__init__(inputs, outputs, **kwargs)
        self.dit_config = config
        # The config read and checked, not the path it may have come from.
        record_argument(self, "config", config)


def _dit_graph(config, timestep_dtype):
    size, patch = config["sample_size"], config["patch_size"]
    heads, head_dim = (
        config["num_attention_heads"],
        config["attention_head_dim"],
    )
    width = heads * head_dim
    out_channels = config["out_channels"] or config["in_channels"]
    images = keras.Input(
        (size, size, config["in_channels"]), name="noisy_images"
    )
    timesteps = timestep_input(timestep_dtype)
    labels = keras.Input((), dtype="int32", name="labels")

    # 1. Patches and their fixed positions.
    grid = size // patch
    x = layers.Conv2D(width, patch, strides=patch, name="pos_embed-proj")(
        images
    )
    x = layers.Reshape((grid * grid, width))(x)
    x = x + position_table(grid, width)

    # 2. The blocks, each with its own conditioning.
    time = SinusoidalEmbedding(
        TIME_CHANNELS, frequency_shift=1, flip_sin_to_cos=True, name="time_proj"
    )(timesteps)
    conditionings = []
    for index in range(config["num_layers"]):
        name = f"transformer_blocks-{index}"
        conditioning = _conditioning(time, labels, config, width, name)
        conditionings.append(conditioning)
        modulation = layers.Dense(6 * width, name=f"{name}-norm1-linear")(
            ops.silu(conditioning)
        )
        shift1, scale1, gate1, shift2, scale2, gate2 = (
            modulation[:, None, i * width : (i + 1) * width] for i in range(6)
        )
        h = _plain_norm(1e-6, f"{name}-norm1-norm")(x)
        h = h * (1 + scale1) + shift1
        h = MultiHeadAttention(heads, head_dim, name=f"{name}-attn1")(h, h)
        x = x + gate1 * h
        h = layers.LayerNormalization(
            epsilon=config["norm_eps"],
            center=config["norm_elementwise_affine"],
            scale=config["norm_elementwise_affine"],
            name=f"{name}-norm3",
        )(x)
        h = h * (1 + scale2) + shift2
        h = layers.Dense(4 * width, name=f"{name}-ff-net-0-proj")(h)
        h = layers.Dense(width, name=f"{name}-ff-net-2")(
            ops.gelu(h, approximate=True)
        )
        x = x + gate2 * h

    # 3. Out, modulated by the first block's conditioning (diffusers').
    shift_and_scale = layers.Dense(2 * width, name="proj_out_1")(
        ops.silu(conditionings[0])
    )
    shift, scale = (
        shift_and_scale[:, None, :width],
        shift_and_scale[:, None, width:],
    )
    x = _plain_norm(1e-6, "norm_out")(x) * (1 + scale) + shift
    x = layers.Dense(patch * patch * out_channels, name="proj_out_2")(x)
    x = layers.Reshape((grid, grid, patch, patch, out_channels))(x)
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    x = layers.Reshape((size, size, out_channels))(x)
    return [images, timesteps, labels], x


def _conditioning(time, labels, config, width, name):
    prefix = f"{name}-norm1-emb"
    t = layers.Dense(
        width, activation="silu", name=f"{prefix}-timestep_embedder-linear_1"
    )(time)
    t = layers.Dense(width, name=f"{prefix}-timestep_embedder-linear_2")(t)
    # The "no class" row of classifier-free guidance is the last.
    y = layers.Embedding(
        config["num_embeds_ada_norm"] + 1,
        width,
        name=f"{prefix}-class_embedder-embedding_table",
    )(labels)
    return t + y


def _plain_norm(epsilon, name):
    return layers.LayerNormalization(
        epsilon=epsilon, center=False, scale=False, name=name
    )


def position_table(grid, width):
    """diffusers' (and DiT's) 2-D sine-cosine table for a square `grid`
    of patches, row-major: the first half of each row encodes the
    column, the second the row, each as
    `[sin(p omega), cos(p omega)]`, `omega_k = 10000 ** (-k / (width /
    4))`, computed in float64 as diffusers does."""
    quarter = width // 4
    omega = 1.0 / 10000 ** (np.arange(quarter, dtype="float64") / quarter)
    rows, columns = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")

    def encode(positions):
        angles = np.outer(positions.reshape(-1).astype("float64"), omega)
        return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)

    table = np.concatenate([encode(columns), encode(rows)], axis=1)
    return table.astype("float32")[None]
