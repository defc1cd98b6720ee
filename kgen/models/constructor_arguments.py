"""A model's config, recorded once: the arguments its constructor was
called with.

Every `GenerativeModel` records, as it is created, the arguments of the
outermost constructor (the class the user named, defaults included), and
its `get_config` is those arguments: Keras objects among them (networks,
schedulers, samplers, tokenizers, distributions) nested as their
serialized configs, everything else as given. `from_config` rebuilds the
nested objects and calls the class again. A model's config is therefore
exactly its constructor's arguments, and no family writes `get_config`
by hand.

Keras' own `Operation.__new__` does the same for layers whose arguments
are all plain values (`_auto_config`) and gives up on any other; a
generative model's arguments are mostly networks, so kgen records every
argument and serializes the Keras objects itself.
"""

import inspect
import weakref

import keras
import numpy as np

_PLAIN_TYPES = (type(None), bool, int, float, str)

# model -> its constructor's arguments. Kept off the model: Keras' saving
# walks every attribute of a model for weights, and would save the
# networks of the arguments (a distilled model's caller-owned teacher)
# a second time.
_ARGUMENTS = weakref.WeakKeyDictionary()


def record(model, args, kwargs):
    """Records the arguments `type(model)(*args, **kwargs)` binds, defaults
    included, with `**kwargs` spread out; nothing when they do not bind
    (the constructor then raises its own error)."""
    signature = inspect.signature(type(model).__init__)
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError:
        return
    bound.apply_defaults()
    arguments = {}
    for index, (name, value) in enumerate(bound.arguments.items()):
        kind = signature.parameters[name].kind
        if index == 0:  # self
            continue
        if kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                return
        else:
            arguments[name] = value
    # Keras' base config holds these.
    for name in ("name", "trainable", "dtype"):
        arguments.pop(name, None)
    _ARGUMENTS[model] = arguments


def recorded(model):
    """The arguments `record` kept for `model`, or `None`."""
    return _ARGUMENTS.get(model)


def serialize(value, argument, owner):
    """`value` of `owner`'s constructor argument `argument` as a config
    entry: a Keras object (anything with `get_config`) as its serialized
    config, NumPy scalars as Python numbers, tuples and lists as lists
    (what JSON gives back), dicts entry by entry, plain values as they
    are; anything else cannot be saved, and says so."""
    if hasattr(value, "get_config") and not isinstance(value, type):
        return keras.saving.serialize_keras_object(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return [serialize(item, argument, owner) for item in value]
    if isinstance(value, (tuple, list)):
        return [serialize(item, argument, owner) for item in value]
    if isinstance(value, dict):
        return {
            key: serialize(item, argument, owner) for key, item in value.items()
        }
    if isinstance(value, _PLAIN_TYPES):
        return value
    raise ValueError(
        f"This {type(owner).__name__}'s `{argument}` "
        f"({type(value).__name__}) is neither a plain value nor a kgen or "
        "Keras object, so it cannot be saved in a Keras config; save the "
        "weights with `save_weights`, or pass a `kgen` object (e.g. a "
        "`kgen.distributions` prior)."
    )
