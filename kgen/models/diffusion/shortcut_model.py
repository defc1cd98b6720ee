import math

import keras
from keras import ops

from kgen.models import training_steps
from kgen.models.data_path import images_and_labels
from kgen.models.diffusion.average_velocity_model import AverageVelocityModel
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_probability


@keras.saving.register_keras_serializable(package="kgen")
class ShortcutModel(AverageVelocityModel):
    """One-step generation trained from scratch with forward passes only:
    a network of the step to take, conditioned on its size, taught that
    one step of size `2 d` is two of size `d` (shortcut models).

    Notation: the path of `FlowMatching`, `z_t = (1 - t) x + t eps`, with
    velocity `v = eps - x`; the network `s_theta(z_t, t, d)` is the
    average velocity over the step from `t` to `t - d` (so a sample is
    `z <- z - d s_theta(z, t, d)` from `t = 1`). Two targets train it:

    ```
    d = 0:        s_theta(z_t, t, 0) -> v                (flow matching)
    d = 2 h > 0:  s_1 = s_theta(z_t, t, h)
                  s_2 = s_theta(z_t - h s_1, t - h, h)
                  s_theta(z_t, t, 2 h) -> stopgrad((s_1 + s_2) / 2)
    ```

    The half steps `h` are `2**k / num_base_steps`, `k = 0 .. K - 1` for
    `num_base_steps = 2**K`, so one step (`2 h = 1`) and every power-of-
    two count up to `num_base_steps / 2` are trained; the smallest half
    steps query `d = 0`, the flow, so the whole ladder rests on the
    flow-matching target. A bootstrap example's `t` is a multiple of `h`
    in `[2 h, 1]`, so that its two half steps stay on the grid. Unlike
    `MeanFlow`'s, the target needs no derivative of the network: two
    forward passes without gradients, on any backend.

    Args:
        denoiser: `keras.Model` `[z_t, timesteps, step_sizes(, labels)]
            -> s`, shaped like `z_t`, with float timesteps `t` and step
            sizes `d`, both in [0, 1] (e.g.
            `kgen.networks.unet_denoiser(..., timestep_dtype="float32",
            step_size_input=True)`).
        num_base_steps: int, a power of two >= 2. The finest step count,
            `1 / (smallest d > 0)` trained is `2 / num_base_steps`.
        bootstrap_fraction: float in `[0, 1]`. The examples trained on
            the two-half-steps target (the paper's 25%); the rest train
            flow matching at `d = 0`.
        num_classes: int or `None`. Makes the model class-conditional.
        condition_dropout: float in `[0, 1)`. Probability of training on
            the "no label" class, which classifier-free guidance needs.
        seed: int or `None`.

    Example:

    ```python
    (x, y), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    model = kgen.models.ShortcutModel(
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
        1. Frans et al. One Step Diffusion via Shortcut Models. 2024.
           arXiv:2410.12557.
    """

    def __init__(
        self,
        denoiser,
        num_base_steps=128,
        bootstrap_fraction=0.25,
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
        num_base_steps = validate_int(num_base_steps, "num_base_steps")
        if num_base_steps < 2 or num_base_steps & (num_base_steps - 1):
            raise ValueError(
                "`num_base_steps` must be a power of two >= 2 (the step "
                f"sizes halve down to it); received {num_base_steps}."
            )
        self.num_base_steps = num_base_steps
        self.bootstrap_fraction = validate_probability(
            bootstrap_fraction, "bootstrap_fraction"
        )

    # === Training ===

    def _draw_steps(self, batch):
        """`(t, half step h, bootstrap?)` per example: `t ~ U(0, 1)`, `h
        = 0` for flow matching; for bootstrap examples `h = 2**k / M` and
        `t` a multiple of `h` in `[2 h, 1]`."""
        num_levels = int(math.log2(self.num_base_steps))
        levels = ops.floor(
            batch_random.uniform((batch,), self.seed_generator) * num_levels
        )
        half_steps = ops.power(2.0, levels) / self.num_base_steps
        # `1 / h - 1` grid points 2 h, 3 h, ..., 1.
        num_points = 1.0 / half_steps - 1.0
        points = ops.floor(
            batch_random.uniform((batch,), self.seed_generator) * num_points
        )
        bootstrap_times = ops.minimum((points + 2.0) * half_steps, 1.0)
        flow_times = batch_random.uniform((batch,), self.seed_generator)
        bootstrap = (
            batch_random.uniform((batch,), self.seed_generator)
            < self.bootstrap_fraction
        )
        times = ops.where(bootstrap, bootstrap_times, flow_times)
        half_steps = ops.where(bootstrap, half_steps, 0.0)
        return times, half_steps, bootstrap

    def call(self, inputs, training=False):
        """One training draw: `{"prediction", "target"}` for a batch."""
        inputs, labels = images_and_labels(inputs)
        images = ops.convert_to_tensor(inputs, "float32")
        batch = ops.shape(images)[0]
        shape = (-1,) + (1,) * (len(images.shape) - 1)
        if labels is not None:
            labels = training_steps.drop_labels(
                self, labels, self.condition_dropout, training
            )
        # 1. A point on each straight path, and the path's velocity.
        noise = batch_random.normal(ops.shape(images), self.seed_generator)
        times, half_steps, bootstrap = self._draw_steps(batch)
        z = (1.0 - ops.reshape(times, shape)) * images + ops.reshape(
            times, shape
        ) * noise
        velocity = noise - images
        # 2. Two half steps without gradients; the finest query the flow.
        finest = half_steps <= 1.0 / self.num_base_steps
        query_steps = ops.where(finest, 0.0, half_steps)
        h = ops.reshape(half_steps, shape)
        first = ops.stop_gradient(
            self._network(z, times, query_steps, labels, False)
        )
        second = ops.stop_gradient(
            self._network(
                z - h * first, times - half_steps, query_steps, labels, False
            )
        )
        target = ops.where(
            ops.reshape(bootstrap, shape), (first + second) / 2.0, velocity
        )
        # 3. The network at the full step (0 for flow matching).
        prediction = self._network(z, times, 2.0 * half_steps, labels, training)
        return {"prediction": prediction, "target": target}
