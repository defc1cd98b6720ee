"""Model classes kgen retired, and the family classes that stand for them.

`ConditionalGAN` and `ConditionalVAE` were `GAN` and `VAE` built with
`num_classes` required: subclasses that added a check and no behaviour, so
one model had two class names. Their saved files (`.keras`, weights with a
config) name them and load as the family class, whose constructor takes
the same arguments in the same order; code that calls them gets the family
model and a `FutureWarning` (shown to users, as diffusers' deprecations
are). The names are functions now: `isinstance` checks, subclasses and
`from_config` use `GAN` and `VAE`. A conditional model is listed among the
architectures (`conditional_vae`, `conditional_dcgan`), as keras-hub lists
a backbone's configurations.
"""

import inspect
import warnings

import keras

from kgen.models.gan.gan import GAN
from kgen.models.vae.vae import VAE

RETIRED_CLASSES = {"ConditionalGAN": GAN, "ConditionalVAE": VAE}


def register_retired_classes():
    """Lets Keras' deserialisation read a retired name as its family."""
    custom_objects = keras.saving.get_custom_objects()
    for name, family in RETIRED_CLASSES.items():
        custom_objects[f"kgen>{name}"] = family


def retired_class(name):
    """A stand-in for the retired class `name`: builds its family class,
    with `num_classes` required as the retired class required it."""
    family = RETIRED_CLASSES[name]
    signature = inspect.signature(family)

    def build(*args, **kwargs):
        arguments = signature.bind(*args, **kwargs).arguments
        if arguments.get("num_classes") is None:
            raise ValueError(
                f"A {name} needs `num_classes` (an int >= 2); for an "
                f"unconditional model use `kgen.models.{family.__name__}`."
            )
        warnings.warn(
            f"kgen.models.{name} is kgen.models.{family.__name__} built "
            f"with `num_classes`; call {family.__name__} (the same "
            "arguments) instead.",
            FutureWarning,
            stacklevel=2,
        )
        return family(*args, **kwargs)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = (
        f"Retired: `kgen.models.{family.__name__}(..., num_classes=...)`."
    )
    return build
