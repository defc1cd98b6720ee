"""CLIP's text encoder (transformers' `CLIPTextModel`) as a Keras network.

The text tower Stable Diffusion 1.x and 2.x condition their U-Net on
(a pipeline's `text_encoder/`), built from its `config.json` with every
layer named by its module's path in the state dict (`-` for `.`), so
that a checkpoint's tensors map one to one:

```
h = token_embedding(ids) + position_embedding[:L]
per layer:
  h = h + out_proj(causal_attention(q_proj, k_proj, v_proj of LN_1(h)))
  h = h + fc2(act(fc1(LN_2(h))))     act: quick_gelu x sigmoid(1.702 x)
                                          or the exact gelu (SD 2.x)
out = final_layer_norm(h)            (batch, L, hidden_size)
```

`out` is what a Stable Diffusion pipeline passes its U-Net as
`encoder_hidden_states` (transformers' `last_hidden_state`). The
pooled and projected outputs, which Stable Diffusion 1.x and 2.x do not
read, are not built.
"""

import json
import math
import os

import keras
import numpy as np
from keras import layers
from keras import ops

from kgen.layers.learned_constant import LearnedConstant
from kgen.layers.multi_head_attention import MultiHeadAttention
from kgen.networks.diffusers_weights import diffusers_weights
from kgen.networks.diffusers_weights import load_diffusers_weights
from kgen.utils.json_file import read_json
from kgen.utils.recorded_config import RecordedConfig
from kgen.utils.recorded_config import record_argument
from kgen.utils.safetensors_file import read_safetensors
from kgen.utils.safetensors_file import safetensors_header
from kgen.utils.unreadable_file_error import UnreadableFileError

WEIGHTS = "model.safetensors"
# transformers' `CLIPTextConfig` defaults.
DEFAULTS = {
    "vocab_size": 49408,
    "hidden_size": 512,
    "intermediate_size": 2048,
    "num_hidden_layers": 12,
    "num_attention_heads": 8,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "layer_norm_eps": 1e-5,
    "attention_dropout": 0.0,
}
# The largest size each key may take: a config of a few bytes cannot ask
# for more (OpenCLIP's ViT-bigG text tower is 1,280 wide, 32 layers).
SIZE_BOUNDS = {
    "vocab_size": 2**20,
    "hidden_size": 2**13,
    "intermediate_size": 2**15,
    "num_hidden_layers": 2**7,
    "num_attention_heads": 2**7,
    "max_position_embeddings": 2**12,
}
ACTIVATIONS = ("quick_gelu", "gelu")
# transformers' names of the attention projections -> the names
# `load_diffusers_weights` reads a `MultiHeadAttention`'s by.
PROJECTIONS = {
    ".q_proj.": ".to_q.",
    ".k_proj.": ".to_k.",
    ".v_proj.": ".to_v.",
    ".out_proj.": ".to_out.0.",
}
# The state dict's prefix as the field's checkpoints store it
# (transformers 4); transformers 5 saves the same keys without it.
PREFIX = "text_model."
# A buffer older checkpoints store beside the weights: `arange(L)`.
POSITION_IDS = "text_model.embeddings.position_ids"


