"""A small bidirectional Transformer text encoder."""

import keras
from keras import layers

from kgen.layers.learned_constant import LearnedConstant
from kgen.networks.transformer_blocks import bidirectional_blocks
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_num_heads


@keras.saving.register_keras_serializable(package="kgen")
def text_encoder(
    vocabulary_size,
    sequence_length,
    width=64,
    num_layers=2,
    num_heads=4,
    name="text_encoder",
):
    """A pre-norm Transformer encoder `token ids -> token embeddings`.

    Token and learned position embeddings, then `num_layers` blocks of
    bidirectional self-attention and a GELU MLP, each residual, and a final
    LayerNorm:

    ```
    h = embed(ids) + positions
    h = h + MHA(LN(h), LN(h));  h = h + W_2 gelu(W_1 LN(h))   (per block)
    out = LN(h)                 (batch, sequence_length, width)
    ```

    Every position is attended to, padding included, as Stable Diffusion's
    denoiser reads all 77 CLIP positions of a padded prompt: the padding
    ids (0) learn their own embedding, and the empty prompt (all padding)
    is the unconditional input of classifier-free guidance. Trained jointly
    with the denoiser, like Latent Diffusion's `BERTEmbedder` (Rombach et
    al. 2022, section 4.3.2).

    Args:
        vocabulary_size: int. Ids lie in `[0, vocabulary_size)`
            (`WordTokenizer.vocabulary_size`).
        sequence_length: int. Ids per text.
        width: int. Embedding size, divisible by `num_heads`.
        num_layers: int. Transformer blocks.
        num_heads: int. Attention heads.

    Returns:
        A functional `keras.Model`: int `(batch, sequence_length)` ->
        float `(batch, sequence_length, width)`.
    """
    vocabulary_size = validate_int(vocabulary_size, "vocabulary_size")
    sequence_length = validate_int(sequence_length, "sequence_length")
    width = validate_int(width, "width")
    num_layers = validate_int(num_layers, "num_layers", minimum=0)
    num_heads = validate_num_heads(num_heads, width, "width")
    ids = keras.Input((sequence_length,), dtype="int32", name="token_ids")
    h = layers.Embedding(vocabulary_size, width, name="token_embedding")(ids)
    positions = LearnedConstant(
        (sequence_length, width),
        initializer=keras.initializers.RandomNormal(stddev=0.02),
        name="position_embedding",
    )(ids)
    h = bidirectional_blocks(h + positions, num_layers, num_heads, "block")
    outputs = layers.LayerNormalization(name="out_norm")(h)
    return keras.Model(ids, outputs, name=name)
