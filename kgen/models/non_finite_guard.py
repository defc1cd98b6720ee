"""The non-finite guard every kgen `fit` carries.

A `kgen.callbacks.TerminateOnNonFinite` joins every fit's callbacks
(first, so no checkpoint sees a bad step's weights); when it may skip
steps, the model's `train_step` is swapped for one that undoes a
non-finite step whole (`kgen.backend.undo_non_finite_steps`).
"""

import contextlib

import keras

from kgen import backend


def with_non_finite_check(callbacks):
    """`callbacks` with a `TerminateOnNonFinite` first (added unless one is
    there): a NaN loss stops every kgen `fit` with an error naming the
    step."""
    from kgen.callbacks import TerminateOnNonFinite

    if isinstance(callbacks, keras.callbacks.CallbackList):
        return callbacks
    callbacks = list(callbacks or [])
    check = non_finite_check(callbacks) or TerminateOnNonFinite()
    # First, so that no later callback (a step-wise checkpoint) sees a
    # non-finite step's weights, and all see its `skipped_steps` count.
    return [check] + [c for c in callbacks if c is not check]


def non_finite_check(callbacks):
    """The `TerminateOnNonFinite` among `callbacks` (a list or a
    `CallbackList`), or `None`."""
    from kgen.callbacks import TerminateOnNonFinite

    if isinstance(callbacks, keras.callbacks.CallbackList):
        callbacks = callbacks.callbacks
    for callback in callbacks or []:
        if isinstance(callback, TerminateOnNonFinite):
            return callback
    return None


@contextlib.contextmanager
def steps_undone(model, callbacks):
    """Within it, `train_step` undoes a non-finite step, when the fit's
    `TerminateOnNonFinite` may skip steps.

    The guarded step shadows the class' `train_step` as an instance
    attribute, the one thing every Keras trainer reads when it builds
    its train function; both train functions are rebuilt around it.
    """
    terminate = non_finite_check(callbacks)
    if terminate is None or terminate.max_skipped_steps == 0:
        yield
        return
    if model.steps_per_execution != 1:
        raise ValueError(
            "`TerminateOnNonFinite(max_skipped_steps=...)` needs "
            "`steps_per_execution=1` (it counts the skipped steps "
            "one by one); this model was compiled with "
            f"steps_per_execution={model.steps_per_execution}."
        )
    vars(model)["train_step"] = backend.undo_non_finite_steps(model)
    model.train_function = None
    try:
        yield
    finally:
        del vars(model)["train_step"]
        model.train_function = None
