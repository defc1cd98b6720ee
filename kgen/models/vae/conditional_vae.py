import keras
from keras import ops

from kgen.models.vae.vae import VAE
from kgen.utils.argument_validation import validate_int


@keras.saving.register_keras_serializable(package="kgen")
class ConditionalVAE(VAE):
    """A VAE whose encoder and decoder both see the class label.

    Learns `q(z|x, y)` and `p(x|z, y)` with the prior `p(z)` shared, so `z`
    carries what the label does not (style, stroke width):

    ```
    loss = E_q[-log p(x|z, y)] + beta * KL(q(z|x, y) || p(z))
    ```

    Train with `fit(images, labels)` (or datasets of
    `{"images": ..., "labels": ...}`); sample a class with
    `sample(n, labels=...)`; every VAE method (`encode`, `decode`, `elbo`,
    `log_likelihood`, `anomaly_score`) takes `labels=`.

    Args:
        encoder: `keras.Model` `[images, labels] -> (batch, 2 * latent_dim)`,
            e.g. `kgen.networks.vae_encoder(..., num_classes=10)`.
        decoder: `keras.Model` `[latent, labels] -> images`.
        latent_dim, likelihood, beta, prior, seed: as for `VAE`.
        num_classes: int.

    References:
        1. Sohn et al. Learning Structured Output Representation using Deep
           Conditional Generative Models. NeurIPS 2015.
    """

    accepts_labels = True

    def __init__(
        self,
        encoder,
        decoder,
        latent_dim,
        num_classes,
        likelihood="bernoulli",
        beta=1.0,
        prior=None,
        seed=None,
        **kwargs,
    ):
        num_classes = validate_int(num_classes, "num_classes", minimum=2)
        super().__init__(
            encoder,
            decoder,
            latent_dim,
            likelihood=likelihood,
            beta=beta,
            prior=prior,
            seed=seed,
            **kwargs,
        )
        self.num_classes = num_classes

    @property
    def data_shape(self):
        shape = self.decoder.compute_output_shape(
            [(None, self.latent_dim), (None,)]
        )
        return tuple(shape[1:])

    def encoder_inputs(self, x, labels=None):
        return [ops.convert_to_tensor(x), self._labels(labels)]

    def decoder_inputs(self, latent, labels=None):
        return [ops.convert_to_tensor(latent), self._labels(labels)]

    def _labels(self, labels):
        if labels is None:
            raise ValueError(
                "A ConditionalVAE needs `labels` (integer class ids)."
            )
        return ops.cast(ops.reshape(labels, (-1,)), "int32")

    def _unpack_inputs(self, inputs):
        return inputs["images"], inputs["labels"]

    def sample(self, num_samples, *, seed=None, labels=None):
        """Decodes `z ~ p(z)` for the given classes (`None`: random classes,
        an int: one class, or `num_samples` ids)."""
        self._check_num_samples(num_samples)
        seed = self._seed_generator(seed)
        labels = self._sample_labels(labels, num_samples, seed)
        return self.decode(self._sample_prior(num_samples, seed), labels=labels)

    # === Export ===

    def serving_endpoints(self):
        latent = keras.InputSpec(shape=(None, self.latent_dim), dtype="float32")
        images = keras.InputSpec(
            shape=(None,) + self.data_shape, dtype="float32"
        )
        labels = keras.InputSpec(shape=(None,), dtype="int32")

        def sample(noise, labels):
            return self.decode(noise, labels=labels)

        def encode(images, labels):
            posterior = self.encode(images, labels=labels)
            return {
                "mean": posterior.distribution.loc,
                "scale": posterior.distribution.scale,
            }

        return {
            "sample": (sample, [latent, labels]),
            "encode": (encode, [images, labels]),
            "decode": (sample, [latent, labels]),
        }

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config
