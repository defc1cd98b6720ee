"""Guidance: the frozen `Guidance` a sampling run is asked for, and the
wrappers of a denoise function `(x_t, t) -> model output` that apply
it."""

import dataclasses

import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.utils.argument_validation import validate_float


@dataclasses.dataclass(frozen=True)
class Guidance:
    """How a sampling run is guided, checked once when it is made.

    Every family's `sample` builds one from its own keyword arguments
    (`guidance_scale`, `guidance_interval`, `guidance`, `guide`, and a
    diffusion model's `classifier` and `classifier_scale`); the sampling
    path below `sample` takes this value alone, and its `key` is part of
    the compile-cache key of the sampling program.

    Attributes:
        scale: float `w` of classifier-free guidance or autoguidance; 0
            leaves the model unguided. For `rule="cfg++"`, the strength
            `l` in (0, 1] (`cfg_plus_plus_scale`).
        interval: `(low, high)` noise levels in [0, 1] that guidance is
            limited to, or `None` (every step).
        rule: `"cfg"` or `"cfg++"`.
        guide: a weaker model of the same class for autoguidance, or
            `None`.
        classifier: a noise-conditional classifier `[x_t, timesteps] ->
            logits` for classifier guidance, or `None`.
        classifier_scale: float `s` of classifier guidance.
    """

    scale: float = 0.0
    interval: tuple = None
    rule: str = "cfg"
    guide: object = dataclasses.field(default=None, compare=False)
    classifier: object = dataclasses.field(default=None, compare=False)
    classifier_scale: float = 1.0

    def __post_init__(self):
        scale = validate_float(self.scale, "guidance_scale")
        # Frozen: the checked values replace the given ones once, here.
        set_field = object.__setattr__
        set_field(self, "scale", scale)
        set_field(
            self, "interval", check_guidance_interval(self.interval, scale)
        )
        set_field(
            self, "rule", check_guidance_rule(self.rule, scale, self.guide)
        )
        set_field(
            self,
            "classifier_scale",
            validate_float(self.classifier_scale, "classifier_scale"),
        )
        if self.classifier is not None and not isinstance(
            self.classifier, keras.Model
        ):
            raise ValueError(
                "`classifier` must be a Keras model `[x_t, timesteps] -> "
                f"logits` (or `None`); received {self.classifier!r}."
            )

    def for_model(self, model):
        """This guidance, checked against `model`: a `guide` of its class
        and shape; classifier-free guidance only of a class-conditional
        model (autoguidance needs no classes)."""
        check_guide(self.guide, model, self.scale)
        if self.guide is None:
            public_inputs.check_guidance_scale(model, self.scale)
        return self

    @property
    def key(self):
        """The part of a sampling program's compile-cache key this
        guidance sets, or `None` when a guide or a classifier takes part:
        their weights are not the program's arguments, so such runs are
        traced anew (and `classifier_scale` acts only with a classifier)."""
        if self.guide is not None or self.classifier is not None:
            return None
        return (self.scale, self.interval, self.rule)


def classifier_free_guidance(
    denoise, scale, labels, null_labels, interval=None, noise_level=None
):
    """`out = (1 + w) out(x_t, y) - w out(x_t, null)` (Ho & Salimans 2022),
    or, with an `interval`, only where the noise level lies in it
    (Kynkaanniemi et al. 2024):

    ```
    w(t) = w   if low <= noise_level(t) <= high,   else 0
    ```

    Guidance at high noise pulls every sample of a class towards one
    mode (less variety); at low noise it does little but cost. Limited
    to the middle, FID improves at the same guidance strength.

    Args:
        denoise: `(x_t, t, labels) -> model output`, any other
            conditioning bound (twice over: both halves run as one
            batch of `2 batch` rows).
        scale: float `w`, or `t -> w(t)` (`cfg_plus_plus_scale`).
        labels: `(batch,)` int class ids.
        null_labels: `(batch,)` ids of the "no class" token.
        interval: `(low, high)` of the noise level, or `None` (always).
        noise_level: `t -> noise level` on the interval's scale (for
            flow matching, `sigma` itself).

    Returns:
        `(x_t, t) -> guided model output`; both halves run as one batch.
    """
    both_labels = ops.concatenate([labels, null_labels], axis=0)

    def guided(sample, timestep):
        batch = ops.shape(sample)[0]
        timestep = ops.convert_to_tensor(timestep)
        if len(timestep.shape):
            # One timestep per example (a consistency model's teacher).
            timestep = ops.concatenate([timestep, timestep], axis=0)
        both = denoise(
            ops.concatenate([sample, sample], axis=0),
            timestep,
            both_labels,
        )
        conditional, unconditional = both[:batch], both[batch:]
        weight = _interval_weight(
            scale(timestep) if callable(scale) else scale,
            interval,
            noise_level,
            timestep[:batch] if len(timestep.shape) else timestep,
            len(conditional.shape),
        )
        return conditional + weight * (conditional - unconditional)

    return guided


