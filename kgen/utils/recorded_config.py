"""A config recorded once: the arguments a constructor was called with.

A kgen object that subclasses `RecordedConfig` records, as it is created,
the arguments of its outermost constructor (the class the user named,
defaults included), and its `get_config` is those arguments: Keras
objects among them (networks, bijectors, schedulers, samplers,
tokenizers, distributions) nested as their serialized configs, arrays as
lists, everything else as given. `from_config` rebuilds the nested
objects and calls the class again. An object's config is therefore
exactly its constructor's arguments, and no class writes `get_config`
by hand. `GenerativeModel` adds one rule of its own (the networks and
seed a model holds now); the few classes that still write their config
are listed in `docs/architecture.md`.

Keras' own `Operation.__new__` does the same for layers whose arguments
are all plain values (`_auto_config`) and gives up on any other (a
bijector chain, a network's config read from a path, a NumPy integer);
kgen records every argument and serializes the Keras objects itself.
"""

import inspect

import keras
import numpy as np

from kgen.utils.nested_config import with_objects_rebuilt

_PLAIN_TYPES = (type(None), bool, int, float, str)


class _Arguments:
    """The recorded arguments, in a holder that Keras' saving does not
    walk: it looks for weights in every attribute that is a layer or a
    container, and would save the layers among the arguments (a chain's
    bijectors, a distilled model's caller-owned teacher) a second time.
    Held by the object itself, so a copy or a pickle keeps it."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values


_HOLDER = "_recorded_arguments"


def record(instance, args, kwargs):
    """Records the arguments `type(instance)(*args, **kwargs)` binds,
    defaults included, with `**kwargs` spread out; nothing when they do
    not bind (the constructor then raises its own error)."""
    signature = inspect.signature(type(instance).__init__)
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
    # Past Keras' attribute tracking (and torch's): a plain holder.
    object.__setattr__(instance, _HOLDER, _Arguments(arguments))


def record_argument(instance, name, value):
    """Records `value` as `instance`'s argument `name`, in place of the one
    it was called with: what a constructor resolved an argument to (a
    network's config read from a path) when the resolved value, not the
    given one, rebuilds it."""
    recorded(instance)[name] = value


def recorded(instance):
    """The arguments `record` kept for `instance`, or `None`."""
    holder = vars(instance).get(_HOLDER)
    return None if holder is None else holder.values


def serialize(value, argument, owner):
    """`value` of `owner`'s constructor argument `argument` as a config
    entry: a Keras object (anything with `get_config`) as its serialized
    config, tensors and arrays as nested lists, NumPy scalars as Python
    numbers, tuples and lists as lists (what JSON gives back), dicts entry
    by entry, plain values as they are; anything else cannot be saved,
    and says so."""
    if hasattr(value, "get_config") and not isinstance(value, type):
        return keras.saving.serialize_keras_object(value)
    if keras.ops.is_tensor(value):
        value = keras.ops.convert_to_numpy(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
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


class RecordedConfig:
    """Base of the kgen objects whose config is their constructor's
    arguments, recorded as each is created (see the module).

    It comes first among a class's bases, so that Keras' base config
    (a layer's name, trainable flag and dtype) stays under the recorded
    arguments."""

    def __new__(cls, *args, **kwargs):
        parent_new = super().__new__
        if parent_new is object.__new__:
            # object.__new__ refuses constructor arguments.
            instance = parent_new(cls)
        else:
            instance = parent_new(cls, *args, **kwargs)
        record(instance, args, kwargs)
        return instance

    def get_config(self):
        """The constructor's arguments, Keras objects serialized, with the
        base config of a Keras parent (a layer's name, trainable flag and
        dtype) where there is one."""
        arguments = recorded(self)
        if arguments is None:
            raise NotImplementedError(
                f"{type(self).__name__} was built without binding its "
                "constructor's arguments, so it has no config."
            )
        parent = getattr(super(), "get_config", None)
        config = parent() if parent is not None else {}
        for name, value in arguments.items():
            if name not in config:
                config[name] = serialize(value, name, self)
        return config

    @classmethod
    def from_config(cls, config):
        # The inverse of `serialize`, every entry.
        return cls(**with_objects_rebuilt(config, *config))