def clip_text_config(config):
    """`config` (a `CLIPTextModel` `config.json`, as a dict or a path)
    with transformers' defaults filled in, checked: a `ValueError` names
    a config of another model and every value kgen does not build."""
    if not isinstance(config, dict):
        with open(config, encoding="utf-8") as handle:
            config = json.load(handle)
    kind = config.get("model_type", "clip_text_model")
    architectures = config.get("architectures") or ["CLIPTextModel"]
    if kind != "clip_text_model" or architectures != ["CLIPTextModel"]:
        raise ValueError(
            f"`config` describes a {kind} {architectures}; only "
            "transformers' CLIPTextModel (model_type 'clip_text_model') is "
            "built here."
        )
    config = dict(DEFAULTS, **config)
    for key, bound in SIZE_BOUNDS.items():
        value = config[key]
        if type(value) is not int or not 1 <= value <= bound:
            raise ValueError(
                f"`{key}` must be an int in [1, {bound}]; received {value!r}."
            )
    if config["hidden_size"] % config["num_attention_heads"]:
        raise ValueError(
            f"`hidden_size` {config['hidden_size']} must be divisible by "
            f"`num_attention_heads` {config['num_attention_heads']}."
        )
    if config["hidden_act"] not in ACTIVATIONS:
        raise ValueError(
            f"`hidden_act` must be one of {ACTIVATIONS}; received "
            f"{config['hidden_act']!r}."
        )
    epsilon = config["layer_norm_eps"]
    if not isinstance(epsilon, (int, float)) or not 0 < epsilon < 1:
        raise ValueError(
            f"`layer_norm_eps` must be a number in (0, 1); received "
            f"{epsilon!r}."
        )
    return config


def count_parameters(config):
    """The parameters of the `CLIPTextModel` of (checked) `config`, in
    closed form: what its checkpoint must store."""
    width, inner = config["hidden_size"], config["intermediate_size"]
    per_layer = 4 * (width * width + width)  # q, k, v, out
    per_layer += 2 * width * inner + inner + width  # fc1, fc2
    per_layer += 2 * 2 * width  # two layer norms
    return (
        (config["vocab_size"] + config["max_position_embeddings"]) * width
        + config["num_hidden_layers"] * per_layer
        + 2 * width
    )


@keras.saving.register_keras_serializable(package="kgen")
class ClipTextEncoder(RecordedConfig, keras.Model):
    """transformers' `CLIPTextModel` in Keras: token ids in, its
    `last_hidden_state` out.

    A functional model whose config is the checkpoint's own. Built
    from a folder with `ClipTextEncoder.from_transformers(folder)` (a
    pipeline's `text_encoder/`: `config.json`, `model.safetensors`).

    Args:
        config: dict or path of a `CLIPTextModel` `config.json`.

    Input `token_ids`: int `(batch, max_position_embeddings)`, as
    `kgen.tokenizers.ClipTokenizer` pads them; output `(batch,
    max_position_embeddings, hidden_size)`.

    Example:

    ```python
    encoder = kgen.networks.ClipTextEncoder.from_transformers(
        "stable-diffusion/text_encoder"
    )
    tokenizer = kgen.tokenizers.ClipTokenizer.from_folder(
        "stable-diffusion/tokenizer"
    )
    context = encoder(tokenizer.tokenize(["a red apple"]))
    ```
    """

    def __init__(self, config, **kwargs):
        config = clip_text_config(config)
        inputs, outputs = _clip_text_graph(config)
        kwargs.setdefault("name", "clip_text_encoder")
        super().__init__(inputs, outputs, **kwargs)
        self.clip_config = config
        # The config read and checked, not the path it may have come from.
        record_argument(self, "config", config)

    @classmethod
    def from_transformers(cls, folder):
        """The encoder of a `CLIPTextModel` folder (`config.json`,
        `model.safetensors`), every weight assigned; a folder whose
        config kgen does not build, or whose tensors are missing,
        unknown or of another shape, is refused naming the file."""
        folder = os.fspath(folder)
        config_path = os.path.join(folder, "config.json")
        weights_path = os.path.join(folder, WEIGHTS)
        if not os.path.isfile(weights_path):
            raise FileNotFoundError(
                f"{folder} has no {WEIGHTS}: kgen reads a checkpoint's "
                "weights from safetensors (`save_pretrained`'s default), "
                "not from a pickled .bin."
            )
        try:
            config = clip_text_config(read_json(config_path))
        except UnreadableFileError:
            raise
        except ValueError as error:
            raise UnreadableFileError(f"{config_path}: {error}") from None
        # Counted before anything is allocated: a config asking for more
        # parameters than the file stores is refused before it is built.
        stored = sum(
            math.prod(shape)
            for name, (_, shape) in safetensors_header(weights_path).items()
            if name not in (POSITION_IDS, POSITION_IDS[len(PREFIX) :])
        )
        if count_parameters(config) != stored:
            raise UnreadableFileError(
                f"{weights_path} stores {stored:,} parameters; the "
                f"CLIPTextModel of {config_path} has "
                f"{count_parameters(config):,}."
            )
        encoder = cls(config)
        tensors, _ = read_safetensors(weights_path)
        try:
            load_clip_weights(encoder, tensors)
        except ValueError as error:
            raise UnreadableFileError(f"{weights_path}: {error}") from None
        return encoder


