import keras
from keras import layers
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.models.generative_model import GenerativeModel
from kgen.utils.mixed_precision import to_float32

_NETWORKS = (
    "bottom_encoder",
    "top_encoder",
    "top_decoder",
    "decoder",
    "bottom_quantizer",
    "top_quantizer",
)


@keras.saving.register_keras_serializable(package="kgen")
class VQVAE2(GenerativeModel):
    """VQ-VAE-2: a coarse top grid of codes and a fine bottom grid.

    ```
    h_b = E_b(x),  q_t = VQ_t(E_t(h_b)),  u = D_t(q_t)
    q_b = VQ_b(W [h_b, u])           (bottom codes see the top's decoding)
    x_hat = D([u, q_b])
    loss = ||x - x_hat||**2 + vq_loss_top + vq_loss_bottom
    ```

    The top codes carry global structure, the bottom codes local detail
    (Razavi et al., 2019). `encode(x)` returns both index grids,
    `decode(top, bottom)` the images. `sample()` needs priors over both
    grids, fitted after the VQ-VAE-2 and raising until set: a
    `PixelCNN` over the top grids (`top_prior`) and a `PixelCNN` with
    `condition_channels` over the bottom grids given
    `bottom_condition(top)` (`bottom_prior`).

    Args:
        bottom_encoder, top_encoder, top_decoder, decoder: `keras.Model`s
            (see `kgen.networks.vqvae2_networks`).
        bottom_quantizer, top_quantizer: `kgen.layers.VectorQuantizer`s.
        top_prior, bottom_prior: optional code-grid priors (see above).
        seed: int or `None`.

    References:
        1. Razavi et al. Generating Diverse High-Fidelity Images with
           VQ-VAE-2. 2019. arXiv:1906.00446.
    """

    capabilities = ("sample", "encode")

    def __init__(
        self,
        bottom_encoder,
        top_encoder,
        top_decoder,
        decoder,
        bottom_quantizer,
        top_quantizer,
        top_prior=None,
        bottom_prior=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.bottom_encoder = bottom_encoder
        self.top_encoder = top_encoder
        self.top_decoder = top_decoder
        self.decoder = decoder
        self.bottom_quantizer = bottom_quantizer
        self.top_quantizer = top_quantizer
        embedding_dim = bottom_quantizer.embedding_dim
        # The 1x1 projection of [h_b, u] onto the bottom codebook's space.
        self.bottom_projection = layers.Conv2D(embedding_dim, 1)
        bottom_shape = bottom_encoder.output.shape
        self.bottom_projection.build(
            bottom_shape[:-1] + (bottom_shape[-1] + embedding_dim,)
        )
        if not top_quantizer.built:
            top_quantizer.build(top_encoder.output.shape)
        if not bottom_quantizer.built:
            bottom_quantizer.build(bottom_shape[:-1] + (embedding_dim,))
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in (
                "reconstruction_loss",
                "vq_loss",
                "top_perplexity",
                "bottom_perplexity",
            )
        }
        # Last, as when a prior is set after fitting: the variables keep
        # one order whether the priors come in here or later, so a saved
        # optimizer state loads into a rebuilt model.
        self.top_prior = top_prior
        self.bottom_prior = bottom_prior
        self.built = True

    @property
    def data_shape(self):
        return tuple(self.bottom_encoder.inputs[0].shape[1:])

    def _quantize(self, x, training=False):
        h_b = self.bottom_encoder(x, training=training)
        top = self.top_quantizer(
            self.top_encoder(h_b, training=training), training=training
        )
        u = self.top_decoder(top["quantized"], training=training)
        bottom = self.bottom_quantizer(
            self.bottom_projection(ops.concatenate([h_b, u], axis=-1)),
            training=training,
        )
        return top, bottom, u

    def call(self, x, training=False):
        top, bottom, u = self._quantize(x, training)
        reconstruction = to_float32(
            backend.call_network(
                self.decoder,
                ops.concatenate([u, bottom["quantized"]], axis=-1),
                training,
            )
        )
        return {
            "reconstruction": reconstruction,
            "vq_loss": top["loss"] + bottom["loss"],
            "top_perplexity": top["perplexity"],
            "bottom_perplexity": bottom["perplexity"],
        }

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        reconstruction_loss = ops.mean(
            ops.square(ops.subtract(x, y_pred["reconstruction"]))
        )
        values = dict(y_pred, reconstruction_loss=reconstruction_loss)
        for name, tracker in self.trackers.items():
            tracker.update_state(values[name])
        return reconstruction_loss + y_pred["vq_loss"]

    def encode(self, x):
        """`(top_indices, bottom_indices)` grids of images."""
        x = public_inputs.check_examples(self, x)
        top, bottom, _ = self._quantize(x)
        return top["indices"], bottom["indices"]

    def decode(self, top_indices, bottom_indices):
        u = self.top_decoder(self.top_quantizer.lookup(top_indices))
        bottom = self.bottom_quantizer.lookup(bottom_indices)
        return to_float32(self.decoder(ops.concatenate([u, bottom], axis=-1)))

    def bottom_condition(self, top_indices):
        """The decoded top codes at the bottom grid's resolution: what a
        bottom-code prior is conditioned on."""
        return self.top_decoder(self.top_quantizer.lookup(top_indices))

    def sample(self, num_samples, *, seed=None):
        """Top codes from `top_prior`, bottom codes from `bottom_prior`
        given `bottom_condition(top)`, decoded."""
        if self.top_prior is None or self.bottom_prior is None:
            raise ValueError(
                "VQVAE2.sample() needs priors over both code grids: fit "
                "kgen.models.PixelCNN on the top indices of vqvae2.encode(x) "
                "(set it as vqvae2.top_prior), and a PixelCNN with "
                "`condition_channels` on the bottom indices given "
                "vqvae2.bottom_condition(top) (vqvae2.bottom_prior). kgen "
                "does not fake this with a uniform prior."
            )
        public_inputs.check_num_samples(num_samples)
        seed = public_inputs.seed_source(self, seed)
        top = self.top_prior.sample(num_samples, seed=seed)
        bottom = self.bottom_prior.sample(
            num_samples, seed=seed, condition=self.bottom_condition(top)
        )
        with backend.no_grad():
            return self.decode(top, bottom)

    def serving_endpoints(self):
        images = keras.InputSpec(
            shape=(None,) + self.data_shape, dtype="float32"
        )
        top = keras.InputSpec(
            shape=(None,) + tuple(self.top_encoder.output.shape[1:-1]),
            dtype="int32",
        )
        bottom = keras.InputSpec(
            shape=(None,) + tuple(self.bottom_encoder.output.shape[1:-1]),
            dtype="int32",
        )

        def encode(images):
            top_indices, bottom_indices = self.encode(images)
            return {"top": top_indices, "bottom": bottom_indices}

        def decode(top, bottom):
            return self.decode(top, bottom)

        return {
            "encode": (encode, [images]),
            "decode": (decode, [top, bottom]),
        }
