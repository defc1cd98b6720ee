import keras
from keras import ops

from kgen import backend
from kgen.layers.adaptive_layer_normalization import AdaptiveLayerNormalization
from kgen.layers.multi_head_attention import MultiHeadAttention
from kgen.utils.argument_validation import validate_bool
from kgen.utils.argument_validation import validate_int
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class DiTBlock(RecordedConfig, keras.layers.Layer):
    """A DiT block: gated self-attention and MLP under adaLN-Zero.

    ```
    (y, g_1) = adaLN_1(x, c);  x = x + g_1 * SelfAttention(y)
    x = x + CrossAttention(LN(x), context)          (with a context)
    (y, g_2) = adaLN_2(x, c);  x = x + g_2 * W_2 gelu(W_1 y)
    ```

    `c` is the conditioning vector (time, class, pooled text); the gates
    start at zero, so the block starts as the identity (Peebles and Xie
    2023, "adaLN-Zero"). With `cross_attention`, the tokens also attend
    to a text encoder's token embeddings, as DiT's cross-attention
    variant and Stable Diffusion's transformer blocks do. Attention goes
    through `keras.layers.MultiHeadAttention`, which calls
    `keras.ops.dot_product_attention` (a fused kernel where the backend
    has one).

    Called on `[x, c]` or `[x, c, context]`: tokens `(batch, length,
    width)`, `c` of shape `(batch, conditioning_dim)`, `context` of shape
    `(batch, context_length, context_dim)`.

    Args:
        num_heads: int. Attention heads; must divide the token width.
        mlp_ratio: int. The MLP's hidden width over the token width.
        cross_attention: bool. Attend to a `context` input too.

    Example:

    >>> block = DiTBlock(num_heads=2)
    >>> x, c = keras.ops.ones((2, 4, 8)), keras.ops.ones((2, 16))
    >>> tuple(block([x, c]).shape)
    (2, 4, 8)

    References:
        Peebles and Xie, "Scalable Diffusion Models with Transformers",
        2023, https://arxiv.org/abs/2212.09748.
    """

    def __init__(self, num_heads, mlp_ratio=4, cross_attention=False, **kw):
        super().__init__(**kw)
        self.num_heads = validate_int(num_heads, "num_heads")
        self.mlp_ratio = validate_int(mlp_ratio, "mlp_ratio")
        self.cross_attention = validate_bool(cross_attention, "cross_attention")

    def build(self, input_shape):
        token_shape, conditioning_shape = (
            tuple(shape) for shape in input_shape[:2]
        )
        width = token_shape[-1]
        if width % self.num_heads:
            raise ValueError(
                f"The token width ({width}) must be divisible by "
                f"`num_heads` ({self.num_heads})."
            )
        policy = self.dtype_policy
        self.attention_norm = AdaptiveLayerNormalization(
            return_gate=True, name="attention_norm", dtype=policy
        )
        self.attention = MultiHeadAttention(
            self.num_heads,
            width // self.num_heads,
            name="attention",
            dtype=policy,
        )
        self.mlp_norm = AdaptiveLayerNormalization(
            return_gate=True, name="mlp_norm", dtype=policy
        )
        self.mlp_hidden = keras.layers.Dense(
            self.mlp_ratio * width, name="mlp_hidden", dtype=policy
        )
        self.mlp_output = keras.layers.Dense(
            width, name="mlp_output", dtype=policy
        )
        self.attention_norm.build([token_shape, conditioning_shape])
        self.attention.build(token_shape, token_shape)
        self.mlp_norm.build([token_shape, conditioning_shape])
        self.mlp_hidden.build(token_shape)
        self.mlp_output.build(token_shape[:-1] + (self.mlp_ratio * width,))
        if self.cross_attention:
            if len(input_shape) != 3:
                raise ValueError(
                    "A `DiTBlock` with `cross_attention=True` is called on "
                    "[tokens, conditioning, context]."
                )
            context_shape = tuple(input_shape[2])
            self.context_norm = keras.layers.LayerNormalization(
                epsilon=1e-6, name="context_norm", dtype=policy
            )
            self.context_attention = MultiHeadAttention(
                self.num_heads,
                width // self.num_heads,
                name="context_attention",
                dtype=policy,
            )
            self.context_norm.build(token_shape)
            self.context_attention.build(token_shape, context_shape)

    def call(self, inputs):
        # One XLA cluster where TensorFlow trains without XLA on a CPU and
        # the self-attention's scores outgrow the cache.
        length = inputs[0].shape[1]
        return backend.fused_call(
            self,
            type(self)._residual_branches,
            inputs,
            attention_scores=(self.num_heads, length, length),
        )

    def _residual_branches(self, inputs):
        """The block on `[x, c]` or `[x, c, context]`, as `call` (which
        hands it to `kgen.backend.fused_call`)."""
        x, conditioning = inputs[:2]
        y, gate = self.attention_norm([x, conditioning])
        x = x + gate * self.attention(y, y)
        if self.cross_attention:
            y = self.context_norm(x)
            x = x + self.context_attention(y, ops.cast(inputs[2], y.dtype))
        y, gate = self.mlp_norm([x, conditioning])
        return x + gate * self.mlp(y)

    def mlp(self, y):
        """`W_2 gelu(W_1 y)` over the tokens as one `(batch * length,
        width)` matrix: XLA on a CPU takes a 3-D product's weight gradient
        off its fast dot kernels (a third of a DiT's MLP time); a reshape
        costs nothing on any backend."""
        shape = ops.shape(y)
        hidden = self.mlp_hidden(ops.reshape(y, (-1, shape[-1])))
        hidden = backend.gelu(hidden)
        return ops.reshape(self.mlp_output(hidden), shape)

    def compute_output_shape(self, input_shape):
        return input_shape[0]
