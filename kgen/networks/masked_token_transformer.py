"""The bidirectional Transformer of a MaskGIT token model."""

import math

import keras
from keras import layers

from kgen.layers.learned_constant import LearnedConstant
from kgen.networks.transformer_blocks import bidirectional_blocks
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_num_heads
from kgen.utils.argument_validation import validate_shape


@keras.saving.register_keras_serializable(package="kgen")
def masked_token_transformer(
    code_shape,
    num_levels,
    width=128,
    num_layers=4,
    num_heads=4,
    num_classes=None,
    name="masked_token_transformer",
):
    """A bidirectional Transformer `[tokens(, labels)] -> logits` over a
    grid of code indices, some replaced by a `[MASK]` token.

    Token ids lie in `[0, num_levels]`, `num_levels` meaning `[MASK]`;
    the grid is flattened to a sequence with learned position embeddings.
    A class-conditional network prepends one class token (MaskGIT's
    layout; id `num_classes` is "no class", for classifier-free
    guidance), attended to by every position and dropped from the output.

    Args:
        code_shape: tuple of ints. One grid, e.g. `(7, 7)`.
        num_levels: int. Codebook size: the logits' last axis.
        width: int. Embedding size, divisible by `num_heads`.
        num_layers: int. Transformer blocks.
        num_heads: int.
        num_classes: int or `None`. Adds an int `labels` input in
            `[0, num_classes]`.

    Returns:
        A functional `keras.Model`: int `(batch, *code_shape)` (and
        `(batch,)` labels) -> float `(batch, *code_shape, num_levels)`.

    References:
        1. Chang et al. MaskGIT: Masked Generative Image Transformer.
           2022. arXiv:2202.04200.
    """
    code_shape = validate_shape(code_shape, "code_shape")
    num_levels = validate_int(num_levels, "num_levels", minimum=2)
    width = validate_int(width, "width")
    num_layers = validate_int(num_layers, "num_layers")
    num_heads = validate_num_heads(num_heads, width, "width")
    length = math.prod(code_shape)
    tokens = keras.Input(code_shape, dtype="int32", name="tokens")
    inputs = [tokens]
    flat = layers.Reshape((length,))(tokens)
    h = layers.Embedding(num_levels + 1, width, name="token_embedding")(flat)
    if num_classes is not None:
        labels = keras.Input((), dtype="int32", name="labels")
        inputs.append(labels)
        class_token = layers.Embedding(
            num_classes + 1, width, name="class_embedding"
        )(layers.Reshape((1,))(labels))
        h = layers.Concatenate(axis=1)([class_token, h])
    positions = LearnedConstant(
        (h.shape[1], width),
        initializer=keras.initializers.RandomNormal(stddev=0.02),
        name="position_embedding",
    )(tokens)
    h = bidirectional_blocks(h + positions, num_layers, num_heads, "block")
    h = layers.LayerNormalization(name="out_norm")(h)
    if num_classes is not None:
        h = layers.Cropping1D((1, 0), name="drop_class_token")(h)
    logits = layers.Dense(num_levels, name="logits")(h)
    outputs = layers.Reshape(code_shape + (num_levels,))(logits)
    return keras.Model(inputs, outputs, name=name)
