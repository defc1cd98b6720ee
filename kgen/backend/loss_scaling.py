"""Dynamic loss scaling for the steps kgen's families write themselves.

Keras' `LossScaleOptimizer` scales the loss inside Keras' own train step.
The families with several optimizers (GANs, VAE-GAN, CycleGAN) and the
energy models write their own step, apply one network's gradients at a
time, and keep their optimizers in a `MultiOptimizer`, inside which a
`LossScaleOptimizer` cannot sit. So the model's one scale (the
`LossScaleOptimizer` that `compile` wraps around the `MultiOptimizer`) is
applied here, by Keras' rule. Written in `keras.ops`: the same on every
backend.
"""

import keras

from kgen import backend


def with_loss_scaling(model, optimizer, auto_scale_loss=True):
    """`optimizer` in a `LossScaleOptimizer` when a network of `model`
    computes in float16, as Keras' `compile` does for a `mixed_float16`
    model: a kgen model is itself float32 (its networks are not), so
    Keras' check of the model's own policy would miss them."""
    if not auto_scale_loss or isinstance(
        optimizer, keras.optimizers.LossScaleOptimizer
    ):
        return optimizer
    if any(
        layer.compute_dtype == "float16" for layer in model._flatten_layers()
    ):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def loss_scale_optimizer(model):
    """The model's `LossScaleOptimizer`, or `None`."""
    optimizer = getattr(model, "optimizer", None)
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return None


def value_and_grad(scaler, fn, variables):
    """`backend.value_and_grad(fn, variables)`; under the `scaler` (a
    `LossScaleOptimizer`, or `None`) the gradients are those of
    `loss * scale` (the loss returned is unscaled), which
    `apply_gradients` divides back."""
    if scaler is None:
        return backend.value_and_grad(fn, variables)

    def scaled():
        loss, aux = fn()
        scale = keras.ops.cast(scaler.dynamic_scale, loss.dtype)
        return loss * scale, (loss, aux)

    (_, (loss, aux)), grads = backend.value_and_grad(scaled, variables)
    return (loss, aux), grads


def apply_gradients(scaler, optimizer, grads, variables):
    """`optimizer.apply(grads, variables)`, with the dynamic loss scale of
    `scaler` (a `LossScaleOptimizer`, or `None`).

    Keras' rule: gradients are divided by the scale; a step with a
    non-finite gradient changes no weight or optimizer state and halves
    the scale; `dynamic_growth_steps` finite steps in a row double it. The
    skip is a select, not a branch, so it traces alike on every backend.
    """
    if optimizer is scaler:
        optimizer = scaler.inner_optimizer
    if scaler is None:
        optimizer.apply(grads, variables)
        return
    ops = keras.ops
    scale = scaler.dynamic_scale
    grads = [g / ops.cast(scale, g.dtype) for g in grads]
    finite = scaler.check_finite(grads)
    if not optimizer.built:
        optimizer.build(variables)
    state = list(variables) + list(optimizer.variables)
    before = [ops.copy(v.value) for v in state]
    optimizer.apply(grads, variables)
    for variable, old in zip(state, before):
        variable.assign(ops.where(finite, variable.value, old))
    grow = ops.logical_and(
        finite,
        ops.equal(scaler.step_counter, scaler.dynamic_growth_steps - 1),
    )
    scaler.dynamic_scale.assign(
        ops.where(finite, ops.where(grow, scale * 2.0, scale), scale * 0.5)
    )
    scaler.step_counter.assign(
        ops.where(
            ops.logical_and(finite, ops.logical_not(grow)),
            scaler.step_counter + 1,
            0,
        )
    )
