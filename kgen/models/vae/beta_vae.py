import keras
from keras import ops

from kgen.models.vae.vae import VAE
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_optional_float


@keras.saving.register_keras_serializable(package="kgen")
class BetaVAE(VAE):
    """beta-VAE, optionally with a linearly growing KL capacity.

    Without capacity (Higgins et al., 2017) the loss is
    `reconstruction + beta * KL`: beta > 1 presses the posterior towards the
    factorised prior and favours disentangled latents. With
    `capacity_max` (Burgess et al., 2018) the KL is instead pulled towards
    a target capacity `C` that grows from 0 to `capacity_max` nats over
    `capacity_steps` training steps:

    ```
    loss = reconstruction + beta * |KL - C(t)|,
    C(t) = capacity_max * min(t / capacity_steps, 1)
    ```

    so the latent channel opens gradually. `t` is the model's own step
    counter (a non-trainable variable, saved with the model). Logs
    `capacity` besides the VAE's losses.

    Args:
        encoder, decoder, latent_dim, num_classes, likelihood, prior, seed:
            as for `VAE`.
        beta: float. The paper's beta (4 is common), or gamma with capacity
            (Burgess et al. use 1000 with pixel-sum losses).
        capacity_max: float or `None`. Final capacity in nats.
        capacity_steps: int. Steps to reach it.

    References:
        1. Higgins et al. beta-VAE: Learning Basic Visual Concepts with a
           Constrained Variational Framework. ICLR 2017.
        2. Burgess et al. Understanding disentangling in beta-VAE. 2018.
           arXiv:1804.03599.
    """

    # The annealing step `fit` counts: state, not weights (an adapter's
    # base digest leaves it out).
    training_state = ("step",)

    def __init__(
        self,
        encoder,
        decoder,
        latent_dim,
        num_classes=None,
        likelihood="bernoulli",
        beta=4.0,
        capacity_max=None,
        capacity_steps=10000,
        prior=None,
        seed=None,
        **kwargs,
    ):
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
        capacity_max = validate_optional_float(
            capacity_max, "capacity_max", minimum=0.0
        )
        capacity_steps = validate_int(capacity_steps, "capacity_steps")
        self.capacity_max = capacity_max
        self.capacity_steps = capacity_steps
        self.step = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="step"
        )
        self.capacity_tracker = keras.metrics.Mean(name="capacity")

    def capacity(self):
        """`C(t)` at the current step (0 without a capacity schedule)."""
        if self.capacity_max is None:
            return ops.zeros(())
        progress = ops.minimum(self.step / self.capacity_steps, 1.0)
        return self.capacity_max * progress

    def kl_penalty(self, kl_loss, training):
        capacity = self.capacity()
        self.capacity_tracker.update_state(capacity)
        if training:
            self.step.assign_add(1.0)
        if self.capacity_max is None:
            return self.beta * kl_loss
        return self.beta * ops.abs(kl_loss - capacity)
