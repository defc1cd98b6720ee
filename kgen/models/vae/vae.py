import keras
from keras import ops

from kgen import backend
from kgen.distributions import Bernoulli
from kgen.distributions import DiscretizedLogistic
from kgen.distributions import Distribution
from kgen.distributions import Independent
from kgen.distributions import Normal
from kgen.distributions import kl_divergence
from kgen.models import public_inputs
from kgen.models.conditioning import Conditioning
from kgen.models.generative_model import GenerativeModel
from kgen.models.vae.vae_likelihood import VAELikelihood
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_choice
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.mixed_precision import to_float32

LIKELIHOODS = ("bernoulli", "gaussian", "discretized_logistic")


@keras.saving.register_keras_serializable(package="kgen")
class VAE(VAELikelihood, GenerativeModel):
    """Variational autoencoder trained on the evidence lower bound.

    An encoder gives the Gaussian posterior `q(z|x) = N(mu(x), sigma(x)**2)`;
    a decoder gives the likelihood `p(x|z)`; `z` is drawn by the
    reparameterisation `z = mu + sigma * eps`, `eps ~ N(0, I)`. Training
    minimises, per example,

    ```
    loss = E_q[-log p(x|z)] + beta * KL(q(z|x) || p(z))
         = reconstruction_loss + beta * kl_loss
    ```

    which is the negative ELBO for `beta = 1` and the beta-VAE objective
    otherwise. The KL term is exact for the default standard-normal prior
    (any kgen prior with a closed form) and a one-sample Monte Carlo estimate
    `log q(z|x) - log p(z)` for other priors, e.g. a `tfp.distributions`
    object on the TensorFlow backend.

    Built with `num_classes`, it is a conditional VAE (Sohn et al., 2015):
    the encoder and decoder take `[inputs, labels]`, giving `q(z|x, y)` and
    `p(x|z, y)` with the prior `p(z)` shared, so `z` carries what the label
    does not (style, stroke width). It trains on `fit(images, labels)`, and
    `sample`, `encode`, `decode`, `elbo`, `log_likelihood` and
    `anomaly_score` take `labels=`.

    The model only overrides `call` and `compute_loss`, so Keras' own
    trainers fit it on every backend. It reports `loss`,
    `reconstruction_loss` and `kl_loss` (nats per example).

    Args:
        encoder: `keras.Model` mapping data to `(batch, 2 * latent_dim)`:
            the posterior mean, then its log-variance.
        decoder: `keras.Model` mapping `(batch, latent_dim)` to data-shaped
            likelihood parameters (Bernoulli logits or Gaussian means).
        latent_dim: int.
        num_classes: int >= 2 or `None`. Number of classes to condition on
            (networks taking `[inputs, labels]`, e.g.
            `kgen.networks.vae_encoder(..., num_classes=10)`); `None` builds
            an unconditional VAE.
        likelihood: `"bernoulli"` (data in [0, 1]), `"gaussian"` (a
            learned global scale, as in the sigma-VAE) or
            `"discretized_logistic"` (8-bit pixels in [0, 1]: an exact
            discrete likelihood, so the loss converts to bits per dim).
        beta: float >= 0. Weight of the KL term.
        prior: `p(z)` with `log_prob` and `sample`; default `N(0, I)`.
        seed: int or `None`.

    Example:

    ```python
    (x_train, _), (x_test, _) = kgen.datasets.load("digits")
    vae = kgen.models.VAE(
        encoder=kgen.networks.vae_encoder((8, 8, 1), latent_dim=8),
        decoder=kgen.networks.vae_decoder((8, 8, 1), latent_dim=8),
        latent_dim=8,
    )
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(x_train, epochs=50, batch_size=64)
    images = vae.sample(16, seed=0)
    ```

    References:
        1. Kingma and Welling. Auto-Encoding Variational Bayes. 2013.
           arXiv:1312.6114.
        2. Higgins et al. beta-VAE. ICLR 2017.
        3. Sohn et al. Learning Structured Output Representation using Deep
           Conditional Generative Models. NeurIPS 2015.
        4. Rybkin et al. Simple and Effective VAE Training with Calibrated
           Decoders. 2020. arXiv:2006.13202.
    """

    capabilities = ("sample", "encode", "elbo")

    # `fit(x, labels)` becomes `{"images": x, "labels": labels}` for `call`.
    conditioning = Conditioning(labels=True)

    def __init__(
        self,
        encoder,
        decoder,
        latent_dim,
        num_classes=None,
        likelihood="bernoulli",
        beta=1.0,
        prior=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        latent_dim = validate_int(latent_dim, "latent_dim")
        validate_choice(likelihood, "likelihood", LIKELIHOODS)
        beta = validate_float(beta, "beta", minimum=0.0)
        if num_classes is not None:
            num_classes = validate_int(num_classes, "num_classes", minimum=2)
        if isinstance(prior, dict):
            prior = keras.saving.deserialize_keras_object(prior)
        # === Networks ===
        self.encoder = encoder
        self.decoder = decoder
        # === Config ===
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.likelihood = likelihood
        self.beta = float(beta)
        self.prior = prior
        self._prior = (
            prior if prior is not None else _standard_normal(latent_dim)
        )
        if likelihood != "bernoulli":
            # One learned log scale for all pixels: the maximum-likelihood
            # decoder variance (sigma-VAE, ref. 4).
            self.log_scale = self.add_weight(
                shape=(), initializer="zeros", name="log_scale"
            )
        # === Metrics ===
        self.reconstruction_loss_tracker = keras.metrics.Mean(
            name="reconstruction_loss"
        )
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        if encoder.built and decoder.built:
            self.built = True

    @property
    def data_shape(self):
        shape = (None, self.latent_dim)
        if self.num_classes is not None:
            shape = [shape, (None,)]
        return tuple(self.decoder.compute_output_shape(shape)[1:])

    @property
    def data_range(self):
        return None if self.likelihood == "gaussian" else (0.0, 1.0)

    # === Networks' inputs (labels when class-conditional) ===

    def encoder_inputs(self, x, labels=None):
        return self._with_labels(x, labels)

    def decoder_inputs(self, z, labels=None):
        return self._with_labels(z, labels)

    def _with_labels(self, inputs, labels):
        if self.num_classes is None:
            public_inputs.refuse_labels(self, labels)
            return inputs
        if labels is None:
            raise ValueError(
                f"This {type(self).__name__} is class-conditional "
                f"(`num_classes={self.num_classes}`): pass `labels` "
                "(integer class ids)."
            )
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        return [ops.convert_to_tensor(inputs), labels]

    def encode(self, x, training=False, labels=None):
        """The posterior `q(z|x)`, a diagonal normal per example."""
        x = public_inputs.check_examples(self, x)
        labels = public_inputs.check_labels(self, labels, x)
        moments = to_float32(
            backend.call_network(
                self.encoder, self.encoder_inputs(x, labels), training
            )
        )
        mean, log_variance = ops.split(moments, 2, axis=-1)
        return Independent(Normal(mean, ops.exp(0.5 * log_variance)), 1)

    def likelihood_distribution(self, decoder_output):
        """`p(x|z)` from the decoder's output, summed over all pixels."""
        if self.likelihood == "bernoulli":
            base = Bernoulli(logits=decoder_output, dtype="float32")
        else:
            scale = ops.exp(self.log_scale) * ops.ones_like(decoder_output)
            if self.likelihood == "gaussian":
                base = Normal(decoder_output, scale)
            else:
                base = DiscretizedLogistic(decoder_output, scale)
        return Independent(base, len(self.data_shape))

    def decode(self, z, training=False, labels=None):
        """The mean of `p(x|z)`: the image a latent code `z` stands for."""
        z = public_inputs.check_codes(z, (self.latent_dim,), "z")
        labels = public_inputs.check_labels(self, labels, z)
        inputs = self.decoder_inputs(z, labels)
        if training:
            decoder_output = backend.training_call(self.decoder, inputs)
        else:
            decoder_output = backend.inference_call(self.decoder, inputs)
        return self.likelihood_distribution(to_float32(decoder_output)).mean()

    def sample(self, num_samples, *, seed=None, labels=None):
        """Decodes `z ~ p(z)`; returns the means of `p(x|z)` (images).

        Args:
            num_samples: int.
            seed: int, `SeedGenerator` or `None`.
            labels: class-conditional models only: `None` (uniformly random
                classes), an int (all of one class) or `num_samples` ints.
        """
        public_inputs.check_num_samples(num_samples)
        seed = public_inputs.seed_source(self, seed)
        labels = public_inputs.sample_labels(self, labels, num_samples, seed)
        with backend.no_grad():
            return self.decode(
                self._sample_prior(num_samples, seed), labels=labels
            )

    def _sample_prior(self, num_samples, seed):
        if isinstance(self._prior, Distribution):
            return self._prior.sample(
                num_samples, seed=public_inputs.seed_source(self, seed)
            )
        # A foreign prior (e.g. TFP) takes TFP's stateless `(2,)` seed,
        # drawn from the model's generator; a scalar one is drawn once per
        # latent coordinate, as its log_prob is applied.
        shape = (num_samples,)
        if len(self._prior.batch_shape) + len(self._prior.event_shape) == 0:
            shape += (self.latent_dim,)
        return self._prior.sample(
            shape, seed=seeds.loop_seed(public_inputs.seed_source(self, seed))
        )

    # === Training ===

    def call(self, x, training=False):
        x, labels, _ = self.conditioning.split(x)
        posterior = self.encode(x, training=training, labels=labels)
        latent = posterior.sample(seed=self.seed_generator)
        return {
            "decoder_output": to_float32(
                backend.call_network(
                    self.decoder, self.decoder_inputs(latent, labels), training
                )
            ),
            "latent": latent,
            "posterior_mean": posterior.distribution.loc,
            "posterior_scale": posterior.distribution.scale,
        }

    def loss_terms(self, x, outputs):
        """Per-example `(reconstruction_loss, kl_loss)` from `call`'s
        outputs."""
        likelihood = self.likelihood_distribution(outputs["decoder_output"])
        reconstruction_loss = -likelihood.log_prob(x)
        posterior = Independent(
            Normal(outputs["posterior_mean"], outputs["posterior_scale"]), 1
        )
        try:
            kl_loss = kl_divergence(posterior, self._prior)
        except NotImplementedError:
            latent = outputs["latent"]
            kl_loss = posterior.log_prob(latent) - self._prior_log_prob(latent)
        return reconstruction_loss, kl_loss

    def _prior_log_prob(self, latent):
        """`log p(z)` per latent vector: a TFP `Normal` prior is elementwise,
        an `Independent` one already sums the latent axis."""
        log_prob = self._prior.log_prob(latent)
        if len(ops.shape(log_prob)) == len(ops.shape(latent)):
            log_prob = ops.sum(log_prob, axis=-1)
        return log_prob

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        x, _, _ = self.conditioning.split(x)
        reconstruction_loss, kl_loss = self.loss_terms(x, y_pred)
        loss = reconstruction_loss + self.kl_penalty(kl_loss, training)
        self.reconstruction_loss_tracker.update_state(
            reconstruction_loss, sample_weight=sample_weight
        )
        self.kl_loss_tracker.update_state(kl_loss, sample_weight=sample_weight)
        if sample_weight is not None:
            return ops.sum(loss * sample_weight) / ops.sum(sample_weight)
        return ops.mean(loss)

    def kl_penalty(self, kl_loss, training):
        """The KL term of the loss: `beta * KL` (subclasses anneal it)."""
        return self.beta * kl_loss

    def elbo(self, x, *, labels=None, seed=None):
        """Per-example evidence lower bound `E_q[log p(x|z)] - KL` (nats),
        with one posterior sample; `-elbo(x)` bounds `-log p(x)` from above.
        """
        x = public_inputs.check_examples(self, x)
        labels = public_inputs.check_labels(self, labels, x)
        posterior = self.encode(x, labels=labels)
        latent = posterior.sample(seed=public_inputs.seed_source(self, seed))
        outputs = {
            "decoder_output": to_float32(
                self.decoder(
                    self.decoder_inputs(latent, labels), training=False
                )
            ),
            "latent": latent,
            "posterior_mean": posterior.distribution.loc,
            "posterior_scale": posterior.distribution.scale,
        }
        reconstruction_loss, kl_loss = self.loss_terms(x, outputs)
        return -(reconstruction_loss + kl_loss)

    # === Latent space ===

    def interpolate(self, x1, x2, num_points=8):
        """Decodes `num_points` points on the line between the posterior means
        of `x1` and `x2` (batches of equal size).

        Returns:
            `(batch, num_points, *data_shape)`.
        """
        x1 = public_inputs.check_examples(self, x1, "x1")
        x2 = public_inputs.check_examples(self, x2, "x2")
        num_points = validate_int(num_points, "num_points", minimum=2)
        start, end = self.encode(x1).mean(), self.encode(x2).mean()
        weights = ops.linspace(0.0, 1.0, num_points)[None, :, None]
        path = start[:, None, :] * (1.0 - weights) + end[:, None, :] * weights
        images = self.decode(ops.reshape(path, (-1, self.latent_dim)))
        return ops.reshape(images, (-1, num_points) + self.data_shape)

    def latent_traversal(self, x, dimension, values):
        """Decodes the posterior mean of `x` with latent `dimension` set to
        each of `values` (disentanglement plots).

        Returns:
            `(batch, len(values), *data_shape)`.
        """
        dimension = validate_int(
            dimension, "dimension", minimum=0, maximum=self.latent_dim - 1
        )
        mean = self.encode(x).mean()
        values = ops.convert_to_tensor(values, "float32")
        count = ops.shape(values)[0]
        codes = ops.repeat(mean[:, None, :], count, axis=1)
        mask = ops.one_hot(dimension, self.latent_dim)
        codes = codes * (1.0 - mask) + values[None, :, None] * mask
        images = self.decode(ops.reshape(codes, (-1, self.latent_dim)))
        return ops.reshape(images, (-1, count) + self.data_shape)

    # === Export ===

    def serving_endpoints(self):
        latent = keras.InputSpec(shape=(None, self.latent_dim), dtype="float32")
        images = keras.InputSpec(
            shape=(None,) + self.data_shape, dtype="float32"
        )
        if self.num_classes is None:

            def sample(noise):
                return self.decode(noise)

            def encode(images):
                return self._posterior_moments(images)

            def decode(latent):
                return self.decode(latent)

            return {
                "sample": (sample, [latent]),
                "encode": (encode, [images]),
                "decode": (decode, [latent]),
            }

        def conditional_sample(noise, labels):
            return self.decode(noise, labels=labels)

        def conditional_encode(images, labels):
            return self._posterior_moments(images, labels)

        labels = keras.InputSpec(shape=(None,), dtype="int32")
        return {
            "sample": (conditional_sample, [latent, labels]),
            "encode": (conditional_encode, [images, labels]),
            "decode": (conditional_sample, [latent, labels]),
        }

    def _posterior_moments(self, images, labels=None):
        posterior = self.encode(images, labels=labels)
        return {
            "mean": posterior.distribution.loc,
            "scale": posterior.distribution.scale,
        }


def _standard_normal(latent_dim):
    return Independent(
        Normal(ops.zeros((latent_dim,)), ops.ones((latent_dim,))), 1
    )
