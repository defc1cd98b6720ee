import keras

from kgen.models.vae.vae import VAE


@keras.saving.register_keras_serializable(package="kgen")
class ConditionalVAE(VAE):
    """A `VAE` whose encoder and decoder both see the class label.

    The same model as `VAE(..., num_classes=num_classes)`, with
    `num_classes` required; kept so that code and saved models naming
    `ConditionalVAE` go on working. Learns `q(z|x, y)` and `p(x|z, y)` with
    the prior `p(z)` shared:

    ```
    loss = E_q[-log p(x|z, y)] + beta * KL(q(z|x, y) || p(z))
    ```

    Train with `fit(images, labels)`; sample a class with
    `sample(n, labels=...)`; every VAE method (`encode`, `decode`, `elbo`,
    `log_likelihood`, `anomaly_score`) takes `labels=`.

    Args:
        encoder: `keras.Model` `[images, labels] -> (batch, 2 * latent_dim)`,
            e.g. `kgen.networks.vae_encoder(..., num_classes=10)`.
        decoder: `keras.Model` `[latent, labels] -> images`.
        latent_dim, likelihood, beta, prior, seed: as for `VAE`.
        num_classes: int >= 2.

    References:
        1. Sohn et al. Learning Structured Output Representation using Deep
           Conditional Generative Models. NeurIPS 2015.
    """

    def __init__(
        self,
        encoder,
        decoder,
        latent_dim,
        num_classes,
        likelihood="bernoulli",
        beta=1.0,
        prior=None,
        seed=None,
        **kwargs,
    ):
        if num_classes is None:
            raise ValueError(
                "A ConditionalVAE needs `num_classes` (an int >= 2); for an "
                "unconditional model use `kgen.models.VAE`."
            )
        super().__init__(
            encoder,
            decoder,
            latent_dim,
            num_classes=num_classes,
            likelihood=likelihood,
            beta=beta,
            prior=prior,
            seed=seed,
            **kwargs,
        )
