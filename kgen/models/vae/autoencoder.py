import keras
from keras import ops

from kgen import backend
from kgen.distributions import Bernoulli
from kgen.distributions import Independent
from kgen.models import public_inputs
from kgen.models.generative_model import GenerativeModel
from kgen.utils.argument_validation import validate_choice
from kgen.utils.argument_validation import validate_int
from kgen.utils.mixed_precision import to_float32

RECONSTRUCTION_LOSSES = ("bernoulli", "mse")


@keras.saving.register_keras_serializable(package="kgen")
class Autoencoder(GenerativeModel):
    """A deterministic autoencoder that can still sample.

    `x -> z = E(x) -> D(z)`, trained on the reconstruction loss alone
    (summed Bernoulli cross-entropy or squared error per example). To
    sample, it keeps a running Gaussian fit of the codes it sees in
    training (mean and covariance, as pythae's `NormalSampler` fits after
    training) and decodes draws from it: a VAE's prior without the KL.

    Args:
        encoder: `keras.Model` data -> `(batch, latent_dim)` codes.
        decoder: `keras.Model` codes -> data-shaped logits (bernoulli) or
            values (mse).
        latent_dim: int.
        reconstruction_loss: `"bernoulli"` (data in [0, 1]) or `"mse"`.
        seed: int or `None`.
    """

    capabilities = ("sample", "encode")

    def __init__(
        self,
        encoder,
        decoder,
        latent_dim,
        reconstruction_loss="bernoulli",
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        latent_dim = validate_int(latent_dim, "latent_dim")
        validate_choice(
            reconstruction_loss, "reconstruction_loss", RECONSTRUCTION_LOSSES
        )
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = latent_dim
        self.reconstruction_loss = reconstruction_loss
        # Running first and second moments of the training codes.
        self.code_count = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="code_count"
        )
        self.code_sum = self.add_weight(
            shape=(latent_dim,),
            initializer="zeros",
            trainable=False,
            name="code_sum",
        )
        self.code_outer_sum = self.add_weight(
            shape=(latent_dim, latent_dim),
            initializer="zeros",
            trainable=False,
            name="code_outer_sum",
        )
        if encoder.built and decoder.built:
            self.built = True

    @property
    def data_shape(self):
        shape = self.decoder.compute_output_shape((None, self.latent_dim))
        return tuple(shape[1:])

    @property
    def data_range(self):
        return (0.0, 1.0) if self.reconstruction_loss == "bernoulli" else None

    def encode(self, x, training=False):
        """The codes of `x`, `(batch, latent_dim)`."""
        x = public_inputs.check_examples(self, x)
        return to_float32(backend.call_network(self.encoder, x, training))

    def decode(self, z, training=False):
        """The reconstructions of `(batch, latent_dim)` codes `z`."""
        z = public_inputs.check_codes(z, (self.latent_dim,), "z")
        if training:
            output = to_float32(backend.training_call(self.decoder, z))
        else:
            output = to_float32(backend.inference_call(self.decoder, z))
        if self.reconstruction_loss == "bernoulli":
            return ops.sigmoid(output)
        return output

    def call(self, x, training=False):
        codes = self.encode(self.corrupt(x, training), training)
        return {
            "codes": codes,
            "decoder_output": to_float32(self.decoder(codes)),
        }

    def corrupt(self, x, training):
        """The input the encoder sees (the identity here)."""
        return x

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        output = y_pred["decoder_output"]
        if self.reconstruction_loss == "bernoulli":
            per_example = -Independent(
                Bernoulli(logits=output, dtype="float32"), len(self.data_shape)
            ).log_prob(x)
        else:
            axes = tuple(range(1, len(self.data_shape) + 1))
            per_example = ops.sum(ops.square(x - output), axis=axes)
        if training:
            # Totals over the global batch when the step runs
            # data-parallel.
            codes = ops.stop_gradient(y_pred["codes"])
            total = backend.sum_over_replicas
            count = ops.cast(ops.shape(codes)[0], "float32")
            self.code_count.assign_add(total(count))
            self.code_sum.assign_add(total(ops.sum(codes, axis=0)))
            self.code_outer_sum.assign_add(
                total(ops.matmul(ops.transpose(codes), codes))
            )
        return ops.mean(per_example)

    def sample(self, num_samples, *, seed=None):
        """Decodes codes drawn from the Gaussian fit of the training codes."""
        public_inputs.check_num_samples(num_samples)
        seed = public_inputs.seed_source(self, seed)
        count = self.code_count
        if float(keras.ops.convert_to_numpy(count)) < 2:
            raise ValueError(
                "The autoencoder has no code statistics yet: fit it before "
                "sampling (sampling draws from a Gaussian fit of the codes "
                "seen in training)."
            )
        mean = self.code_sum / count
        covariance = self.code_outer_sum / count - ops.outer(mean, mean)
        jitter = 1e-5 * ops.eye(self.latent_dim)
        factor = ops.linalg.cholesky(covariance + jitter)
        noise = keras.random.normal((num_samples, self.latent_dim), seed=seed)
        with backend.no_grad():
            return self.decode(mean + ops.matmul(noise, ops.transpose(factor)))

    def serving_endpoints(self):
        latent = keras.InputSpec(shape=(None, self.latent_dim), dtype="float32")
        images = keras.InputSpec(
            shape=(None,) + self.data_shape, dtype="float32"
        )
        return {
            "encode": (lambda images: self.encode(images), [images]),
            "decode": (lambda latent: self.decode(latent), [latent]),
        }
