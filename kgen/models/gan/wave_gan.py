import keras

from kgen.losses import adversarial
from kgen.models.gan.wgan_gp import WGANGP
from kgen.networks.wavegan import check_audio_length
from kgen.networks.wavegan import wavegan_discriminator
from kgen.networks.wavegan import wavegan_generator


@keras.saving.register_keras_serializable(package="kgen")
class WaveGAN(WGANGP):
    """WaveGAN: a `WGANGP` on raw audio, with DCGAN's networks flattened
    to one dimension (Donahue, McAuley and Puckette, 2019).

    The generator turns `z ~ N(0, I)` into a clip of `audio_length`
    samples through five stride-4 stages of length-25 kernels; the critic
    mirrors it, with phase shuffle after each of its first four stages so
    that it cannot tell real from fake by the generator's periodic
    artefacts (`kgen.layers.PhaseShuffle`). The objective is WGAN-GP's:

    ```
    L_D = E_z[D(G(z))] - E_x[D(x)]
          + lambda * E_x_hat[(||grad D(x_hat)||_2 - 1)**2]
    L_G = -E_z[D(G(z))]
    ```

    Clips are `(audio_length, 1)` in [-1, 1] (the generator ends in
    `tanh`): train on `(n, audio_length, 1)` arrays, e.g. peak-normalised
    speech. The paper trains 16,384 samples at 16 kHz (about 1 s) with
    `model_size=64`, Adam(1e-4, beta_1=0.5, beta_2=0.9), `n_critic=5`
    and lambda = 10. With `num_classes` both networks take the class
    (an embedding concatenated to the noise; a projection critic), and
    `sample(n, labels=...)` draws one digit, word or speaker.

    Args:
        audio_length: int, a multiple of 1,024: samples per clip.
        latent_dim: int. Size of the noise vector (the paper's 100).
        model_size: int. The networks' width `d` (the paper's 64).
        phase_shuffle: int >= 0. The critic's shuffle radius (the paper's
            2); 0 leaves it out.
        upsampling: `"transposed"` (the paper's) or `"nearest"`
            (upsample, then convolve).
        num_classes: int >= 2 or `None`.
        gradient_penalty_weight: float. lambda.
        n_critic: int. Critic updates per generator update.
        seed: int or `None`. Seed of the noise and the phase shuffles.

    Example:

    ```python
    (audio, digits), _ = kgen.datasets.load_spoken_digits_split()
    gan = kgen.models.WaveGAN(audio_length=6144, model_size=16)
    gan.compile(
        g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9),
        d_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9),
    )
    gan.fit(audio[:, :6144, None], batch_size=64, epochs=100)
    clips = gan.sample(16, seed=0)  # (16, 6144, 1)
    ```

    References:
        1. Donahue, McAuley and Puckette. Adversarial Audio Synthesis.
           ICLR 2019. arXiv:1802.04208.
        2. Gulrajani et al. Improved Training of Wasserstein GANs. 2017.
           arXiv:1704.00028.
    """

    def __init__(
        self,
        audio_length=16384,
        latent_dim=100,
        model_size=64,
        phase_shuffle=2,
        upsampling="transposed",
        num_classes=None,
        gradient_penalty_weight=10.0,
        n_critic=5,
        seed=None,
        **kwargs,
    ):
        audio_length = check_audio_length(audio_length)
        generator = wavegan_generator(
            audio_length,
            latent_dim,
            model_size,
            num_classes=num_classes,
            upsampling=upsampling,
        )
        discriminator = wavegan_discriminator(
            audio_length,
            model_size,
            num_classes=num_classes,
            phase_shuffle=phase_shuffle,
            seed=seed,
        )
        super().__init__(
            generator,
            discriminator,
            latent_dim,
            num_classes=num_classes,
            gradient_penalty_weight=gradient_penalty_weight,
            n_critic=n_critic,
            seed=seed,
            **kwargs,
        )
        self.audio_length = audio_length
        self.model_size = model_size
        self.phase_shuffle = phase_shuffle
        self.upsampling = upsampling

    @property
    def data_range(self):
        return (-1.0, 1.0)

    def discriminator_penalty(self, critic, real, fake):
        # Phase shuffle makes the training-mode critic another function
        # (later strided stages read other phases), and the loss scores
        # with it; a penalty on the inference-mode critic leaves it
        # unbounded, and its scores grew into the thousands in a few
        # hundred steps. The penalty runs through the shuffles, as the
        # paper's code builds it.
        return self.gradient_penalty_weight * adversarial.gradient_penalty(
            critic, real, fake, seed=self.seed_generator, training=True
        )
