import keras
from keras import ops

from kgen import backend
from kgen.models.gan.pix2pix import Pix2Pix
from kgen.utils.mixed_precision import to_float32


@keras.saving.register_keras_serializable(package="kgen")
class SRGAN(Pix2Pix):
    """Super-resolution GAN: upsample, judged by content and realism.

    The generator maps a low-resolution image to a `factor`-times larger
    one; the discriminator judges high-resolution images alone. The
    generator minimises the perceptual loss of Ledig et al.:

    ```
    L_G = content_weight * E[||phi(G(lr)) - phi(hr)||**2]
          + adversarial_weight * L_adv(D(G(lr)))
    ```

    where `phi` is `content_network` (VGG-19 features in the paper). The
    feature network is a constructor argument, so nothing is downloaded:
    pass any frozen `keras.Model` (e.g. a classifier's feature layers), or
    `None` for pixel space (`phi` = identity, the SRResNet-MSE loss).
    Train with `fit(low_resolution, high_resolution)`.

    Args:
        generator: `keras.Model`, e.g. `kgen.networks.srgan_generator`.
        discriminator: `keras.Model` high-resolution image -> logits.
        content_network: `keras.Model` or `None`. Never trained.
        content_weight: float.
        adversarial_weight: float. The paper's 1e-3.
        loss: adversarial objective (see `kgen.models.GAN`).
        seed: int or `None`.

    References:
        1. Ledig et al. Photo-Realistic Single Image Super-Resolution Using
           a Generative Adversarial Network. 2017. arXiv:1609.04802.
    """

    reconstruction_loss_name = "content_loss"

    def __init__(
        self,
        generator,
        discriminator,
        content_network=None,
        content_weight=1.0,
        adversarial_weight=1e-3,
        loss="non_saturating",
        seed=None,
        **kwargs,
    ):
        super().__init__(
            generator,
            discriminator,
            l1_weight=0.0,
            loss=loss,
            seed=seed,
            **kwargs,
        )
        if content_network is not None:
            content_network.trainable = False
        self.content_network = content_network
        self.content_weight = float(content_weight)
        self.adversarial_weight = float(adversarial_weight)

    def _discriminator_outputs(self, source, image, training):
        return to_float32(
            backend.call_network(self.discriminator, image, training)
        )

    def reconstruction_loss(self, target, fake):
        if self.content_network is not None:
            target = to_float32(self.content_network(target, training=False))
            fake = to_float32(self.content_network(fake, training=False))
        return ops.mean(ops.square(target - fake))

    def generator_objective(self, adversarial, reconstruction):
        return (
            self.content_weight * reconstruction
            + self.adversarial_weight * adversarial
        )

    def upscale(self, low_resolution):
        """`G(low_resolution)`: the super-resolved images."""
        return self._translate(low_resolution, "low_resolution")