def cfg_plus_plus_scale(strength, points, next_points, signal, noise):
    """CFG++ (Chung et al. 2024) on a first-order deterministic sampler
    (a flow's Euler steps, DDIM's with `eta = 0`), as the
    classifier-free guidance weight of each step.

    Both samplers write `x_t = a_t x_0 + b_t eps` (flow matching: `a =
    1 - sigma`, `b = sigma`; diffusion: `a = sqrt(alpha_bar)`, `b =
    sqrt(1 - alpha_bar)`) and step from `t` to `t'` by

    ```
    x_t' = a_t' x_0 + b_t' eps,      x_0 = (x_t - b_t eps) / a_t
    ```

    with `(x_0, eps)` from one model output. CFG++ takes the data
    estimate from the guided output and the noise from the
    unconditional one, so that the sample stays on the path the model
    was trained on (classifier-free guidance extrapolates both, and
    leaves it at large weights):

    ```
    eps_l = eps_u + l (eps_c - eps_u),          l in [0, 1]
    x_t'  = a_t' (x_t - b_t eps_l) / a_t + b_t' eps_u
    ```

    This is the plain step on the output classifier-free guidance
    `(1 + w) out_c - w out_u` gives at a weight set per step (any
    output, noise, velocity or data, is affine in `eps` at fixed `x_t`):

    ```
    w(t) = l a_t' b_t / (a_t' b_t - a_t b_t') - 1
    ```

    It grows as the steps get finer (for a flow, about `l sigma (1 -
    sigma) / step`), which is why `l` stays in [0, 1] where
    classifier-free guidance takes weights of several units. Written
    this way, CFG++ is one more weight schedule of the same two-halves
    batch, with no change to the solver.

    Args:
        strength: float `l` in [0, 1].
        points: the sampling loop's points (sigmas or timesteps), in the
            order it visits them.
        next_points: the point each step goes to.
        signal: numpy `points -> a`.
        noise: numpy `points -> b`.

    Returns:
        `t -> w(t)`, looking `t` up among `points`.

    References:
        1. Chung et al. CFG++: Manifold-constrained Classifier Free
           Guidance for Diffusion Models. 2024. arXiv:2406.08070.
    """
    points = np.asarray(points, "float64")
    next_points = np.asarray(next_points, "float64")
    a, b = signal(points), noise(points)
    next_a, next_b = signal(next_points), noise(next_points)
    weights = strength * next_a * b / (next_a * b - a * next_b) - 1.0
    point_table = ops.convert_to_tensor(points.astype("float32"))
    weight_table = ops.convert_to_tensor(weights.astype("float32"))

    def scale(point):
        # The loop evaluates the output at exactly these points.
        distance = ops.abs(point_table - ops.cast(point, "float32"))
        return ops.take(weight_table, ops.argmin(distance))

    return scale


def autoguidance(
    denoise, guide_denoise, scale, interval=None, noise_level=None
):
    """Guidance by a weaker version of the model itself (Karras et al.
    2024), in place of the unconditional half of classifier-free
    guidance:

    ```
    out = (1 + w) out(x_t | c) - w out_guide(x_t | c)
    ```

    where the guide is the same kind of model, smaller or trained less,
    under the same conditioning `c` (none for an unconditional model).
    Where the two disagree the guide is wrong in the way the model is,
    only more so; extrapolating away from it sharpens samples without
    pulling a class towards one mode, the variety cost of
    classifier-free guidance. `interval` limits it as it does that.

    Args:
        denoise: `(x_t, t) -> model output`.
        guide_denoise: `(x_t, t) -> the guide's output`, on the same
            scale (same prediction and noise schedule).
        scale: float `w`.
        interval: `(low, high)` of the noise level, or `None` (always).
        noise_level: `t -> noise level` on the interval's scale.

    Returns:
        `(x_t, t) -> guided model output`.
    """

    def guided(sample, timestep):
        output = denoise(sample, timestep)
        guide_output = guide_denoise(sample, timestep)
        timestep = ops.convert_to_tensor(timestep)
        weight = _interval_weight(
            scale, interval, noise_level, timestep, len(output.shape)
        )
        return output + weight * (output - guide_output)

    return guided


