import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen.models.conditioning import Conditioning
from kgen.models.generative_model import GenerativeModel
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.argument_validation import validate_probability
from kgen.utils.mixed_precision import to_float32

# The network's time inputs are `t` and `t - r` themselves, in [0, 1], as
# the paper's code feeds them: the target differentiates the network in
# `t`, and on `FlowMatching`'s 1000x scale its sinusoids' fast features
# made that derivative, and so the target, noisy. Measured (8x8 digits,
# U-Net 32/64, 469 steps of 64, JAX, guidance 1): reported loss 2.06 at
# scale 1 against 964 at 1000; one-call label accuracy 98.2% / 99.2%,
# two-call 99.8% / 91.8%.
TIME_SCALE = 1.0


@keras.saving.register_keras_serializable(package="kgen")
class MeanFlow(GenerativeModel):
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

    nested_arguments = ("denoiser",)
    conditioning = Conditioning(labels=True)

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
        super().__init__(seed=seed, **kwargs)
        num_classes = validate_optional_int(num_classes, "num_classes")
        names = ["z_t", "timesteps", "step_sizes"]
        if num_classes is not None:
            names.append("labels")
        if len(denoiser.inputs) != len(names):
            raise ValueError(
                f"`denoiser` must take {len(names)} inputs "
                f"({', '.join(names)}); it takes {len(denoiser.inputs)}. "
                "Build it with `step_size_input=True`"
                + (" and `num_classes`." if num_classes else ".")
            )
        for index, role in ((1, "timesteps"), (2, "step_sizes")):
            if "float" not in str(denoiser.inputs[index].dtype):
                raise ValueError(
                    f"`denoiser` must take float {role}; its input "
                    f"{index} is {denoiser.inputs[index].dtype}. Build it "
                    "with `timestep_dtype='float32'`."
                )
        self.denoiser = denoiser
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
        self.num_classes = num_classes
        self.condition_dropout = validate_probability(
            condition_dropout, "condition_dropout", exclusive_maximum=True
        )
        if self.training_guidance_scale and (
            num_classes is None or not self.condition_dropout
        ):
            raise ValueError(
                "`training_guidance_scale` > 0 needs a class-conditional "
                "model (`num_classes`) trained with `condition_dropout` > "
                "0: the guidance is against its unconditioned velocity."
            )
        if denoiser.built:
            self.built = True

    # === Shapes ===

    @property
    def sample_shape(self):
        return tuple(self.denoiser.inputs[0].shape[1:])

    @property
    def data_shape(self):
        return self.sample_shape

    @property
    def sample_range(self):
        """`(-1, 1)` for images (samples are clipped there), `None` for
        vectors."""
        return (-1.0, 1.0) if len(self.sample_shape) == 3 else None

    @property
    def data_range(self):
        return self.sample_range

    # === The network ===

    def average_velocity(
        self, z, start_times, end_times, labels=None, training=False
    ):
        """`u_theta(z_t, r, t)`: the average velocity from `r =
        start_times` to `t = end_times` (floats or one per example). An
        unconditioned call of a class-conditional model uses the "no
        label" class."""
        z = ops.convert_to_tensor(z, "float32")
        batch = ops.shape(z)[0]
        times = []
        for value in (start_times, end_times):
            value = ops.convert_to_tensor(value, "float32")
            if len(value.shape) == 0:
                value = ops.full((batch,), value, "float32")
            times.append(value)
        start_times, end_times = times
        return self._network(
            z, end_times, end_times - start_times, labels, training
        )

    def _network(self, z, times, step_sizes, labels, training):
        inputs = [z, times * TIME_SCALE, step_sizes * TIME_SCALE]
        if self.num_classes is not None:
            if labels is None:
                labels = ops.full((ops.shape(z)[0],), self.num_classes)
            inputs.append(ops.cast(labels, "int32"))
        return to_float32(self.denoiser(inputs, training=training))

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
        labels = None
        if isinstance(inputs, dict):
            labels = inputs.get("labels")
            inputs = inputs["images"]
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
            labels = self._drop_labels(labels, self.condition_dropout, training)
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
        axes = tuple(range(1, len(y_pred["prediction"].shape)))
        error = ops.mean(
            ops.square(y_pred["prediction"] - y_pred["target"]), axis=axes
        )
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
        return self._mean_over_examples(loss, sample_weight)

    # === Sampling ===

    def sample_times(self, num_steps):
        """The `num_steps + 1` times a sample visits, `1` to `0`,
        evenly spaced."""
        num_steps = validate_int(num_steps, "num_steps")
        return np.linspace(1.0, 0.0, num_steps + 1).astype("float32")

    def sample(self, num_samples, *, seed=None, labels=None, num_steps=1):
        """Draws samples in `num_steps` network calls, from noise:

        ```
        z = eps
        for (t, r) in zip(times[:-1], times[1:]):
            z = z - (t - r) u_theta(z, r, t)
        ```

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            labels: int or int array of class ids (conditional models;
                drawn uniformly when omitted).
            num_steps: int >= 1. Network calls (1: one jump from noise).

        Returns:
            Samples of shape `(num_samples,) + sample_shape`.
        """
        self._check_num_samples(num_samples)
        times = self.sample_times(num_steps)
        seed = self._seed_generator(seed)
        labels = self._sample_labels(labels, num_samples, seed)
        noise = keras.random.normal(
            (num_samples,) + self.sample_shape, seed=seed
        )
        with backend.no_grad():
            return backend.inference_program(
                self,
                ("jumps", tuple(times.tolist())),
                lambda model, noise, labels: model._jumps(noise, times, labels),
                noise,
                labels,
            )

    def _jumps(self, noise, times, labels):
        """The jumps of `sample` from `noise` over `times` (Python floats:
        a few calls, unrolled into one program)."""
        sample = noise
        for end_time, start_time in zip(times[:-1], times[1:]):
            velocity = self.average_velocity(
                sample, float(start_time), float(end_time), labels
            )
            sample = sample - float(end_time - start_time) * velocity
        if self.sample_range is not None:
            sample = ops.clip(sample, *self.sample_range)
        return sample

    # === Export ===

    def serving_endpoints(self, num_steps=1):
        """`sample` (noise -> samples in `num_steps` calls) and
        `average_velocity` (`z, start_times, end_times -> u`)."""
        times = self.sample_times(num_steps)
        shape = (None,) + self.sample_shape
        noise = keras.InputSpec(shape=shape, dtype="float32")
        time_spec = keras.InputSpec(shape=(None,), dtype="float32")
        labels = keras.InputSpec(shape=(None,), dtype="int32")

        def sample(noise, labels=None):
            return self._jumps(noise, times, labels)

        def average_velocity(z, start_times, end_times, labels=None):
            return self.average_velocity(z, start_times, end_times, labels)

        if self.num_classes is not None:
            return {
                "sample": (sample, [noise, labels]),
                "average_velocity": (
                    average_velocity,
                    [noise, time_spec, time_spec, labels],
                ),
            }
        return {
            "sample": (sample, [noise]),
            "average_velocity": (
                average_velocity,
                [noise, time_spec, time_spec],
            ),
        }

    # === Serialization ===

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "logit_mean": self.logit_mean,
                "logit_std": self.logit_std,
                "average_velocity_fraction": self.average_velocity_fraction,
                "adaptive_weight_constant": self.adaptive_weight_constant,
                "training_guidance_scale": self.training_guidance_scale,
                "num_classes": self.num_classes,
                "condition_dropout": self.condition_dropout,
            }
        )
        return config
