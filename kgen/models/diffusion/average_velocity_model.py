import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.models.conditioning import Conditioning
from kgen.models.diffusion.denoiser_model import DenoiserModel
from kgen.models.diffusion.guidance import Guidance
from kgen.models.diffusion.guidance import classifier_free_guidance
from kgen.models.diffusion.sampling_plan import SamplingPlan
from kgen.utils.argument_validation import validate_float_input
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_network_inputs
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.argument_validation import validate_probability
from kgen.utils.mixed_precision import to_float32

# The network's time inputs are `t` and `t - r` themselves, in [0, 1], as
# MeanFlow's code feeds them: its target differentiates the network in
# `t`, and on `FlowMatching`'s 1000x scale its sinusoids' fast features
# made that derivative, and so the target, noisy. Measured (8x8 digits,
# U-Net 32/64, 469 steps of 64, JAX, guidance 1): reported loss 2.06 at
# scale 1 against 964 at 1000; one-call label accuracy 98.2% / 99.2%,
# two-call 99.8% / 91.8%.
TIME_SCALE = 1.0


class AverageVelocityModel(DenoiserModel):
    """The base of few-step flows whose network takes the step size: the
    average velocity of the straight path over a step, and jumps along it.

    Notation: the path of `FlowMatching`, `z_t = (1 - t) x + t eps`, with
    velocity `v = eps - x`. The network `u_theta(z_t, r, t)` is the average
    velocity over `[r, t]`,

    ```
    u(z_t, r, t) = 1 / (t - r) int_r^t v(z_s, s) ds
    ```

    so that one jump `z_r = z_t - (t - r) u(z_t, r, t)` lands where the
    ODE would, and `x = eps - u(eps, 0, 1)` is a sample in one call. The
    subclasses differ in how they teach it: `MeanFlow` by the identity
    its derivative in `t` satisfies, `ShortcutModel` by two half steps.

    Args:
        denoiser: `keras.Model` `[z_t, timesteps, step_sizes(, labels)]
            -> u`, shaped like `z_t`, with float timesteps `t` and step
            sizes `t - r`, both in [0, 1] (e.g.
            `kgen.networks.unet_denoiser(..., timestep_dtype="float32",
            step_size_input=True)`).
        num_classes: int or `None`. Makes the model class-conditional.
        condition_dropout: float in `[0, 1)`. Probability of training on
            the "no label" class, which classifier-free guidance needs.
        seed: int or `None`.
    """

    conditioning = Conditioning(labels=True)

    def __init__(
        self,
        denoiser,
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
        validate_network_inputs(
            denoiser,
            names,
            "denoiser",
            " Build it with `step_size_input=True`"
            + (" and `num_classes`." if num_classes else "."),
        )
        for index, role in ((1, "timesteps"), (2, "step_sizes")):
            validate_float_input(denoiser, index, role, "denoiser")
        self.denoiser = denoiser
        self.num_classes = num_classes
        self.condition_dropout = validate_probability(
            condition_dropout, "condition_dropout", exclusive_maximum=True
        )
        if denoiser.built:
            self.built = True

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
        return to_float32(backend.call_network(self.denoiser, inputs, training))

    # === Sampling ===

    def sample_times(self, num_steps):
        """The `num_steps + 1` times a sample visits, `1` to `0`,
        evenly spaced."""
        num_steps = validate_int(num_steps, "num_steps")
        return np.linspace(1.0, 0.0, num_steps + 1).astype("float32")

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        num_steps=1,
        guidance_scale=0.0,
        guidance_interval=None,
    ):
        """Draws samples in `num_steps` jumps from noise:

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
            num_steps: int >= 1. Jumps (1: one jump from noise).
            guidance_scale: float `w` of classifier-free guidance at
                sampling time, `(1 + w) u(z | c) - w u(z)` (0 = none;
                two network calls a jump); needs a class-conditional
                model.
            guidance_interval: `(low, high)` in [0, 1], or `None`: guide
                only the jumps that start from a time `t` inside it.

        Returns:
            Samples of shape `(num_samples,) + sample_shape`.
        """
        public_inputs.check_num_samples(num_samples)
        times = self.sample_times(num_steps)
        guidance = Guidance(guidance_scale, guidance_interval)
        # No solver object: the jumps are the model's own rule.
        plan = SamplingPlan(None, times, guidance.for_model(self))
        return plan.sample(self, jumps, num_samples, seed, labels)

    # === Export ===

    def serving_endpoints(self, num_steps=1):
        """`sample` (noise -> samples in `num_steps` calls) and
        `average_velocity` (`z, start_times, end_times -> u`)."""
        plan = SamplingPlan(None, self.sample_times(num_steps))
        shape = (None,) + self.sample_shape
        noise = keras.InputSpec(shape=shape, dtype="float32")
        time_spec = keras.InputSpec(shape=(None,), dtype="float32")
        labels = keras.InputSpec(shape=(None,), dtype="int32")

        def sample(noise, labels=None):
            return plan.draw(self, jumps, noise, labels)

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


def jumps(model, plan, noise, labels=None):
    """The jumps of `sample` from `noise` over the plan's times (Python
    floats: a few calls, unrolled into one program): the solve of an
    average-velocity model's `plan.draw`, which clips its samples."""
    guidance = plan.guidance
    sample = noise
    for end_time, start_time in zip(plan.points[:-1], plan.points[1:]):
        start_time, end_time = float(start_time), float(end_time)
        if guidance.scale:
            velocity = classifier_free_guidance(
                lambda z, t, labels, start=start_time: model.average_velocity(
                    z, start, t, labels
                ),
                guidance.scale,
                labels,
                ops.full_like(labels, model.num_classes),
                interval=guidance.interval,
                noise_level=lambda t: t,
            )(sample, end_time)
        else:
            velocity = model.average_velocity(
                sample, start_time, end_time, labels
            )
        sample = sample - (end_time - start_time) * velocity
    return sample
