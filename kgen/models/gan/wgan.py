import keras

from kgen.losses import WeightClipping
from kgen.models.gan.gan import GAN


@keras.saving.register_keras_serializable(package="kgen")
class WGAN(GAN):
    """Wasserstein GAN with weight clipping.

    The discriminator is a critic `D` whose score difference estimates the
    Wasserstein-1 distance while `D` stays K-Lipschitz, crudely enforced
    here by clipping every critic weight to `[-clip_value, clip_value]`
    after each update (a `kgen.losses.WeightClipping` constraint, applied
    by the optimizer):

    ```
    L_D = E_z[D(G(z))] - E_x[D(x)],    L_G = -E_z[D(G(z))]
    ```

    The paper trains with RMSProp (lr 5e-5) and `n_critic = 5`.

    Args:
        generator: `keras.Model`, noise to samples.
        discriminator: `keras.Model`, samples to `(batch, 1)` scores
            (no sigmoid).
        latent_dim: int.
        num_classes: int >= 2 or `None`, as for `GAN` (networks taking
            `[inputs, labels]`).
        clip_value: float. The paper's c = 0.01.
        n_critic: int. Critic updates per generator update.
        seed: int or `None`.

    References:
        1. Arjovsky et al. Wasserstein GAN. 2017. arXiv:1701.07875.
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        num_classes=None,
        clip_value=0.01,
        n_critic=5,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            generator,
            discriminator,
            latent_dim,
            num_classes=num_classes,
            loss="wasserstein",
            d_steps=n_critic,
            seed=seed,
            **kwargs,
        )
        self.clip_value = clip_value
        self.n_critic = n_critic
        clipping = WeightClipping(clip_value)
        for variable in discriminator.trainable_variables:
            variable.constraint = clipping
            # Start inside the box, as the constraint keeps it after.
            variable.assign(clipping(variable))
