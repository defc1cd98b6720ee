"""Undoing a training step whose outcome is not finite.

`TerminateOnNonFinite(max_skipped_steps=N)` lets `fit` skip up to `N` bad
batches. A callback sees a step only after its updates are applied, and on
JAX it cannot change the state the trainer carries to the next step, so the
undo happens inside the step: the whole model state (weights, batch
statistics, seed generators, optimizer slots and iterations, metric
accumulators) is kept before the step and selected back afterwards when a
logged value or a variable came out NaN or infinite. As in Keras'
`LossScaleOptimizer`, the skip is a select, not a branch, so the step
traces alike on every backend and under `jit`.

The step then logs `skipped_steps`: 1.0 for an undone step, else 0.0 (the
callback turns it into a count).
"""

import keras

SKIPPED_STEPS = "skipped_steps"


def model_state(model):
    """Every variable a training step may change, each once."""
    optimizer = getattr(model, "optimizer", None)
    groups = (
        model.trainable_variables,
        model.non_trainable_variables,
        [] if optimizer is None else optimizer.variables,
        model.metrics_variables,
    )
    seen = set()
    variables = []
    for group in groups:
        for variable in group:
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables


def all_finite(values):
    """A boolean scalar: every floating value in `values` is finite."""
    ops = keras.ops
    finite = ops.convert_to_tensor(True)
    for value in values:
        value = ops.convert_to_tensor(value)
        if not keras.backend.is_float_dtype(value.dtype):
            continue
        finite = ops.logical_and(finite, ops.all(ops.isfinite(value)))
    return finite


def undo_if_non_finite(finite, new_values, old_values):
    """`new` where `finite`, else `old`, for each pair."""
    return [
        keras.ops.where(finite, new, old)
        for new, old in zip(new_values, old_values)
    ]


def with_skip_flag(logs, finite):
    logs = dict(logs)
    logs[SKIPPED_STEPS] = keras.ops.cast(
        keras.ops.logical_not(finite), "float32"
    )
    return logs


def undo_stateful_step(model, step):
    """`step(data) -> logs`, a step that assigns the model's variables, made
    to undo itself when its logs or the variables are not finite."""

    def guarded_step(data):
        variables = model_state(model)
        before = [
            keras.ops.copy(keras.ops.stop_gradient(v.value)) for v in variables
        ]
        logs = step(data)
        after = [v.value for v in variables]
        finite = all_finite(list(logs.values()) + after)
        kept = undo_if_non_finite(finite, after, before)
        for variable, value in zip(variables, kept):
            variable.assign(value)
        return with_skip_flag(logs, finite)

    return guarded_step
