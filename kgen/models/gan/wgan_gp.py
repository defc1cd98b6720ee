import keras

from kgen.losses import adversarial
from kgen.models.gan.gan import GAN
from kgen.utils.argument_validation import validate_float


@keras.saving.register_keras_serializable(package="kgen")
class WGANGP(GAN):
    """Wasserstein GAN with a gradient penalty.

    Replaces WGAN's weight clipping by a soft unit-gradient-norm constraint
    on random interpolates between real and fake samples:

    ```
    L_D = E_z[D(G(z))] - E_x[D(x)]
          + lambda * E_x_hat[(||grad D(x_hat)||_2 - 1)**2]
    x_hat = eps x + (1 - eps) G(z),   eps ~ U[0, 1] per sample
    L_G = -E_z[D(G(z))]
    ```

    The input gradient goes through `kgen.backend.grad`, nested inside the
    critic's `value_and_grad`, so it trains the same on every backend. The
    paper uses Adam(1e-4, beta_1=0, beta_2=0.9), `n_critic = 5` and a critic
    without batch normalisation.

    Args:
        generator: `keras.Model`, noise to samples.
        discriminator: `keras.Model`, samples to `(batch, 1)` scores.
        latent_dim: int.
        num_classes: int >= 2 or `None`, as for `GAN` (networks taking
            `[inputs, labels]`).
        gradient_penalty_weight: float. The paper's lambda = 10.
        n_critic: int. Critic updates per generator update.
        seed: int or `None`.

    References:
        1. Gulrajani et al. Improved Training of Wasserstein GANs. 2017.
           arXiv:1704.00028.
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        num_classes=None,
        gradient_penalty_weight=10.0,
        n_critic=5,
        seed=None,
        **kwargs,
    ):
        gradient_penalty_weight = validate_float(
            gradient_penalty_weight, "gradient_penalty_weight", minimum=0.0
        )
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
        self.gradient_penalty_weight = float(gradient_penalty_weight)
        self.n_critic = n_critic

    def discriminator_penalty(self, critic, real, fake):
        return self.gradient_penalty_weight * adversarial.gradient_penalty(
            critic, real, fake, seed=self.seed_generator
        )
