import math

import keras
from keras import layers
from keras import ops

from kgen import backend
from kgen.distributions import Bernoulli
from kgen.distributions import Independent
from kgen.distributions import Normal
from kgen.distributions import kl_divergence
from kgen.models import public_inputs
from kgen.models.generative_model import GenerativeModel
from kgen.utils.argument_validation import validate_int
from kgen.utils.mixed_precision import to_float32


@keras.saving.register_keras_serializable(package="kgen")
class HierarchicalVAE(GenerativeModel):
    """A two-layer top-down VAE: `z2 -> z1 -> x`, with per-layer KL terms.

    Generative model `p(z2) p(z1|z2) p(x|z1)` (or `p(x|z1, z2)` with
    `decoder_skip`); inference runs bottom-up for features, then top-down
    in the generative order, so the posterior of `z1` sees the sampled `z2`
    (as in ladder / top-down VAEs):

    ```
    q(z2|x) q(z1|x, z2)
    loss = E_q[-log p(x|z1)] + KL(q(z2|x) || p(z2))
           + E_q(z2)[KL(q(z1|x, z2) || p(z1|z2))]
    ```

    `q(z1|x, z2)` is parameterised relative to the conditional prior
    (ref. 3): with `p(z1|z2) = N(mu_p, exp(s_p))` and a head on
    `(features, z2)` giving `(delta_mu, delta_s)`,

    ```
    q(z1|x, z2) = N(mu_p + delta_mu, exp(s_p + delta_s))
    ```

    so the posterior only learns what `x` adds to the prior. The prior's
    output layer starts at zero (`p(z1|z2) = N(0, I)` at step 0), so
    training starts from a flat VAE on `z1` and grows the hierarchy.

    Both KL terms are closed-form diagonal-Gaussian KLs; they are logged
    separately (`kl_z1`, `kl_z2`), which shows whether the top layer is
    used or has collapsed to the prior. `log_likelihood` gives the IWAE
    bound, comparable with `VAE.log_likelihood`.

    Args:
        encoder: `keras.Model` images -> `(batch, features)` (deterministic
            bottom-up features, e.g. a `vae_encoder` read at its last
            hidden layer).
        decoder: `keras.Model` `(batch, latent_dims[0])` (or
            `(batch, latent_dims[0] + latent_dims[1])` with `decoder_skip`)
            -> Bernoulli logits of data shape.
        latent_dims: `(z1_dim, z2_dim)`.
        hidden_dim: int. Width of the conditional prior MLP.
        decoder_skip: bool. If `True` the decoder reads `concat(z1, z2)`:
            a skip path from the top layer to the data, so `z2` does not
            reach `x` only through the noise of `z1`.
        seed: int or `None`.

    Example:

    ```python
    shape = (8, 8, 1)
    encoder = kgen.networks.vae_encoder(shape, 8)
    features = keras.Model(encoder.inputs, encoder.layers[-2].output)
    model = kgen.models.HierarchicalVAE(
        features,
        kgen.networks.vae_decoder(shape, 8 + 4),
        latent_dims=(8, 4),
        decoder_skip=True,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x_train, epochs=10, batch_size=64)
    nll = -model.log_likelihood(x_test[:50], num_importance_samples=1000)
    ```

    References:
        1. Sonderby et al. Ladder Variational Autoencoders. 2016.
           arXiv:1602.02282.
        2. Kingma et al. Improved Variational Inference with Inverse
           Autoregressive Flow. 2016. arXiv:1606.04934 (top-down inference).
        3. Vahdat and Kautz. NVAE: A Deep Hierarchical Variational
           Autoencoder. 2020. arXiv:2007.03898 (residual posterior).
    """

    capabilities = ("sample", "elbo")

    def __init__(
        self,
        encoder,
        decoder,
        latent_dims=(16, 8),
        hidden_dim=128,
        decoder_skip=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        latent_dims = tuple(latent_dims)
        if len(latent_dims) != 2 or min(latent_dims) < 1:
            raise ValueError(
                "`latent_dims` must be two positive ints (z1_dim, z2_dim); "
                f"received {latent_dims!r}."
            )
        # === Networks ===
        self.encoder = encoder
        self.decoder = decoder
        # === Config ===
        self.latent_dims = latent_dims
        self.hidden_dim = hidden_dim
        self.decoder_skip = bool(decoder_skip)
        z1_dim, z2_dim = latent_dims
        features = encoder.output.shape[-1]
        # === Layers ===
        self.z2_posterior = layers.Dense(2 * z2_dim, name="z2_posterior")
        # A zero output layer starts `p(z1|z2)` at N(0, I): the model then
        # begins as a flat VAE on z1 and learns to use z2, rather than
        # fighting a random prior of random scales from the first step.
        self.z1_prior = keras.Sequential(
            [
                layers.Dense(hidden_dim, activation="relu"),
                layers.Dense(hidden_dim, activation="relu"),
                layers.Dense(2 * z1_dim, kernel_initializer="zeros"),
            ],
            name="z1_prior",
        )
        # The offset of `q(z1|x, z2)` from `p(z1|z2)` (residual form, ref.
        # 3): one linear head on the features, as in the flat VAE.
        self.z1_posterior = layers.Dense(2 * z1_dim, name="z1_posterior")
        self.z2_posterior.build((None, features))
        self.z1_prior.build((None, z2_dim))
        self.z1_posterior.build((None, features + z2_dim))
        # === Metrics ===
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("reconstruction_loss", "kl_z1", "kl_z2")
        }
        if encoder.built and decoder.built:
            self.built = True

    @property
    def data_shape(self):
        return tuple(self.encoder.inputs[0].shape[1:])

    @property
    def data_range(self):
        return (0.0, 1.0)

    # === Distributions ===

    @staticmethod
    def _normal(moments):
        mean, log_variance = ops.split(moments, 2, axis=-1)
        return Independent(Normal(mean, ops.exp(0.5 * log_variance)), 1)

    def _standard_normal(self, like):
        return Independent(Normal(ops.zeros_like(like), ops.ones_like(like)), 1)

    def _likelihood(self, decoder_output):
        return Independent(
            Bernoulli(logits=decoder_output, dtype="float32"),
            len(self.data_shape),
        )

    def _decode(self, z1, z2, training=False):
        inputs = ops.concatenate([z1, z2], axis=-1) if self.decoder_skip else z1
        if training:
            return to_float32(backend.training_call(self.decoder, inputs))
        return to_float32(backend.inference_call(self.decoder, inputs))

    def _pass(self, x, seed, training=False, features=None):
        """One top-down pass; returns the distributions and samples."""
        if features is None:
            features = to_float32(
                backend.call_network(self.encoder, x, training)
            )
        q_z2 = self._normal(self.z2_posterior(features))
        z2 = q_z2.sample(seed=seed)
        prior_moments = self.z1_prior(z2, training=training)
        p_z1 = self._normal(prior_moments)
        posterior_moments = self.z1_posterior(
            ops.concatenate([features, z2], axis=-1), training=training
        )
        # Means add; log-variances add, so the scales multiply.
        q_z1 = self._normal(prior_moments + posterior_moments)
        z1 = q_z1.sample(seed=seed)
        decoder_output = self._decode(z1, z2, training=training)
        return q_z2, z2, p_z1, q_z1, z1, decoder_output

    # === Training ===

    def call(self, x, training=False):
        return self._pass(x, self.seed_generator, training)[-1]

    def loss_terms(self, x, seed, training=False):
        """Per-example `(reconstruction, kl_z1, kl_z2)`."""
        q_z2, z2, p_z1, q_z1, _, decoder_output = self._pass(x, seed, training)
        reconstruction = -self._likelihood(decoder_output).log_prob(x)
        kl_z2 = kl_divergence(q_z2, self._standard_normal(z2))
        kl_z1 = kl_divergence(q_z1, p_z1)
        return reconstruction, kl_z1, kl_z2

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        # The loss needs the intermediate distributions, so it runs its own
        # pass; `call`'s output (the decoder logits) is not reused.
        reconstruction, kl_z1, kl_z2 = self.loss_terms(
            x, self.seed_generator, training
        )
        for name, value in (
            ("reconstruction_loss", reconstruction),
            ("kl_z1", kl_z1),
            ("kl_z2", kl_z2),
        ):
            self.trackers[name].update_state(value)
        return ops.mean(reconstruction + kl_z1 + kl_z2)

    # === Evaluation and sampling ===

    def elbo(self, x, *, seed=None):
        """Per-example evidence lower bound (nats), one posterior sample."""
        x = ops.convert_to_tensor(
            public_inputs.check_examples(self, x), "float32"
        )
        reconstruction, kl_z1, kl_z2 = self.loss_terms(
            x, public_inputs.seed_source(self, seed)
        )
        return -(reconstruction + kl_z1 + kl_z2)

    def log_likelihood(
        self, x, num_importance_samples=100, seed=None, chunk_size=100
    ):
        """IWAE bound with `log w = log p(x|z1) p(z1|z2) p(z2) -
        log q(z1|x, z2) q(z2|x)`; the K samples run `chunk_size` at a time
        as one batch (the encoder's features are computed once)."""
        num_samples = validate_int(
            num_importance_samples, "num_importance_samples"
        )
        chunk_size = validate_int(chunk_size, "chunk_size")
        x = ops.convert_to_tensor(
            public_inputs.check_examples(self, x), "float32"
        )
        seed = public_inputs.seed_source(self, seed)
        # An estimate, not a loss: no autograd graph per chunk on torch.
        with backend.no_grad():
            return self._log_likelihood(x, num_samples, seed, chunk_size)

    def _log_likelihood(self, x, num_samples, seed, chunk_size):
        batch = ops.shape(x)[0]
        features = to_float32(self.encoder(x, training=False))
        chunks = []
        for start in range(0, num_samples, chunk_size):
            count = min(chunk_size, num_samples - start)
            repeated_x = ops.repeat(x, count, axis=0)
            q_z2, z2, p_z1, q_z1, z1, output = self._pass(
                repeated_x, seed, features=ops.repeat(features, count, axis=0)
            )
            log_weights = (
                self._likelihood(output).log_prob(repeated_x)
                + p_z1.log_prob(z1)
                + self._standard_normal(z2).log_prob(z2)
                - q_z1.log_prob(z1)
                - q_z2.log_prob(z2)
            )
            chunks.append(
                ops.logsumexp(ops.reshape(log_weights, (batch, count)), axis=1)
            )
        return ops.logsumexp(ops.stack(chunks), axis=0) - math.log(num_samples)

    def sample(self, num_samples, *, seed=None):
        """`z2 ~ N(0, I)`, `z1 ~ p(z1|z2)`; the means of `p(x|z1[, z2])`."""
        public_inputs.check_num_samples(num_samples)
        seed = public_inputs.seed_source(self, seed)
        z2 = keras.random.normal((num_samples, self.latent_dims[1]), seed=seed)
        z1 = self._normal(self.z1_prior(z2)).sample(seed=seed)
        with backend.no_grad():
            return ops.sigmoid(self._decode(z1, z2))

    def serving_endpoints(self):
        def sample(noise):
            z1 = self._normal(self.z1_prior(noise)).mean()
            return ops.sigmoid(self._decode(z1, noise))

        noise = keras.InputSpec(
            shape=(None, self.latent_dims[1]), dtype="float32"
        )
        return {"sample": (sample, [noise])}
