import keras
import numpy as np
from keras import layers
from keras import ops

from kgen import backend
from kgen import samplers
from kgen.distributions import Independent
from kgen.distributions import Normal
from kgen.distributions import kl_divergence
from kgen.models import public_inputs
from kgen.models.autoregressive.gpt import GPT
from kgen.models.conditioning import Conditioning
from kgen.models.generative_model import GenerativeModel
from kgen.models.vae import sequence_vae_properties
from kgen.models.vae.vae import _standard_normal
from kgen.networks.text_encoder import text_encoder
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.data_validation import validate_array
from kgen.utils.mixed_precision import to_float32


@keras.saving.register_keras_serializable(package="kgen")
class SequenceVAE(GenerativeModel):
    """A variational autoencoder over token sequences (SMILES, SELFIES,
    peptides), with a continuous latent space to search.

    A bidirectional Transformer encodes a sequence into a diagonal
    Gaussian posterior; a GPT decoder reads the latent code at every
    position (`GPT(condition_dim=latent_dim)`), so decoding is the GPT's
    cached loop:

    ```
    mu(x), log sigma(x)^2 = W mean_i Encoder(x)_i
    z = mu + sigma * eps,                      eps ~ N(0, I)
    p(x | z) = prod_{i >= 2} p(x_i | x_<i, z)  (the first token is start_id)
    loss = -log p(x | z) + beta(t) * KL(q(z | x) || N(0, I))
           + property_weight * |f(mu(x)) - y|^2      (with num_properties)
    beta(t) = beta * min(t / beta_warmup_steps, 1)
    ```

    The KL weight grows from 0 over `beta_warmup_steps` optimizer steps,
    as the MOSES VAE anneals it (Polykovskiy et al. 2020 use `beta`
    0.05): an autoregressive decoder strong enough to model the
    sequences alone otherwise learns to ignore `z` (posterior collapse,
    Bowman et al. 2016). `t` is the model's own step counter, saved
    with it.

    Built with `num_properties`, a small network `f` predicts properties
    (QED, logP...) from the posterior mean, trained jointly on
    `fit(tokens, properties)` as Gomez-Bombarelli et al. (2018) do, so
    that the latent space is organised by them; `optimize_latents`
    then climbs `f` by gradient ascent and `decode` turns the codes it
    reaches back into sequences.

    It reports `loss`, `reconstruction_loss` (nats per sequence),
    `kl_loss` (nats per sequence), `kl_weight` and, with properties,
    `property_loss`.

    Args:
        vocabulary_size: int. Token ids lie in `[0, vocabulary_size)`.
        sequence_length: int. Tokens per (padded) sequence.
        start_id: int. The token every sequence starts at (a tokenizer's
            `[BOS]`); `fit` refuses rows that do not.
        latent_dim: int. Size of `z`.
        num_layers: int. The decoder's Transformer blocks.
        num_heads: int. Attention heads of both Transformers.
        hidden_dim: int. Width of both Transformers.
        encoder_layers: int. The encoder's Transformer blocks.
        dropout: float. The decoder's dropout.
        beta: float >= 0. Final weight of the KL term.
        beta_warmup_steps: int >= 0. Steps over which it grows from 0.
        num_properties: int or `None`. Properties predicted from `z`.
        property_weight: float >= 0. Weight of their squared error.
        seed: int or `None`.

    Example:

    ```python
    smiles = kgen.datasets.load_molecules("moses", split="train")[:20_000]
    tokenizer = kgen.tokenizers.SmilesTokenizer.from_smiles(smiles)
    rows = tokenizer.tokenize(smiles)  # [BOS] ... [EOS] padding
    vae = kgen.models.SequenceVAE(
        tokenizer.vocabulary_size,
        tokenizer.sequence_length,
        tokenizer.bos_id,
        beta=0.05,
        beta_warmup_steps=2000,
    )
    vae.compile(optimizer=keras.optimizers.Adam(3e-4))
    vae.fit(rows, batch_size=64, epochs=10)
    smiles = tokenizer.detokenize(vae.sample(100, seed=0))
    ```

    References:
        1. Gomez-Bombarelli et al. Automatic Chemical Design Using a
           Data-Driven Continuous Representation of Molecules. ACS Central
           Science, 2018.
        2. Bowman et al. Generating Sentences from a Continuous Space.
           CoNLL 2016.
        3. Polykovskiy et al. Molecular Sets (MOSES). Frontiers in
           Pharmacology, 2020.
    """

    capabilities = ("sample", "encode", "elbo")

    # `y` is the properties of a model built with `num_properties`.
    conditioning = Conditioning(targets=True, data_key="tokens")
    # The annealing step `fit` counts: state, not weights (an adapter's
    # base digest leaves it out).
    training_state = ("step",)

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        start_id,
        latent_dim=32,
        num_layers=3,
        num_heads=4,
        hidden_dim=128,
        encoder_layers=2,
        dropout=0.0,
        beta=1.0,
        beta_warmup_steps=0,
        num_properties=None,
        property_weight=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.vocabulary_size = validate_int(vocabulary_size, "vocabulary_size")
        self.sequence_length = validate_int(
            sequence_length, "sequence_length", minimum=2
        )
        self.start_id = validate_int(
            start_id, "start_id", minimum=0, maximum=vocabulary_size - 1
        )
        self.latent_dim = validate_int(latent_dim, "latent_dim")
        self.num_layers = validate_int(num_layers, "num_layers")
        self.num_heads = validate_int(num_heads, "num_heads")
        self.hidden_dim = validate_int(hidden_dim, "hidden_dim")
        self.encoder_layers = validate_int(
            encoder_layers, "encoder_layers", minimum=0
        )
        self.dropout = validate_float(dropout, "dropout", minimum=0.0)
        self.beta = validate_float(beta, "beta", minimum=0.0)
        self.beta_warmup_steps = validate_int(
            beta_warmup_steps, "beta_warmup_steps", minimum=0
        )
        self.num_properties = validate_optional_int(
            num_properties, "num_properties"
        )
        self.property_weight = validate_float(
            property_weight, "property_weight", minimum=0.0
        )
        # === Networks ===
        tokens = keras.Input((sequence_length,), dtype="int32", name="tokens")
        features = text_encoder(
            vocabulary_size,
            sequence_length,
            width=hidden_dim,
            num_layers=encoder_layers,
            num_heads=num_heads,
            name="encoder_transformer",
        )(tokens)
        pooled = layers.GlobalAveragePooling1D(name="pool")(features)
        moments = layers.Dense(2 * latent_dim, name="posterior")(pooled)
        self.encoder = keras.Model(tokens, moments, name="encoder")
        self.decoder = GPT(
            vocabulary_size,
            sequence_length,
            num_layers=num_layers,
            num_heads=num_heads,
            hidden_dim=hidden_dim,
            dropout=dropout,
            condition_dim=latent_dim,
            start_id=start_id,
            seed=seed,
            name="decoder",
        )
        self.property_head = None
        if self.num_properties is not None:
            self.property_head = sequence_vae_properties.property_head(
                latent_dim, hidden_dim, self.num_properties
            )
        self._prior = _standard_normal(latent_dim)
        self.step = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="step"
        )
        # === Metrics ===
        self.reconstruction_loss_tracker = keras.metrics.Mean(
            name="reconstruction_loss"
        )
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        self.kl_weight_tracker = keras.metrics.Mean(name="kl_weight")
        self.property_loss_tracker = keras.metrics.Mean(name="property_loss")
        self.build((None, sequence_length))

    def build(self, input_shape):
        # Every network is built above (functional, or a GPT that builds
        # itself), so a fresh model saves, loads and exports.
        self.built = True

    @property
    def data_shape(self):
        return (self.sequence_length,)

    @property
    def metrics(self):
        trackers = [
            self.reconstruction_loss_tracker,
            self.kl_loss_tracker,
            self.kl_weight_tracker,
        ]
        if self.num_properties is not None:
            trackers.append(self.property_loss_tracker)
        return super().metrics + trackers

    # === Encoder and decoder ===

    def encode(self, tokens, training=False):
        """The posterior `q(z | x)`, a diagonal normal per sequence."""
        tokens = public_inputs.check_examples(self, tokens, "tokens")
        return self._posterior(ops.convert_to_tensor(tokens, "int32"), training)

    def _posterior(self, tokens, training=False):
        moments = to_float32(
            backend.call_network(self.encoder, tokens, training)
        )
        mean, log_variance = ops.split(moments, 2, axis=-1)
        return Independent(Normal(mean, ops.exp(0.5 * log_variance)), 1)

    def decode(self, z, *, sampler="greedy", seed=None):
        """The sequences latent codes `z` stand for: the GPT decoder run from
        `start_id` with `z` at every position, by `sampler` (greedy by
        default: the most likely token at each step).

        Returns:
            `(batch, sequence_length)` int32 tokens.
        """
        z = public_inputs.check_codes(z, (self.latent_dim,), "z")
        first = np.full((ops.shape(z)[0], 1), self.start_id, "int32")
        return self.decoder.generate(
            first,
            self.sequence_length - 1,
            condition=z,
            sampler=sampler,
            seed=public_inputs.seed_source(self, seed),
        )

    def sample(self, num_samples, *, seed=None, sampler="random"):
        """Decodes `z ~ N(0, I)`, drawing each token by `sampler`.

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            sampler: a `kgen.samplers.TokenSampler` or its name.
        """
        public_inputs.check_num_samples(num_samples)
        seed = public_inputs.seed_source(self, seed)
        latent = batch_random.normal((num_samples, self.latent_dim), seed)
        return self.decode(latent, sampler=sampler, seed=seed)

    # === Training ===

    def call(self, tokens, training=False):
        posterior = self._posterior(tokens, training)
        latent = posterior.sample(seed=self.seed_generator)
        outputs = self._decoded(tokens, posterior, latent, training)
        if self.property_head is not None:
            outputs["properties"] = to_float32(
                self.property_head(
                    posterior.distribution.loc, training=training
                )
            )
        return outputs

    def _decoded(self, tokens, posterior, latent, training=False):
        """`call`'s outputs but the properties: the decoder's logits of
        `tokens` given `latent`, and the posterior's moments."""
        return {
            "logits": to_float32(
                backend.call_network(
                    self.decoder,
                    {"tokens": tokens, "condition": latent},
                    training,
                )
            ),
            "posterior_mean": posterior.distribution.loc,
            "posterior_scale": posterior.distribution.scale,
        }

    def loss_terms(self, tokens, outputs):
        """Per-sequence `(reconstruction_loss, kl_loss)` in nats from
        `call`'s outputs."""
        negative = keras.losses.sparse_categorical_crossentropy(
            ops.cast(tokens[:, 1:], "int32"),
            outputs["logits"][:, :-1],
            from_logits=True,
        )
        posterior = Independent(
            Normal(outputs["posterior_mean"], outputs["posterior_scale"]), 1
        )
        kl_loss = kl_divergence(posterior, self._prior)
        return ops.sum(negative, axis=-1), kl_loss

    def kl_weight(self):
        """`beta(t)`: the KL term's weight at the current step."""
        if self.beta_warmup_steps == 0:
            return ops.convert_to_tensor(self.beta, "float32")
        progress = ops.minimum(self.step / self.beta_warmup_steps, 1.0)
        return self.beta * progress

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        reconstruction_loss, kl_loss = self.loss_terms(x, y_pred)
        kl_weight = self.kl_weight()
        if training:
            self.step.assign_add(1.0)
        loss = reconstruction_loss + kl_weight * kl_loss
        self.reconstruction_loss_tracker.update_state(
            reconstruction_loss, sample_weight=sample_weight
        )
        self.kl_loss_tracker.update_state(kl_loss, sample_weight=sample_weight)
        self.kl_weight_tracker.update_state(kl_weight)
        if y is not None:
            squared = sequence_vae_properties.property_loss(
                y_pred["properties"], y
            )
            self.property_loss_tracker.update_state(
                squared, sample_weight=sample_weight
            )
            loss = loss + self.property_weight * squared
        if sample_weight is not None:
            return ops.sum(loss * sample_weight) / ops.sum(sample_weight)
        return ops.mean(loss)

    def elbo(self, tokens, *, seed=None):
        """Per-sequence evidence lower bound `E_q[log p(x | z)] - KL`
        (nats), with one posterior sample; `-elbo` bounds `-log p(x)`
        from above."""
        tokens = public_inputs.check_examples(self, tokens, "tokens")
        tokens = ops.convert_to_tensor(tokens, "int32")
        with backend.no_grad():
            posterior = self._posterior(tokens)
            latent = posterior.sample(
                seed=public_inputs.seed_source(self, seed)
            )
            outputs = self._decoded(tokens, posterior, latent)
            reconstruction_loss, kl_loss = self.loss_terms(tokens, outputs)
        return -(reconstruction_loss + kl_loss)

    # === The latent space ===

    def predict_properties(self, z):
        """The property network's predictions `f(z)`,
        `(batch, num_properties)`."""
        return sequence_vae_properties.predict_properties(self, z)

    def optimize_latents(
        self,
        z,
        *,
        property_index=0,
        num_steps=100,
        learning_rate=0.05,
        prior_weight=1.0,
        maximize=True,
    ):
        """Moves latent codes `z` towards higher (or lower) predicted property
        by gradient ascent on

        ```
        J(z) = +-f_k(z) - prior_weight * |z|^2 / 2
        ```

        The second term is `log N(z; 0, I)` up to a constant: it keeps the
        codes where the decoder was trained, so that they decode to valid
        sequences (Gomez-Bombarelli et al. 2018 constrain the search in
        the same spirit).

        Args:
            z: `(batch, latent_dim)` starting codes (e.g.
                `encode(tokens).mean()`).
            property_index: int. The property `k` to move.
            num_steps: int. Gradient steps.
            learning_rate: float > 0. Step size.
            prior_weight: float >= 0.
            maximize: bool. `False` descends `f_k` instead.

        Returns:
            `(batch, latent_dim)` codes, for `decode`.
        """
        return sequence_vae_properties.optimize_latents(
            self,
            z,
            property_index,
            num_steps,
            learning_rate,
            prior_weight,
            maximize,
        )

    # === Checks ===

    def _validate_data(self, x, argument):
        if x is None or not hasattr(x, "shape"):
            return
        values = self.decoder._check_tokens(x, argument)
        if values.shape[1] != self.sequence_length:
            raise ValueError(
                f"`{argument}` must hold sequences of exactly "
                f"{self.sequence_length} tokens (`sequence_length`; pad "
                f"them); received {values.shape[1]}."
            )
        starts = values[:, 0] != self.start_id
        if starts.any():
            row = int(np.argmax(starts))
            raise ValueError(
                f"`{argument}` must start every sequence at `start_id` "
                f"({self.start_id}); row {row} starts at {values[row, 0]}."
            )

    def _validate_targets(self, y, argument):
        # The targets are each molecule's properties.
        if self.num_properties is None:
            raise ValueError(
                f"This {type(self).__name__} predicts no properties "
                f"(`num_properties=None`) but was given targets "
                f"`{argument}`; build it with `num_properties` to train on "
                "them."
            )
        validate_array(y, (self.num_properties,), argument)

    # === Export ===

    def serving_endpoints(self, sampler="greedy"):
        """`decode`: `(batch, latent_dim)` codes and a `(2,)` int seed ->
        `(batch, sequence_length)` tokens, by `sampler` (`sample` is
        `decode` of standard-normal codes); `encode`: tokens -> the
        posterior's `mean` and `scale`. Token ids out of range are
        clamped, as the GPT's endpoints do."""
        sampler = samplers.get(sampler)
        length = self.sequence_length

        def decode(latent, seed):
            tokens = ops.full((ops.shape(latent)[0], length), self.start_id)
            return self.decoder.generate_loop(
                ops.cast(tokens, "int32"),
                1,
                sampler,
                seed,
                use_cache=True,
                condition=latent,
            )

        def encode(tokens):
            tokens = ops.clip(tokens, 0, self.vocabulary_size - 1)
            posterior = self._posterior(tokens)
            return {
                "mean": posterior.distribution.loc,
                "scale": posterior.distribution.scale,
            }

        latent_spec = keras.InputSpec(
            shape=(None, self.latent_dim), dtype="float32"
        )
        seed_spec = keras.InputSpec(shape=(2,), dtype="int32")
        tokens_spec = keras.InputSpec(shape=(None, length), dtype="int32")
        return {
            "decode": (decode, [latent_spec, seed_spec]),
            "encode": (encode, [tokens_spec]),
        }
