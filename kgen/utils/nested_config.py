"""Configs that nest Keras objects: what a `from_config` rebuilds.

A kgen object whose constructor takes other Keras objects (a metric's
classifier, a chain's bijectors, a model's networks) writes each as its
serialized config (`keras.saving.serialize_keras_object`); `from_config`
turns those entries back into objects before calling the class. Keras
leaves that step to each class; here it is written once.
"""

import keras

# What `keras.saving.serialize_keras_object` writes for a Keras object.
_SERIALIZED_KEYS = ("class_name", "config")


def is_serialized_object(entry):
    """Whether a config entry is a serialized Keras object."""
    return isinstance(entry, dict) and all(
        key in entry for key in _SERIALIZED_KEYS
    )


def deserialize_entry(entry):
    """A config entry with the Keras objects in it rebuilt: a serialized
    object as the object, a list or tuple item by item, anything else
    (`None`, plain values) as it is."""
    if is_serialized_object(entry):
        return keras.saving.deserialize_keras_object(entry)
    if isinstance(entry, (tuple, list)):
        return type(entry)(deserialize_entry(item) for item in entry)
    return entry


def with_objects_rebuilt(config, *names):
    """A copy of `config` whose entries `names` are rebuilt
    (`deserialize_entry`): the arguments a `from_config` calls its class
    with."""
    config = dict(config)
    for name in names:
        if name in config:
            config[name] = deserialize_entry(config[name])
    return config
