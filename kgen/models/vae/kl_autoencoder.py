import keras
from keras import ops

from kgen import backend
from kgen.distributions import Independent
from kgen.distributions import Normal
from kgen.distributions import kl_divergence
from kgen.models import public_inputs
from kgen.models.generative_model import GenerativeModel
from kgen.models.vae import diffusers_autoencoder_checkpoint
from kgen.utils.argument_validation import validate_choice
from kgen.utils.argument_validation import validate_float
from kgen.utils.mixed_precision import to_float32

RECONSTRUCTION_LOSSES = ("l1", "mse")


@keras.saving.register_keras_serializable(package="kgen")
class KLAutoencoder(GenerativeModel):
    """Stable Diffusion's first stage: images to a small spatial latent,
    kept near `N(0, I)` by a weak KL term, for `LatentDiffusion`.

    ```
    q(z|x) = N(mu(x), diag sigma(x)^2),   z: (h / f, w / f, c)
    loss = sum |x - D(z)|  +  kl_weight * KL(q(z|x) || N(0, I)),
           z ~ q(z|x)   (reparameterised)
    KL = 1/2 sum (mu^2 + sigma^2 - 1 - log sigma^2)
    ```

    A `VAE` keeps a flat code and a KL of weight 1, so it can sample from
    its prior; here the code keeps the image's layout (a U-Net or DiT
    denoiser runs on it) and the KL weight is small (Stable Diffusion's is
    1e-6), so the latent keeps detail and only its scale is held near
    unit. `sample` decodes `N(0, I)` draws, which are not images of the
    data unless the KL weight is large: the latent is for a diffusion
    model to learn. Stable Diffusion adds a perceptual and an adversarial
    term at scale; at the sizes trained here the pixel loss alone is used.

    Args:
        encoder: `keras.Model` images -> `(batch, h', w', 2 c)`: the
            posterior means and log-variances, concatenated on the channel
            axis (`kgen.networks.kl_autoencoder_networks`).
        decoder: `keras.Model` `(batch, h', w', c)` latents -> images.
        kl_weight: float >= 0. The KL term's weight.
        reconstruction_loss: `"l1"` (Stable Diffusion's) or `"mse"`,
            summed over pixels.
        seed: int or `None`.

    Example:

    ```python
    encoder, decoder = kgen.networks.kl_autoencoder_networks((8, 8, 1))
    autoencoder = kgen.models.KLAutoencoder(encoder, decoder, seed=0)
    autoencoder.compile(optimizer="adam")
    ```

    References:
        1. Rombach et al. High-Resolution Image Synthesis with Latent
           Diffusion Models. 2022. arXiv:2112.10752 (section 3, appendix
           G: the KL-regularised autoencoder).
    """

    capabilities = ("sample", "encode")

    def __init__(
        self,
        encoder,
        decoder,
        kl_weight=1e-6,
        reconstruction_loss="l1",
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.kl_weight = validate_float(kl_weight, "kl_weight", minimum=0.0)
        validate_choice(
            reconstruction_loss, "reconstruction_loss", RECONSTRUCTION_LOSSES
        )
        self.reconstruction_loss = reconstruction_loss
        self.encoder = encoder
        self.decoder = decoder
        self.reconstruction_loss_tracker = keras.metrics.Mean(
            name="reconstruction_loss"
        )
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        if encoder.built and decoder.built:
            self.built = True

    @classmethod
    def from_diffusers(cls, folder):
        """The autoencoder of a diffusers `AutoencoderKL` folder
        (`config.json`, `diffusion_pytorch_model.safetensors`) or of a
        pipeline folder's `vae/`.

        `encode(x).mean()` equals diffusers' `encode(x).latent_dist.mean`
        and `decode(z)` its `decode(z).sample`, channels last; weights
        are read with NumPy (no torch), every tensor assigned.

        The folder is checked before anything is built, and refused, as
        by `DiffusionModel.from_diffusers`.

        Example:

        ```python
        autoencoder = kgen.models.KLAutoencoder.from_diffusers("sd/vae")
        latents = autoencoder.encode(images).mean()
        ```
        """
        return diffusers_autoencoder_checkpoint.load_autoencoder(cls, folder)

    @property
    def latent_shape(self):
        """`(h', w', c)`: the decoder's input."""
        return tuple(self.decoder.input_shape[1:])

    @property
    def data_shape(self):
        shape = self.decoder.compute_output_shape((None,) + self.latent_shape)
        return tuple(shape[1:])

    @property
    def data_range(self):
        # Linear outputs: images in any range (Stable Diffusion's [-1, 1]).
        return None

    def encode(self, x, training=False):
        """The posterior `q(z|x)`: a diagonal normal over the latent grid
        of each example."""
        x = public_inputs.check_examples(self, x)
        moments = to_float32(backend.call_network(self.encoder, x, training))
        mean, log_variance = ops.split(moments, 2, axis=-1)
        # Stable Diffusion's bounds, so that an untrained encoder's
        # log-variance cannot overflow `exp`.
        log_variance = ops.clip(log_variance, -30.0, 20.0)
        return Independent(
            Normal(mean, ops.exp(0.5 * log_variance)), len(self.latent_shape)
        )

    def decode(self, z, training=False):
        """The images that `(batch, h', w', c)` latents stand for."""
        z = public_inputs.check_codes(z, self.latent_shape, "z")
        if training:
            return to_float32(self.decoder(z, training=True))
        return to_float32(backend.inference_call(self.decoder, z))

    def sample(self, num_samples, *, seed=None):
        """Decodes latents drawn from `N(0, I)`."""
        public_inputs.check_num_samples(num_samples)
        seed = public_inputs.seed_source(self, seed)
        latent = keras.random.normal(
            (num_samples,) + self.latent_shape, seed=seed
        )
        with backend.no_grad():
            return self.decode(latent)

    # === Training ===

    def call(self, x, training=False):
        posterior = self.encode(x, training=training)
        latent = posterior.sample(seed=self.seed_generator)
        return {
            "reconstruction": to_float32(
                self.decoder(latent, training=training)
            ),
            "posterior_mean": posterior.distribution.loc,
            "posterior_scale": posterior.distribution.scale,
        }

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        axes = tuple(range(1, len(self.data_shape) + 1))
        # `ops.subtract`, not `-`: a NumPy batch minus a torch tensor is a
        # TypeError (compute_loss is public, called outside `fit` too).
        error = ops.subtract(x, y_pred["reconstruction"])
        if self.reconstruction_loss == "l1":
            reconstruction_loss = ops.sum(ops.abs(error), axis=axes)
        else:
            reconstruction_loss = ops.sum(ops.square(error), axis=axes)
        event_ndims = len(self.latent_shape)
        posterior = Independent(
            Normal(y_pred["posterior_mean"], y_pred["posterior_scale"]),
            event_ndims,
        )
        prior = Independent(
            Normal(ops.zeros(self.latent_shape), ops.ones(self.latent_shape)),
            event_ndims,
        )
        kl_loss = kl_divergence(posterior, prior)
        loss = reconstruction_loss + self.kl_weight * kl_loss
        self.reconstruction_loss_tracker.update_state(
            reconstruction_loss, sample_weight=sample_weight
        )
        self.kl_loss_tracker.update_state(kl_loss, sample_weight=sample_weight)
        if sample_weight is not None:
            return ops.sum(loss * sample_weight) / ops.sum(sample_weight)
        return ops.mean(loss)

    # === Export ===

    def serving_endpoints(self):
        latent = keras.InputSpec(
            shape=(None,) + self.latent_shape, dtype="float32"
        )
        images = keras.InputSpec(
            shape=(None,) + self.data_shape, dtype="float32"
        )

        def encode(images):
            return self.encode(images).mean()

        return {
            "sample": (self.decode, [latent]),
            "encode": (encode, [images]),
            "decode": (self.decode, [latent]),
        }
