import keras
from keras import ops

from kgen import backend
from kgen.models import training_steps
from kgen.models.data_path import images_and_labels
from kgen.models.diffusion.average_velocity_model import AverageVelocityModel
from kgen.models.diffusion.denoiser_model import squared_error
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_probability


@keras.saving.register_keras_serializable(package="kgen")
class MeanFlow(AverageVelocityModel):
    """One-step generation trained from scratch: a network of the average
    velocity between two times of the straight path (MeanFlow).

    Notation: the path of `FlowMatching`, `z_t = (1 - t) x + t eps`, with
    velocity `v = eps - x`. The network `u_theta(z_t, r, t)` learns the
    average velocity over `[r, t]`,

    ```
    u(z_t, r, t) = 1 / (t - r) int_r^t v(z_s, s) ds
    ```

    so that one jump `z_r = z_t - (t - r) u(z_t, r, t)` lands where the
    ODE would, and `x = eps - u(eps, 0, 1)` is a sample in one call.
    Differentiating `(t - r) u = int_r^t v ds` in `t` gives the identity
    that trains it, with no integral and no teacher:

    ```
    u(z_t, r, t) = v - (t - r) d/dt u(z_t, r, t)
    d/dt u = v . grad_z u + d_t u            (a JVP along (v, 0, 1))
    delta = u_theta - stopgrad(v - (t - r) d/dt u_theta)
    grad loss = grad(||delta||**2) / stopgrad(||delta||**2 + c)
    ```

    (the adaptive weight with p = 1; `||.||**2` is the mean over the
    dimensions, and the loss `fit` reports is that mean squared error).

    The JVP is one forward-mode pass through the network
    (`kgen.backend.jvp`). `t` and `r` are drawn logit-normal and sorted;
    a fraction `1 - average_velocity_fraction` of the examples has `r =
    t`, where the target is the instantaneous velocity `v` (flow
    matching). With `training_guidance_scale` `w_g > 0` classifier-free
    guidance is folded into the target, so that the one-call sampler
    draws guided samples (the paper's eq. 19 with kappa = 0):

    ```
    v~ = (1 + w_g) v - w_g u_theta(z_t, t, t | no label)  (stopgrad)
    ```

    `v~ = v` for the examples trained without their label
    (`condition_dropout`).

    Args:
        denoiser: `keras.Model` `[z_t, timesteps, step_sizes(, labels)]
            -> u`, shaped like `z_t`, with float timesteps `t` and step
            sizes `t - r`, both in [0, 1] (e.g.
            `kgen.networks.unet_denoiser(..., timestep_dtype="float32",
            step_size_input=True)`).
        logit_mean: float. Mean of the logit-normal draws of `t` and `r`.
        logit_std: float > 0. Their standard deviation.
        average_velocity_fraction: float in `[0, 1]`. The examples
            trained with `r < t` (the paper's 25%); the rest train flow
            matching's `r = t`.
        adaptive_weight_constant: float > 0. `c` of the adaptive weight.
        training_guidance_scale: float >= 0. `w_g`, the classifier-free
            guidance the model learns to sample with (class-conditional
            models).
        num_classes: int or `None`. Makes the model class-conditional.
        condition_dropout: float in `[0, 1)`. Probability of training on
            the "no label" class.
        seed: int or `None`.

    Example:

    ```python
    (x, y), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    model = kgen.models.MeanFlow(
        kgen.networks.unet_denoiser(
            (8, 8, 1), num_classes=10, timestep_dtype="float32",
            step_size_input=True,
        ),
        num_classes=10,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x, y, epochs=1)
    digits = model.sample(10, labels=np.arange(10), num_steps=1, seed=1)
    ```

    References:
        1. Geng et al. Mean Flows for One-step Generative Modeling. 2025.
           arXiv:2505.13447.
    """

    def __init__(
        self,
        denoiser,
        logit_mean=-0.4,
        logit_std=1.0,
        average_velocity_fraction=0.25,
        adaptive_weight_constant=1e-3,
        training_guidance_scale=0.0,
        num_classes=None,
        condition_dropout=0.1,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            denoiser,
            num_classes=num_classes,
            condition_dropout=condition_dropout,
            seed=seed,
            **kwargs,
        )
        self.logit_mean = validate_float(logit_mean, "logit_mean")
        self.logit_std = validate_float(
            logit_std, "logit_std", minimum=0.0, exclusive_minimum=True
        )
        self.average_velocity_fraction = validate_probability(
            average_velocity_fraction, "average_velocity_fraction"
        )
        self.adaptive_weight_constant = validate_float(
            adaptive_weight_constant,
            "adaptive_weight_constant",
            minimum=0.0,
            exclusive_minimum=True,
        )
        self.training_guidance_scale = validate_float(
            training_guidance_scale, "training_guidance_scale", minimum=0.0
        )
        if self.training_guidance_scale and (
            self.num_classes is None or not self.condition_dropout
        ):
            raise ValueError(
                "`training_guidance_scale` > 0 needs a class-conditional "
                "model (`num_classes`) trained with `condition_dropout` > "
                "0: the guidance is against its unconditioned velocity."
            )

    # === Training ===

    def _draw_times(self, batch):
        """`(r, t)` per example: two logit-normal draws, sorted, with `r`
        set to `t` outside the `average_velocity_fraction`."""
        draws = [
            ops.sigmoid(
                self.logit_mean
                + self.logit_std
                * batch_random.normal((batch,), self.seed_generator)
            )
            for _ in range(2)
        ]
        end_times = ops.maximum(*draws)
        start_times = ops.minimum(*draws)
        average = (
            batch_random.uniform((batch,), self.seed_generator)
            < self.average_velocity_fraction
        )
        return ops.where(average, start_times, end_times), end_times

    def call(self, inputs, training=False):
        """One training draw: `{"prediction", "target"}` for a batch."""
        inputs, labels = images_and_labels(inputs)
        images = ops.convert_to_tensor(inputs, "float32")
        batch = ops.shape(images)[0]
        shape = (-1,) + (1,) * (len(images.shape) - 1)
        # 1. A point on each straight path, and the path's velocity.
        noise = batch_random.normal(ops.shape(images), self.seed_generator)
        start_times, end_times = self._draw_times(batch)
        t = ops.reshape(end_times, shape)
        z = (1.0 - t) * images + t * noise
        velocity = noise - images
        if labels is not None:
            labels = training_steps.drop_labels(
                self, labels, self.condition_dropout, training
            )
        # 2. Guidance folded into the velocity the target follows.
        if self.training_guidance_scale:
            unconditioned = ops.stop_gradient(
                self._network(
                    z, end_times, ops.zeros_like(end_times), None, False
                )
            )
            guided = (
                1.0 + self.training_guidance_scale
            ) * velocity - self.training_guidance_scale * unconditioned
            dropped = ops.reshape(labels == self.num_classes, shape)
            velocity = ops.where(dropped, velocity, guided)
        # 3. The network and its total derivative in t along the path:
        #    tangents (v, 1, 1) of (z, t, t - r), since r is held fixed.
        step_sizes = end_times - start_times
        prediction, derivative = backend.jvp(
            lambda z, t, d: self._network(z, t, d, labels, training),
            (z, end_times, step_sizes),
            (velocity, ops.ones_like(end_times), ops.ones_like(end_times)),
        )
        target = velocity - ops.reshape(step_sizes, shape) * derivative
        return {
            "prediction": prediction,
            "target": ops.stop_gradient(target),
        }

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y_pred is None:
            y_pred = self(x, training=training)
        error = squared_error(y_pred)
        # The adaptive weight (p = 1) steps as if on ||delta|| rather than
        # its square: robust to the target's high variance where t - r is
        # large (Geng et al., section 4.3). The loss reads
        # as the plain squared error (the weighted one is ~1 whenever
        # error >> c) and its gradient is the weighted one's.
        weight = ops.stop_gradient(
            1.0 / (error + self.adaptive_weight_constant)
        )
        weighted = weight * error
        loss = weighted - ops.stop_gradient(weighted - error)
        return training_steps.mean_over_examples(loss, sample_weight)
