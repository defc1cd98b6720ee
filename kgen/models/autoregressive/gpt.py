import keras
import numpy as np
from keras import layers
from keras import ops

from kgen import backend
from kgen import samplers
from kgen.layers.causal_transformer_block import CausalTransformerBlock
from kgen.layers.dropout import Dropout
from kgen.models.autoregressive.gpt_generation import GPTGeneration
from kgen.models.conditioning import Conditioning
from kgen.models.generative_model import GenerativeModel
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import check_real_dtype
from kgen.utils.data_validation import host_array


@keras.saving.register_keras_serializable(package="kgen")
class GPT(GPTGeneration, GenerativeModel):
    """A GPT-style decoder-only Transformer over token sequences.

    ```
    h_0 = E[x_i] + P[i]
    h_l = CausalTransformerBlock_l(h_{l-1}),   l = 1..num_layers
    p(x_{i+1} | x_<=i) = softmax(LayerNorm(h_L)_i E^T)    (tied output)
    loss = -(1 / N) sum_i log p(x_{i+1} | x_<=i)           (nats per token)
    ```

    Pre-norm GPT-2 blocks with a key/value cache: `generate` fills the
    cache with the prompt in one pass, then costs one position per new
    token, as one `ops.fori_loop` (it compiles and exports).

    Train with `fit(windows)` on `(batch, length)` token windows (every
    position predicts the next one) or `fit(inputs, targets)` with
    `targets = windows[:, 1:]` and `inputs = windows[:, :-1]`, which uses
    all `length - 1` targets and the full context (nanoGPT's batches).

    Args:
        vocabulary_size: int. Token ids lie in `[0, vocabulary_size)`.
        sequence_length: int. The context: most positions a sequence has.
        num_layers: int. Transformer blocks.
        num_heads: int. Attention heads per block.
        hidden_dim: int. Width of the residual stream.
        intermediate_dim: int or `None`. Feed-forward width
            (`4 * hidden_dim` if `None`).
        dropout: float. Embedding, attention and residual dropout.
        seed: int or `None`.

    Example:

    ```python
    train, _ = kgen.datasets.load_text("pydoc_topics")
    tokenizer = kgen.tokenizers.CharacterTokenizer.from_text(train)
    windows = kgen.datasets.random_windows(tokenizer(train), 65, 4096)
    model = kgen.models.GPT(tokenizer.vocabulary_size, sequence_length=64)
    model.compile(optimizer="adamw")
    model.fit(windows[:, :-1], windows[:, 1:], batch_size=32)
    prompt = tokenizer("def ")[None]
    tokens = model.generate(prompt, 40, sampler="top_k", seed=0)
    print(tokenizer.detokenize(tokens)[0])
    ```

    References:
        1. Radford et al. Language Models are Unsupervised Multitask
           Learners. 2019 (GPT-2).
    """

    capabilities = ("sample", "log_prob", "generate")

    conditioning = Conditioning(targets=True)

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        num_layers=4,
        num_heads=4,
        hidden_dim=128,
        intermediate_dim=None,
        dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        vocabulary_size = validate_int(vocabulary_size, "vocabulary_size")
        sequence_length = validate_int(sequence_length, "sequence_length")
        num_layers = validate_int(num_layers, "num_layers")
        num_heads = validate_int(num_heads, "num_heads")
        hidden_dim = validate_int(hidden_dim, "hidden_dim")
        if hidden_dim % num_heads:
            raise ValueError(
                f"`hidden_dim` ({hidden_dim}) must be divisible by "
                f"`num_heads` ({num_heads})."
            )
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        # === Layers ===
        initializer = keras.initializers.RandomNormal(stddev=0.02)
        self.token_embedding = layers.Embedding(
            vocabulary_size,
            hidden_dim,
            embeddings_initializer=initializer,
            name="token_embedding",
        )
        self.position_embedding = layers.Embedding(
            sequence_length,
            hidden_dim,
            embeddings_initializer=initializer,
            name="position_embedding",
        )
        self.embedding_dropout = Dropout(dropout)
        self.blocks = [
            CausalTransformerBlock(
                num_heads,
                intermediate_dim or 4 * hidden_dim,
                dropout=dropout,
                name=f"block_{index}",
            )
            for index in range(num_layers)
        ]
        self.final_norm = layers.LayerNormalization(
            epsilon=1e-5, name="final_norm"
        )
        self.build((None, sequence_length))

    def build(self, input_shape):
        hidden_shape = (None, None, self.hidden_dim)
        self.token_embedding.build((None, None))
        self.position_embedding.build((None,))
        for block in self.blocks:
            block.build(hidden_shape)
        self.final_norm.build(hidden_shape)
        self.built = True

    @property
    def data_shape(self):
        return (None,)

    @property
    def head_dim(self):
        return self.hidden_dim // self.num_heads

    # === Forward passes ===

    def _embed(self, tokens, start, training):
        positions = start + ops.arange(ops.shape(tokens)[1])
        h = self.token_embedding(ops.cast(tokens, "int32"))
        h = h + self.position_embedding(positions)[None]
        return self.embedding_dropout(h, training=training)

    def _logits(self, h):
        # Tied output: the token embedding is also the output projection.
        return ops.matmul(
            self.final_norm(h), ops.transpose(self.token_embedding.embeddings)
        )

    def __call__(self, tokens, *args, **kwargs):
        # Token ids outside `[0, vocabulary_size)` are refused in an eager
        # call, before Keras wraps the error in its own; inside a traced
        # graph nothing can be read, and an embedding lookup would return
        # NaN (JAX) or another token's row (XLA clamps), so the exported
        # signatures clamp ids into range (see `serving_endpoints`).
        # Training steps were checked with the data (`_validate_data`).
        if (
            not kwargs.get("training")
            and not isinstance(tokens, keras.KerasTensor)
            and backend.is_concrete(tokens)
        ):
            self._check_tokens(tokens, "tokens", self.sequence_length)
        return super().__call__(tokens, *args, **kwargs)

    def call(self, tokens, training=False):
        """Next-token logits `(batch, length, vocabulary_size)`."""
        h = self._embed(tokens, 0, training)
        for block in self.blocks:
            h = block(h, training=training)
        return self._logits(h)

    def empty_cache(self, batch_size, length):
        """A zero key/value cache for `length` positions:
        `(batch, num_layers, 2, length, num_heads, head_dim)`."""
        return ops.zeros(
            (
                batch_size,
                self.num_layers,
                2,
                length,
                self.num_heads,
                self.head_dim,
            )
        )

    def call_with_cache(self, tokens, cache, cache_index):
        """Logits of `tokens` placed at positions `cache_index ...`, given
        the keys and values of earlier positions in `cache`.

        Returns:
            `(logits, updated_cache)`.
        """
        h = self._embed(tokens, cache_index, training=False)
        updated = []
        for index, block in enumerate(self.blocks):
            h, layer_cache = block(
                h, cache=cache[:, index], cache_index=cache_index
            )
            updated.append(layer_cache)
        return self._logits(h), ops.stack(updated, axis=1)

    # === Likelihood ===

    def log_prob(self, tokens):
        """Exact `log p(x_2..x_L | x_1)` per sequence, in nats (the first
        token is given: the model has no start symbol)."""
        tokens = self._check_tokens(tokens, "tokens", self.sequence_length)
        tokens = ops.convert_to_tensor(tokens, "int32")
        logits = self(tokens)[:, :-1]
        negative = keras.losses.sparse_categorical_crossentropy(
            tokens[:, 1:], logits, from_logits=True
        )
        return -ops.sum(negative, axis=-1)

    def nats_per_token(self, tokens):
        """Mean negative log-likelihood per predicted token, per sequence."""
        length = np.shape(tokens)[-1]
        return -self.log_prob(tokens) / max(length - 1, 1)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y is None:
            # Self-supervised windows: position i predicts token i + 1.
            y, y_pred = x[:, 1:], y_pred[:, :-1]
        negative = keras.losses.sparse_categorical_crossentropy(
            ops.cast(y, "int32"), y_pred, from_logits=True
        )
        if sample_weight is not None:
            weight = ops.reshape(
                ops.cast(sample_weight, negative.dtype), (-1, 1)
            )
            return ops.sum(negative * weight) / (
                ops.sum(weight) * ops.cast(ops.shape(negative)[1], "float32")
            )
        return ops.mean(negative)

    # === Generation (`generate` is in GPTGeneration) ===

    def sample(self, num_samples, *, seed=None, length=None, sampler="random"):
        """`num_samples` sequences of `length` tokens (the whole context
        by default), each from a uniformly drawn first token.

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            length: int in `[2, sequence_length]` or `None`.
            sampler: a `kgen.samplers.TokenSampler` or its name.
        """
        self._check_num_samples(num_samples)
        length = validate_int(
            self.sequence_length if length is None else length,
            "length",
            minimum=2,
            maximum=self.sequence_length,
        )
        seed = self._seed_generator(seed)
        first = keras.random.randint(
            (num_samples, 1), 0, self.vocabulary_size, "int32", seed=seed
        )
        return self.generate(
            ops.convert_to_numpy(first), length - 1, sampler=sampler, seed=seed
        )

    # === Checks ===

    def _check_tokens(self, tokens, argument, max_length=None):
        values = host_array(keras.ops.convert_to_numpy(tokens), argument)
        check_real_dtype(values.dtype, argument)
        if values.ndim != 2 or values.shape[0] < 1 or values.shape[1] < 1:
            raise ValueError(
                f"`{argument}` must be a (batch, length) array of token ids "
                f"with at least one sequence and one token; received shape "
                f"{values.shape}."
            )
        if max_length is not None and values.shape[1] > max_length:
            raise ValueError(
                f"`{argument}` has {values.shape[1]} tokens per sequence, "
                f"more than the context of {max_length} "
                "(`sequence_length`)."
            )
        if values.size and (
            not np.all(values == np.round(values))
            or values.min() < 0
            or values.max() >= self.vocabulary_size
        ):
            raise ValueError(
                f"`{argument}` must hold integer token ids in [0, "
                f"{self.vocabulary_size}); received values in "
                f"[{values.min()}, {values.max()}]."
            )
        return values.astype("int32")

    def _validate_data(self, x, argument):
        if x is None or not hasattr(x, "shape"):
            return
        self._check_tokens(x, argument, self.sequence_length)

    def fit(self, x=None, y=None, *args, **kwargs):
        if y is not None and hasattr(y, "shape"):
            self._check_tokens(y, "y", self.sequence_length)
        return super().fit(x, y, *args, **kwargs)

    # === Export ===

    def serving_endpoints(
        self, prompt_length=1, max_new_tokens=None, sampler="greedy"
    ):
        """`generate`: `(batch, prompt_length)` prompt tokens and a `(2,)`
        int seed -> the prompt plus `max_new_tokens` tokens (the rest of
        the context by default), decoded with the key/value cache;
        `logits`: `(batch, length)` tokens -> next-token logits. Token ids
        outside `[0, vocabulary_size)` cannot be refused inside a served
        graph: both endpoints clamp them into range (a client validates
        its ids). The prompt length is fixed at export: the loop's length
        and the cache's size are static in the compiled graph."""
        if not isinstance(prompt_length, int) or not (
            1 <= prompt_length < self.sequence_length
        ):
            raise ValueError(
                "`prompt_length` must be an int in [1, "
                f"{self.sequence_length}); received {prompt_length!r}."
            )
        new = max_new_tokens or self.sequence_length - prompt_length
        if prompt_length + new > self.sequence_length:
            raise ValueError(
                f"`prompt_length` + `max_new_tokens` ({prompt_length + new})"
                f" exceeds the context of {self.sequence_length} tokens."
            )
        sampler = samplers.get(sampler)

        def generate(prompt, seed):
            prompt = ops.clip(prompt, 0, self.vocabulary_size - 1)
            padding = ops.zeros((ops.shape(prompt)[0], new), "int32")
            return self.generate_loop(
                ops.concatenate([prompt, padding], axis=1),
                prompt_length,
                sampler,
                seed,
                use_cache=True,
            )

        def logits(tokens):
            # A graph cannot raise on a value: ids out of range are
            # clamped to [0, vocabulary_size - 1], as the docstring says.
            return self(ops.clip(tokens, 0, self.vocabulary_size - 1))

        return {
            "generate": (
                generate,
                [
                    keras.InputSpec(shape=(None, prompt_length), dtype="int32"),
                    keras.InputSpec(shape=(2,), dtype="int32"),
                ],
            ),
            "logits": (
                logits,
                [keras.InputSpec(shape=(None, None), dtype="int32")],
            ),
        }

    # === Serialization ===

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
            }
        )
        return config
