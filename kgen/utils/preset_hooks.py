"""The preset operations of a model class, provided from the floor above.

`GenerativeModel.from_preset` and `save_to_preset` belong to the contract
(and a tokenizer has its `from_preset`), but loading and saving a preset
(the registry, the untrained architectures, the card and its reference
samples) builds and runs models, so `kgen.presets` sits above
`kgen.models`. A model does not import upwards: it calls what
`kgen.presets` registers here when it is imported, which every
`import kgen` does. Keras finds a layer's class through its
serialization registry in the same way, without its saving code
importing the layer.
"""

_REGISTERED = {}


def register(**operations):
    """Registers `kgen.presets`' functions by name (`from_preset`,
    `save_to_preset`, `load_tokenizer`)."""
    _REGISTERED.update(operations)


def get(name):
    """The registered preset operation `name`."""
    try:
        return _REGISTERED[name]
    except KeyError:
        raise RuntimeError(
            f"No preset operation {name!r} is registered: kgen.presets "
            "registers them when it is imported; `import kgen` first."
        ) from None
