import keras
from keras import ops

from kgen import backend
from kgen.models import contract
from kgen.models import public_inputs
from kgen.models.generative_model import GenerativeModel
from kgen.utils.mixed_precision import to_float32


@keras.saving.register_keras_serializable(package="kgen")
class VQVAE(GenerativeModel):
    """Vector-quantised VAE: a discrete grid of codes from a learned codebook.

    `z_e = E(x)`, `z_q = quantizer(z_e)` (nearest codebook vectors,
    straight-through gradients), `x_hat = D(z_q)`, trained by `compute_loss`
    alone on

    ```
    loss = ||x - D(z_q)||**2 + ||sg[z_e] - e||**2 + beta ||z_e - sg[e]||**2
    ```

    (the codebook term is replaced by EMA updates with
    `VectorQuantizer(use_ema=True)`). Logs `reconstruction_loss`,
    `vq_loss`, `perplexity` (exp of the batch code-usage entropy) and
    `codebook_usage` (fraction of codes used in the batch).

    Sampling needs a prior over code grids, fitted after the VQ-VAE: a
    `kgen.models.PixelCNN(code_shape, num_levels=num_embeddings)` (one
    network call per code) or a `kgen.models.MaskGIT` (a few parallel
    steps) trained on `encode(x)` and set as `prior`. Until one is
    given, `sample()` raises and says so; a uniform prior would give
    noise, so none is faked.

    Args:
        encoder: `keras.Model` images -> `(batch, h, w, embedding_dim)`.
        decoder: `keras.Model` code vectors -> images.
        quantizer: `kgen.layers.VectorQuantizer`.
        prior: optional model of code grids with `sample(n, seed=...)`
            (e.g. a fitted `PixelCNN`); may also be set later as
            `vqvae.prior`.
        seed: int or `None`.

    References:
        1. van den Oord et al. Neural Discrete Representation Learning.
           2017. arXiv:1711.00937.
    """

    capabilities = ("sample", "encode")

    def __init__(
        self, encoder, decoder, quantizer, prior=None, seed=None, **kwargs
    ):
        super().__init__(seed=seed, **kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.quantizer = quantizer
        self.prior = prior
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in (
                "reconstruction_loss",
                "vq_loss",
                "perplexity",
                "codebook_usage",
            )
        }
        if encoder.built and decoder.built:
            if not quantizer.built:
                quantizer.build(encoder.output.shape)
            self.built = True

    @property
    def data_shape(self):
        return tuple(self.encoder.inputs[0].shape[1:])

    @property
    def code_shape(self):
        """Shape of one grid of code indices, e.g. `(7, 7)`."""
        return tuple(self.encoder.output.shape[1:-1])

    def call(self, x, training=False):
        quantized = self.quantizer(
            to_float32(backend.call_network(self.encoder, x, training)),
            training=training,
        )
        return dict(
            quantized,
            reconstruction=to_float32(
                backend.call_network(
                    self.decoder, quantized["quantized"], training
                )
            ),
        )

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        reconstruction_loss = ops.mean(
            ops.square(ops.subtract(x, y_pred["reconstruction"]))
        )
        values = {
            "reconstruction_loss": reconstruction_loss,
            "vq_loss": y_pred["loss"],
            "perplexity": y_pred["perplexity"],
            "codebook_usage": y_pred["usage"],
        }
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return reconstruction_loss + y_pred["loss"]

    def encode(self, x):
        """Code indices `(batch, *code_shape)` of images."""
        x = public_inputs.check_examples(self, x)
        return self.quantizer(to_float32(self.encoder(x, training=False)))[
            "indices"
        ]

    def decode(self, indices):
        """Images from a grid of code indices."""
        indices = public_inputs.check_codes(
            indices,
            self.code_shape,
            "indices",
            num_levels=self.quantizer.num_embeddings,
        )
        return to_float32(
            backend.inference_call(self.decoder, self.quantizer.lookup(indices))
        )

    def reconstruct(self, x):
        return self.decode(self.encode(x))

    # === Sampling through the prior ===

    @property
    def num_classes(self):
        """The prior's classes: `sample(labels=...)` draws those digits.
        The autoencoder itself trains on images alone, so `fit` takes no
        labels (`is_class_conditional` stays false)."""
        return getattr(self.prior, "num_classes", None)

    @property
    def samples_by_class(self):
        return bool(getattr(self.prior, "is_class_conditional", False))

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        num_steps=None,
        temperature=None,
        guidance_scale=None,
    ):
        """Decodes code grids drawn from `prior`.

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            labels: class ids for a class-conditional prior.
            num_steps: parallel decoding steps of a `MaskGIT` prior.
            temperature: the prior's sampling temperature.
            guidance_scale: classifier-free guidance of a `MaskGIT` prior.

        `None` leaves an argument at the prior's own default; one the
        prior does not take is refused.
        """
        if self.prior is None:
            raise ValueError(
                "VQVAE.sample() needs a prior over code grids: fit "
                f"kgen.models.PixelCNN({self.code_shape}, num_levels="
                f"{self.quantizer.num_embeddings}) or a kgen.models.MaskGIT "
                "on vqvae.encode(x) and set it as vqvae.prior. kgen does "
                "not fake this with a uniform prior."
            )
        public_inputs.check_num_samples(num_samples)
        given = {
            name: value
            for name, value in (
                ("labels", labels),
                ("num_steps", num_steps),
                ("temperature", temperature),
                ("guidance_scale", guidance_scale),
            )
            if value is not None
        }
        accepted = contract.options(self.prior, "sample")
        for name in given:
            if name not in accepted:
                raise ValueError(
                    f"`{name}` is not an argument of this VQ-VAE's prior, "
                    f"a {type(self.prior).__name__}; it takes "
                    f"{sorted(accepted - {'seed'})}."
                )
        codes = self.prior.sample(
            num_samples, seed=public_inputs.seed_source(self, seed), **given
        )
        shape = tuple(codes.shape[1:])
        if shape != self.code_shape:
            raise ValueError(
                f"The prior samples {shape} grids; this VQ-VAE decodes "
                f"{self.code_shape} grids."
            )
        with backend.no_grad():
            return self.decode(codes)

    def serving_endpoints(self):
        images = keras.InputSpec(
            shape=(None,) + self.data_shape, dtype="float32"
        )
        indices = keras.InputSpec(
            shape=(None,) + self.code_shape, dtype="int32"
        )

        def encode(images):
            return self.encode(images)

        def decode(indices):
            return self.decode(indices)

        endpoints = {
            "encode": (encode, [images]),
            "decode": (decode, [indices]),
        }
        if self.prior is not None:
            # The prior's own sampling endpoint, its grids decoded.
            prior_sample, signature = self.prior.serving_endpoints()["sample"]

            def sample(*inputs):
                return self.decode(prior_sample(*inputs))

            endpoints["sample"] = (sample, signature)
        return endpoints