def _interval_weight(scale, interval, noise_level, timestep, rank):
    """The guidance weight at `timestep`: `scale` inside `interval` (or
    everywhere without one), 0 outside; broadcastable against outputs of
    rank `rank` when there is one timestep per example."""
    if interval is None:
        return scale
    level = noise_level(timestep)
    inside = ops.logical_and(level >= interval[0], level <= interval[1])
    weight = ops.where(inside, scale, 0.0)
    if len(weight.shape):
        weight = ops.reshape(weight, (-1,) + (1,) * (rank - 1))
    return weight


def check_guide(guide, model, guidance_scale):
    """`guide` for autoguidance of `model`, checked: `None`, or a model
    of `model`'s class drawing the same samples under the same
    conditioning, with a nonzero `guidance_scale` to weigh it."""
    if guide is None:
        return None
    kind = type(model).__name__
    if not isinstance(guide, type(model)):
        raise ValueError(
            f"`guide` must be a {kind}, a smaller or less-trained version "
            f"of the model; received {type(guide).__name__}."
        )
    mismatches = [
        name
        for name in ("sample_shape", "num_classes")
        if getattr(guide, name) != getattr(model, name)
    ]
    if mismatches:
        name = mismatches[0]
        raise ValueError(
            f"`guide` must have the model's {name} "
            f"({getattr(model, name)}); it has {getattr(guide, name)}."
        )
    if not guidance_scale:
        raise ValueError(
            "`guide` is what autoguidance steers away from: give a nonzero "
            "`guidance_scale` too."
        )
    return guide


GUIDANCE_RULES = ("cfg", "cfg++")


def check_guidance_rule(guidance, guidance_scale, guide):
    """`guidance` ("cfg" or "cfg++"), checked against what CFG++ needs:
    a strength in [0, 1] and no guide. The caller checks its solver."""
    if guidance not in GUIDANCE_RULES:
        raise ValueError(
            f"`guidance` must be one of {GUIDANCE_RULES}; received "
            f"{guidance!r} (autoguidance: pass a `guide`)."
        )
    if guidance == "cfg" or not guidance_scale:
        return "cfg"
    if guide is not None:
        raise ValueError(
            "`guidance='cfg++'` guides by the unconditional model; it "
            "takes no `guide`."
        )
    if not 0.0 < guidance_scale <= 1.0:
        raise ValueError(
            "`guidance='cfg++'` takes a `guidance_scale` in (0, 1], the "
            f"strength of CFG++; received {guidance_scale!r}."
        )
    return guidance


def check_guidance_interval(guidance_interval, guidance_scale):
    """`guidance_interval` as a `(low, high)` tuple of floats in [0, 1]
    with `low <= high`, or `None`; it needs guidance to limit."""
    if guidance_interval is None:
        return None
    try:
        low, high = (float(value) for value in guidance_interval)
    except (TypeError, ValueError):
        raise ValueError(
            "`guidance_interval` must be a (low, high) pair of noise "
            f"levels in [0, 1]; received {guidance_interval!r}."
        ) from None
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(
            "`guidance_interval` must be (low, high) with 0 <= low <= "
            f"high <= 1; received {guidance_interval!r}."
        )
    if not guidance_scale:
        raise ValueError(
            "`guidance_interval` limits guidance: give a "
            "nonzero `guidance_scale` too."
        )
    return (low, high)


def classifier_guidance(denoise, scheduler, classifier, labels, scale):
    """Moves the predicted noise down a noise-conditional classifier's
    log-likelihood gradient (Dhariwal & Nichol 2021, eq. 14):

    ```
    eps' = eps - s * sqrt(1 - alpha_bar_t) * grad_x log p(y | x_t, t)
    ```

    Args:
        denoise: `(x_t, t) -> model output`.
        scheduler: the `DiffusionScheduler` whose prediction type the
            output has.
        classifier: `[x_t, timesteps] -> logits`.
        labels: `(batch,)` int class ids to guide towards.
        scale: float `s`.
    """
    one_hot = ops.one_hot(labels, classifier.outputs[0].shape[-1])

    def gradient(sample, timestep):
        timesteps = ops.full((ops.shape(sample)[0],), timestep, "int32")

        def log_likelihood(x):
            logits = classifier([x, timesteps], training=False)
            return ops.sum(ops.log_softmax(logits, axis=-1) * one_hot, axis=-1)

        return backend.grad(log_likelihood, sample)

    def guided(sample, timestep):
        model_output = denoise(sample, timestep)
        _, noise = scheduler.predict_original_and_noise(
            model_output, sample, timestep
        )
        noise_scale = ops.sqrt(1.0 - scheduler.alpha_bar(timestep))
        noise = noise - scale * noise_scale * gradient(sample, timestep)
        return scheduler.model_output_from_noise(noise, sample, timestep)

    return guided