def load_clip_weights(encoder, tensors):
    """Assigns a `CLIPTextModel` state dict (name -> NumPy array) to
    `encoder`; a `ValueError` names what is missing, left over or of
    another shape."""
    tensors = {
        name if name.startswith(PREFIX) else PREFIX + name: value
        for name, value in tensors.items()
    }
    position_ids = tensors.pop(POSITION_IDS, None)
    if position_ids is not None:
        length = encoder.clip_config["max_position_embeddings"]
        expected = np.arange(length)[None]
        if np.shape(position_ids) != expected.shape or np.any(
            position_ids != expected
        ):
            raise ValueError(
                f"`{POSITION_IDS}` must be arange({length}) (transformers' "
                "buffer); this checkpoint stores other positions."
            )
    load_diffusers_weights(
        encoder, {_renamed(name): value for name, value in tensors.items()}
    )


def clip_weights(encoder):
    """The state dict of `encoder` in torch's layout and the names of
    the field's checkpoints (`text_model.` first), which
    `CLIPTextModel.from_pretrained` reads in transformers 4 and 5."""
    inverse = {new: old for old, new in PROJECTIONS.items()}
    return {
        _renamed(name, inverse): value
        for name, value in diffusers_weights(encoder).items()
    }


def _renamed(name, table=PROJECTIONS):
    for old, new in table.items():
        name = name.replace(old, new)
    return name


def _clip_text_graph(config):
    length = config["max_position_embeddings"]
    width = config["hidden_size"]
    heads = config["num_attention_heads"]
    epsilon = config["layer_norm_eps"]
    ids = keras.Input((length,), dtype="int32", name="token_ids")

    # 1. Tokens and their learned positions.
    prefix = "text_model-embeddings"
    h = layers.Embedding(
        config["vocab_size"], width, name=f"{prefix}-token_embedding"
    )(ids)
    h = h + LearnedConstant(
        (length, width),
        initializer=keras.initializers.RandomNormal(stddev=0.02),
        name=f"{prefix}-position_embedding",
    )(ids)

    # 2. Pre-norm blocks, each position attending to itself and before.
    for index in range(config["num_hidden_layers"]):
        name = f"text_model-encoder-layers-{index}"
        y = layers.LayerNormalization(
            epsilon=epsilon, name=f"{name}-layer_norm1"
        )(h)
        h = h + MultiHeadAttention(
            heads, width // heads, name=f"{name}-self_attn"
        )(y, y, use_causal_mask=True)
        y = layers.LayerNormalization(
            epsilon=epsilon, name=f"{name}-layer_norm2"
        )(h)
        y = layers.Dense(config["intermediate_size"], name=f"{name}-mlp-fc1")(y)
        y = _activation(y, config["hidden_act"])
        h = h + layers.Dense(width, name=f"{name}-mlp-fc2")(y)

    # 3. The last norm: `last_hidden_state`.
    outputs = layers.LayerNormalization(
        epsilon=epsilon, name="text_model-final_layer_norm"
    )(h)
    return ids, outputs


def _activation(x, kind):
    if kind == "quick_gelu":
        # OpenAI CLIP's own approximation, which its weights were
        # trained with (transformers' QuickGELUActivation).
        return x * ops.sigmoid(1.702 * x)
    return ops.gelu(x, approximate=False)
