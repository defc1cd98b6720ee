import keras
from keras import ops

from kgen import backend
from kgen.layers import StyleMixing
from kgen.models import data_path
from kgen.models import public_inputs
from kgen.models.gan.gan import GAN
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.mixed_precision import to_float32
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class StyleGenerator(RecordedConfig, keras.Model):
    """Mapping, style mixing and synthesis as one generator for `GAN`'s
    steps. Takes noise `(batch, 2, latent_dim)`: the second code is only
    used by style mixing in training. Built by `StyleGAN`, which saves its
    parts."""

    def __init__(
        self, mapping, synthesis, style_mixing_probability, seed, **kwargs
    ):
        super().__init__(**kwargs)
        self.mapping = mapping
        self.synthesis = synthesis
        self.seed = seed
        self.mixing = StyleMixing(
            synthesis.inputs[0].shape[1], style_mixing_probability, seed
        )

    def call(self, noise, training=False):
        first = self.mapping(noise[:, 0], training=training)
        second = self.mapping(noise[:, 1], training=training)
        styles = self.mixing([first, second], training=training)
        return self.synthesis(styles, training=training)


@keras.saving.register_keras_serializable(package="kgen")
class StyleGAN(GAN):
    """Style-based generator: a mapping network, AdaIN styles, noise.

    `z -> w = f(z)` (mapping network); each synthesis layer takes the style
    `w` through AdaIN and adds per-pixel noise for stochastic detail. In
    training, styles of two codes are mixed at a random layer with
    probability `style_mixing_probability`. `sample(truncation_psi=...)`
    pulls styles towards their running mean `w_avg`:

    ```
    w' = w_avg + psi (w - w_avg)
    ```

    (`psi = 1`: no truncation; `psi = 0`: every sample gets the average
    style). `mix_styles` renders coarse layers from one code and fine
    layers from another. Trained like `GAN` (non-saturating loss with R1,
    as in the paper, by default).

    Args:
        mapping: `keras.Model` `z -> w`, e.g. `kgen.networks.stylegan_mapping`.
        synthesis: `keras.Model` `(batch, num_layers, w_dim) -> images`, e.g.
            `kgen.networks.stylegan_synthesis`.
        discriminator: `keras.Model` images -> logits.
        latent_dim: int.
        style_mixing_probability: float.
        w_average_decay: float. Decay of the running mean of `w`.
        loss, d_steps, r1_gamma, seed: as for `GAN`.

    References:
        1. Karras et al. A Style-Based Generator Architecture for Generative
           Adversarial Networks. 2019. arXiv:1812.04948.
    """

    def __init__(
        self,
        mapping,
        synthesis,
        discriminator,
        latent_dim,
        style_mixing_probability=0.9,
        w_average_decay=0.995,
        loss="non_saturating",
        d_steps=1,
        r1_gamma=10.0,
        seed=None,
        **kwargs,
    ):
        generator = StyleGenerator(
            mapping, synthesis, style_mixing_probability, seed or 0
        )
        generator(ops.zeros((1, 2, latent_dim)))  # builds its state
        super().__init__(
            generator,
            discriminator,
            latent_dim,
            loss=loss,
            d_steps=d_steps,
            r1_gamma=r1_gamma,
            seed=seed,
            **kwargs,
        )
        self.mapping = mapping
        self.synthesis = synthesis
        self.style_mixing_probability = style_mixing_probability
        self.w_average_decay = w_average_decay
        self.num_style_layers = synthesis.inputs[0].shape[1]
        self.w_average = self.add_weight(
            shape=(mapping.output.shape[-1],),
            initializer="zeros",
            trainable=False,
            name="w_average",
        )

    @property
    def data_shape(self):
        return tuple(self.synthesis.output.shape[1:])

    def call(self, noise, training=False):
        return self.synthesize(noise)

    def sample_noise(self, num_samples, seed=None):
        # Two codes per sample: the second feeds style mixing.
        return batch_random.normal(
            (num_samples, 2, self.latent_dim),
            public_inputs.seed_source(self, seed),
        )

    # === Styles ===

    def styles(self, noise, truncation_psi=1.0):
        """`w' = w_avg + psi (f(z) - w_avg)` for `(batch, latent_dim)` noise."""
        noise = public_inputs.check_codes(noise, (self.latent_dim,), "noise")
        truncation_psi = validate_float(truncation_psi, "truncation_psi")
        w = to_float32(self.mapping(noise, training=False))
        return self.w_average + truncation_psi * (w - self.w_average)

    def synthesize(self, noise, *, truncation_psi=1.0):
        """Renders `(batch, latent_dim)` noise with every layer styled by
        its truncated `w`."""
        w = self.styles(noise, truncation_psi)
        styles = ops.repeat(w[:, None, :], self.num_style_layers, axis=1)
        return to_float32(self.synthesis(styles, training=False))

    def sample(self, num_samples, *, seed=None, truncation_psi=1.0):
        public_inputs.check_num_samples(num_samples)
        noise = keras.random.normal(
            (num_samples, self.latent_dim),
            seed=public_inputs.seed_source(self, seed),
        )
        with backend.no_grad():
            return self.synthesize(noise, truncation_psi=truncation_psi)

    def mix_styles(
        self, coarse_noise, fine_noise, crossover, truncation_psi=1.0
    ):
        """Renders layers `< crossover` with the styles of `coarse_noise`
        and the rest with those of `fine_noise` (both `(batch,
        latent_dim)`)."""
        crossover = validate_int(
            crossover, "crossover", minimum=0, maximum=self.num_style_layers
        )
        coarse = self.styles(coarse_noise, truncation_psi)
        fine = self.styles(fine_noise, truncation_psi)
        layers = [
            coarse if index < crossover else fine
            for index in range(self.num_style_layers)
        ]
        return to_float32(
            self.synthesis(ops.stack(layers, axis=1), training=False)
        )

    # === Training ===

    def train_step(self, data):
        logs = super().train_step(data)
        real, _ = data_path.split_batch(self, data)
        noise = self.sample_noise(ops.shape(real)[0])[:, 0]
        w = ops.stop_gradient(to_float32(self.mapping(noise, training=False)))
        decay = self.w_average_decay
        # The global batch's mean when the step runs data-parallel.
        batch_mean, _ = backend.moments(w, axes=(0,))
        self.w_average.assign(
            decay * self.w_average + (1.0 - decay) * batch_mean
        )
        return logs

    # === Export ===

    def serving_endpoints(self):
        def sample(noise):
            return self.synthesize(noise)

        noise = keras.InputSpec(shape=(None, self.latent_dim), dtype="float32")
        return {"sample": (sample, [noise])}
