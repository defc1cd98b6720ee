import keras
from keras import ops

from kgen import backend
from kgen.distributions import Independent
from kgen.distributions import Normal
from kgen.distributions import kl_divergence
from kgen.losses import adversarial
from kgen.models import public_inputs
from kgen.models import training_steps
from kgen.models.generative_model import GenerativeModel
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_int
from kgen.utils.mixed_precision import to_float32


@keras.saving.register_keras_serializable(package="kgen")
class VAEGAN(GenerativeModel):
    """VAE/GAN: a VAE whose reconstruction error is measured in the feature
    space of a GAN discriminator (Larsen et al., 2016).

    With `x~ = Dec(z)`, `z ~ q(z|x)`, `x_p = Dec(z_p)`, `z_p ~ N(0, I)` and
    `D_l` the discriminator's feature layer:

    ```
    L_prior = KL(q(z|x) || N(0, I))
    L_llike = ||D_l(x) - D_l(x~)||**2            (feature matching)
    L_GAN   = log D(x) + log(1 - D(x~)) + log(1 - D(x_p))
    encoder:       L_prior + L_llike
    decoder:       feature_weight * L_llike - L_GAN (non-saturating)
    discriminator: -L_GAN
    ```

    Three optimizers (`e_optimizer`, `g_optimizer`, `d_optimizer`) in one
    `MultiOptimizer`, one `train_step` on `kgen.backend`. Logs
    `kl_loss`, `feature_loss`, `d_loss`, `g_loss`.

    Args:
        encoder: `keras.Model` images -> `(batch, 2 * latent_dim)` moments.
        decoder: `keras.Model` latent -> images (the generator).
        discriminator: `keras.Model` images -> `[logits, features]`, e.g.
            `kgen.networks.dcgan_discriminator(..., return_features=True)`.
        latent_dim: int.
        feature_weight: float. The paper's gamma weighting `L_llike` in the
            decoder's loss.
        seed: int or `None`.

    References:
        1. Larsen et al. Autoencoding beyond pixels using a learned
           similarity metric. 2016. arXiv:1512.09300.
    """

    capabilities = ("sample", "encode")

    _multi_optimizer_compile = True

    def __init__(
        self,
        encoder,
        decoder,
        discriminator,
        latent_dim,
        feature_weight=1e-2,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        latent_dim = validate_int(latent_dim, "latent_dim")
        if len(discriminator.outputs) != 2:
            raise ValueError(
                "`discriminator` must return [logits, features]; build it "
                "with kgen.networks.dcgan_discriminator(..., "
                "return_features=True)."
            )
        self.encoder = encoder
        self.decoder = decoder
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.feature_weight = float(feature_weight)
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("kl_loss", "feature_loss", "d_loss", "g_loss")
        }
        if all(n.built for n in (encoder, decoder, discriminator)):
            self.built = True

    def compile(
        self,
        e_optimizer="adam",
        g_optimizer="adam",
        d_optimizer="adam",
        **kwargs,
    ):
        """Configures training: one optimizer per network."""
        training_steps.compile_optimizers(
            self,
            {
                "e_optimizer": e_optimizer,
                "g_optimizer": g_optimizer,
                "d_optimizer": d_optimizer,
            },
            {
                "e_optimizer": self.encoder,
                "g_optimizer": self.decoder,
                "d_optimizer": self.discriminator,
            },
            **kwargs,
        )

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def data_shape(self):
        return tuple(self.encoder.inputs[0].shape[1:])

    def call(self, x, training=False):
        return to_float32(
            backend.call_network(self.decoder, self.encode(x).mean(), training)
        )

    def encode(self, x, training=False):
        """The posterior `q(z|x)`, a diagonal normal per example."""
        x = public_inputs.check_examples(self, x)
        moments = to_float32(backend.call_network(self.encoder, x, training))
        mean, log_variance = ops.split(moments, 2, axis=-1)
        return Independent(Normal(mean, ops.exp(0.5 * log_variance)), 1)

    def decode(self, z):
        """The generator's images of `(batch, latent_dim)` codes."""
        z = public_inputs.check_codes(z, (self.latent_dim,), "z")
        return to_float32(backend.inference_call(self.decoder, z))

    def sample(self, num_samples, *, seed=None):
        public_inputs.check_num_samples(num_samples)
        latent = keras.random.normal(
            (num_samples, self.latent_dim),
            seed=public_inputs.seed_source(self, seed),
        )
        with backend.no_grad():
            return self.decode(latent)

    def _loss_terms(self, x, latent, prior_latent, training):
        """KL, feature-matching and adversarial terms of one batch."""
        posterior = self.encode(x, training=training)
        kl = ops.mean(
            kl_divergence(
                posterior,
                Independent(
                    Normal(
                        ops.zeros_like(posterior.distribution.loc),
                        ops.ones_like(posterior.distribution.scale),
                    ),
                    1,
                ),
            )
        )
        z = posterior.distribution.loc + posterior.distribution.scale * latent
        reconstruction = to_float32(
            backend.call_network(self.decoder, z, training)
        )
        prior_samples = to_float32(
            backend.call_network(self.decoder, prior_latent, training)
        )
        real_logits, real_features = to_float32(
            self.discriminator(x, training=training)
        )
        fake_logits, fake_features = to_float32(
            self.discriminator(reconstruction, training=training)
        )
        prior_logits, _ = to_float32(
            self.discriminator(prior_samples, training=training)
        )
        feature_loss = ops.mean(
            ops.sum(ops.square(real_features - fake_features), axis=-1)
        )
        return kl, feature_loss, real_logits, fake_logits, prior_logits

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        batch = ops.shape(x)[0]
        # Noise drawn once, outside the gradient functions: all three
        # networks see the same reconstruction and prior samples.
        latent = batch_random.normal(
            (batch, self.latent_dim), self.seed_generator
        )
        prior_latent = batch_random.normal(
            (batch, self.latent_dim), self.seed_generator
        )

        def terms():
            return self._loss_terms(x, latent, prior_latent, True)

        # 1. Discriminator: real vs reconstructions and prior samples.
        def d_loss_fn():
            _, _, real, fake, prior = terms()
            loss = adversarial.minimax_discriminator_loss(
                real, ops.concatenate([fake, prior], axis=0)
            )
            return loss, None

        d_vars = self.discriminator.trainable_variables
        (d_loss, _), grads = training_steps.value_and_grad(
            self, d_loss_fn, d_vars
        )
        training_steps.apply_gradients(self, self.d_optimizer, grads, d_vars)

        # 2. Encoder: prior + feature-matching reconstruction.
        def e_loss_fn():
            kl, feature_loss, _, _, _ = terms()
            return kl + feature_loss, (kl, feature_loss)

        e_vars = self.encoder.trainable_variables
        (_, (kl, feature_loss)), grads = training_steps.value_and_grad(
            self, e_loss_fn, e_vars
        )
        training_steps.apply_gradients(self, self.e_optimizer, grads, e_vars)

        # 3. Decoder: reconstruct in feature space and fool the critic.
        def g_loss_fn():
            _, feature_loss, _, fake, prior = terms()
            adversarial_loss = adversarial.non_saturating_generator_loss(
                ops.concatenate([fake, prior], axis=0)
            )
            return self.feature_weight * feature_loss + adversarial_loss, None

        g_vars = self.decoder.trainable_variables
        (g_loss, _), grads = training_steps.value_and_grad(
            self, g_loss_fn, g_vars
        )
        training_steps.apply_gradients(self, self.g_optimizer, grads, g_vars)

        for name, value in (
            ("kl_loss", kl),
            ("feature_loss", feature_loss),
            ("d_loss", d_loss),
            ("g_loss", g_loss),
        ):
            self.trackers[name].update_state(value)
        return {m.name: m.result() for m in self.metrics}

    def serving_endpoints(self):
        latent = keras.InputSpec(shape=(None, self.latent_dim), dtype="float32")
        images = keras.InputSpec(
            shape=(None,) + self.data_shape, dtype="float32"
        )
        return {
            "sample": (lambda latent: self.decode(latent), [latent]),
            "encode": (lambda images: self.encode(images).mean(), [images]),
            "decode": (lambda latent: self.decode(latent), [latent]),
        }
