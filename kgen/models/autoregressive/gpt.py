import keras
import numpy as np
from keras import layers
from keras import ops

from kgen import backend
from kgen.layers.causal_transformer_block import CausalTransformerBlock
from kgen.layers.dropout import Dropout
from kgen.models import public_inputs
from kgen.models.autoregressive import gpt_checks
from kgen.models.autoregressive import gpt_export
from kgen.models.autoregressive.gpt_generation import GPTGeneration
from kgen.models.conditioning import Conditioning
from kgen.models.generative_model import GenerativeModel
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_num_heads
from kgen.utils.argument_validation import validate_optional_int


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

    Built with `num_classes`, the model is class-conditional: a learned
    class embedding `C[y]` is added to the first position's input,

    ```
    h_0[0] = E[x_1] + P[0] + C[y]
    ```

    which every later position attends to (as a class token would be,
    without lengthening the context); it trains on `fit(rows, labels)`
    and `sample(n, labels=...)` draws those classes.

    Built with `condition_dim`, every position's input also carries a
    projection of one real vector per sequence (a property target, or a
    `SequenceVAE`'s latent code),

    ```
    h_0[i] = E[x_i] + P[i] + W c + b        (every i)
    ```

    so the condition reaches each step of the decode loop directly, as
    the latent does in the MOSES VAE's decoder; it trains on
    `fit(rows, conditions)` and `sample(n, condition=...)`. With `start_id`
    (a tokenizer's `[BOS]`) every sample starts at that token, as a
    sequence of a tokenizer with start and end symbols must, rather than
    at a uniformly drawn one.

    Train with `fit(windows)` on `(batch, length)` token windows (every
    position predicts the next one) or `fit(inputs, targets)` with
    `targets = windows[:, 1:]` and `inputs = windows[:, :-1]`, which uses
    all `length - 1` targets and the full context (nanoGPT's batches); a
    class-conditional model trains on `fit(windows, labels)`.

    Args:
        vocabulary_size: int. Token ids lie in `[0, vocabulary_size)`.
        sequence_length: int. The context: most positions a sequence has.
        num_layers: int. Transformer blocks.
        num_heads: int. Attention heads per block.
        hidden_dim: int. Width of the residual stream.
        intermediate_dim: int or `None`. Feed-forward width
            (`4 * hidden_dim` if `None`).
        dropout: float. Embedding, attention and residual dropout.
        num_classes: int >= 2 or `None` (unconditional).
        condition_dim: int or `None`. Size of the real vector each
            sequence is conditioned on; `None` takes none.
        start_id: int in `[0, vocabulary_size)` or `None`. The token
            `sample` starts every sequence at; `None` draws it uniformly.
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

    conditioning = Conditioning(labels=True, targets=True, data_key="tokens")

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        num_layers=4,
        num_heads=4,
        hidden_dim=128,
        intermediate_dim=None,
        dropout=0.0,
        num_classes=None,
        condition_dim=None,
        start_id=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        vocabulary_size = validate_int(vocabulary_size, "vocabulary_size")
        sequence_length = validate_int(sequence_length, "sequence_length")
        num_layers = validate_int(num_layers, "num_layers")
        hidden_dim = validate_int(hidden_dim, "hidden_dim")
        num_heads = validate_num_heads(num_heads, hidden_dim, "hidden_dim")
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.num_classes = validate_optional_int(num_classes, "num_classes", 2)
        self.condition_dim = validate_optional_int(
            condition_dim, "condition_dim"
        )
        if start_id is not None:
            start_id = validate_int(
                start_id, "start_id", minimum=0, maximum=vocabulary_size - 1
            )
        self.start_id = start_id
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
        self.label_embedding = None
        if self.num_classes is not None:
            self.label_embedding = layers.Embedding(
                self.num_classes,
                hidden_dim,
                embeddings_initializer=initializer,
                name="label_embedding",
            )
        self.condition_projection = None
        if self.condition_dim is not None:
            self.condition_projection = layers.Dense(
                hidden_dim,
                kernel_initializer=initializer,
                name="condition_projection",
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
        if self.label_embedding is not None:
            self.label_embedding.build((None,))
        if self.condition_projection is not None:
            self.condition_projection.build((None, self.condition_dim))
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

    def _embed(self, tokens, start, training, labels=None, condition=None):
        positions = start + ops.arange(ops.shape(tokens)[1])
        h = self.token_embedding(ops.cast(tokens, "int32"))
        h = h + self.position_embedding(positions)[None]
        if condition is not None:
            projected = self.condition_projection(ops.cast(condition, h.dtype))
            h = h + projected[:, None, :]
        if labels is not None:
            # Only a pass from position 0 carries the class; the cached
            # steps after it read it through attention.
            first = positions[None, :, None] == 0
            label = self.label_embedding(ops.cast(labels, "int32"))
            h = h + ops.where(first, label[:, None, :], 0.0)
        return self.embedding_dropout(h, training=training)

    def _logits(self, h):
        # Tied output: the token embedding is also the output projection.
        return ops.matmul(
            self.final_norm(h), ops.transpose(self.token_embedding.embeddings)
        )

    def __call__(self, inputs, *args, **kwargs):
        # Token ids outside `[0, vocabulary_size)` are refused in an eager
        # call, before Keras wraps the error in its own; inside a traced
        # graph nothing can be read, and an embedding lookup would return
        # NaN (JAX) or another token's row (XLA clamps), so the exported
        # signatures clamp ids into range (see `serving_endpoints`).
        # Training steps were checked with the data (`_validate_data`).
        tokens = inputs["tokens"] if isinstance(inputs, dict) else inputs
        if (
            not kwargs.get("training")
            and not isinstance(tokens, keras.KerasTensor)
            and backend.is_concrete(tokens)
        ):
            self._check_tokens(tokens, "tokens", self.sequence_length)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=False):
        """Next-token logits `(batch, length, vocabulary_size)` of tokens,
        or of `{"tokens": ..., "labels": ..., "condition": ...}` (a
        conditional model's)."""
        tokens, labels, condition = inputs, None, None
        if isinstance(inputs, dict):
            tokens = inputs["tokens"]
            labels, condition = inputs.get("labels"), inputs.get("condition")
        h = self._embed(tokens, 0, training, labels, condition)
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

    def call_with_cache(
        self, tokens, cache, cache_index, labels=None, condition=None
    ):
        """Logits of `tokens` placed at positions `cache_index ...`, given
        the keys and values of earlier positions in `cache` (and the
        class `labels` where the pass starts at position 0, and the
        `condition` vectors of a conditional model at every pass).

        Returns:
            `(logits, updated_cache)`.
        """
        h = self._embed(tokens, cache_index, False, labels, condition)
        updated = []
        for index, block in enumerate(self.blocks):
            h, layer_cache = block(
                h, cache=cache[:, index], cache_index=cache_index
            )
            updated.append(layer_cache)
        return self._logits(h), ops.stack(updated, axis=1)

    # === Likelihood ===

    def log_prob(self, tokens, *, labels=None, condition=None):
        """Exact `log p(x_2..x_L | x_1)` per sequence (given `labels` and
        `condition`, for a conditional model), in nats; the first token
        is given."""
        tokens = self._check_tokens(tokens, "tokens", self.sequence_length)
        labels = public_inputs.check_labels(self, labels, tokens)
        condition = self._check_condition(condition, len(tokens))
        tokens = ops.convert_to_tensor(tokens, "int32")
        logits = self(self._inputs(tokens, labels, condition))[:, :-1]
        negative = keras.losses.sparse_categorical_crossentropy(
            tokens[:, 1:], logits, from_logits=True
        )
        return -ops.sum(negative, axis=-1)

    def nats_per_token(self, tokens, *, labels=None, condition=None):
        """Mean negative log-likelihood per predicted token, per sequence."""
        length = np.shape(tokens)[-1]
        log_prob = self.log_prob(tokens, labels=labels, condition=condition)
        return -log_prob / max(length - 1, 1)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y is None:
            # Self-supervised windows: position i predicts token i + 1.
            tokens = x["tokens"] if isinstance(x, dict) else x
            y, y_pred = tokens[:, 1:], y_pred[:, :-1]
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

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        condition=None,
        length=None,
        sampler="random",
    ):
        """`num_samples` sequences of `length` tokens (the whole context
        by default), each from `start_id` or a uniformly drawn first
        token.

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            labels: class-conditional models: one class id per sample,
                one int for all, or `None` (drawn uniformly).
            condition: models built with `condition_dim`:
                `(num_samples, condition_dim)` condition vectors.
            length: int in `[2, sequence_length]` or `None`.
            sampler: a `kgen.samplers.TokenSampler` or its name.
        """
        public_inputs.check_num_samples(num_samples)
        length = validate_int(
            self.sequence_length if length is None else length,
            "length",
            minimum=2,
            maximum=self.sequence_length,
        )
        seed = public_inputs.seed_source(self, seed)
        labels = public_inputs.sample_labels(self, labels, num_samples, seed)
        condition = self._check_condition(condition, num_samples)
        if self.start_id is None:
            first = keras.random.randint(
                (num_samples, 1), 0, self.vocabulary_size, "int32", seed=seed
            )
        else:
            first = np.full((num_samples, 1), self.start_id, "int32")
        return self.generate(
            ops.convert_to_numpy(first),
            length - 1,
            labels=labels,
            condition=condition,
            sampler=sampler,
            seed=seed,
        )

    def _inputs(self, tokens, labels=None, condition=None):
        """What `call` takes: the tokens alone, or with their labels and
        condition vectors in a dict."""
        if labels is None and condition is None:
            return tokens
        inputs = {"tokens": tokens}
        if labels is not None:
            inputs["labels"] = labels
        if condition is not None:
            inputs["condition"] = condition
        return inputs

    # === Checks ===

    def _check_condition(self, condition, count, argument="condition"):
        """`count` condition vectors as a float32 tensor for a model built
        with `condition_dim` (which needs them); `None` for one without
        (which refuses them). A backend tensor is checked by its shape."""
        return gpt_checks.check_condition(self, condition, count, argument)

    def _check_tokens(self, tokens, argument, max_length=None):
        return gpt_checks.check_tokens(self, tokens, argument, max_length)

    def _validate_data(self, x, argument):
        if x is None or not hasattr(x, "shape"):
            return
        self._check_tokens(x, argument, self.sequence_length)

    def _validate_targets(self, y, argument):
        # The targets are the next tokens (labels and condition vectors
        # are checked as the conditioning path checks them).
        self._check_tokens(y, argument, self.sequence_length)

    # === Export ===

    def serving_endpoints(
        self, prompt_length=1, max_new_tokens=None, sampler="greedy"
    ):
        """`generate`: `(batch, prompt_length)` prompt tokens and a `(2,)`
        int seed -> the prompt plus `max_new_tokens` tokens (the rest of
        the context by default), decoded with the key/value cache;
        `logits`: `(batch, length)` tokens -> next-token logits. A
        class-conditional model's endpoints take `(batch,)` int `labels`
        after the tokens (clamped into `[0, num_classes)`), and a model
        with `condition_dim` `(batch, condition_dim)` float `condition`
        vectors after those. Token ids outside `[0, vocabulary_size)`
        cannot be refused inside a served graph: both endpoints clamp
        them into range (a client validates its ids). The prompt length
        is fixed at export: the loop's length and the cache's size are
        static in the compiled graph."""
        return gpt_export.serving_endpoints(
            self, prompt_length, max_new_tokens, sampler
        )
