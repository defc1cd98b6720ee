"""Rebuilding a Keras object from a config someone else wrote, and only
an object of the kinds expected there."""

import keras


def deserialize_instance(config, kinds, what, error=ValueError):
    """`keras.saving.deserialize_keras_object(config)` (safe mode), which
    must be an instance of `kinds`.

    Args:
        config: a serialized Keras object.
        kinds: a class or tuple of classes the object must be.
        what: str naming the object for the messages, such as
            "`metadata.json`'s token sampler".
        error: the exception class raised.

    Raises:
        `error`, naming `what`: the config does not deserialize, or gives
        an object of another kind.
    """
    try:
        instance = keras.saving.deserialize_keras_object(config)
    except Exception as failure:
        raise error(
            f"{what}: could not be rebuilt ({type(failure).__name__}: "
            f"{failure})."
        ) from None
    if not isinstance(instance, kinds):
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        raise error(
            f"{what}: holds a {type(instance).__name__}, not a "
            f"{' or '.join(kind.__name__ for kind in kinds)}."
        )
    return instance
