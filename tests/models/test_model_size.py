"""The model object stays as small as its contract: the methods and
properties a diffusion model carries through its kgen classes, counted as
a reader meets them (each name once, Keras' own not counted)."""

import inspect

import pytest

import kgen

# Under 40 each (issue 75): by this count DiffusionModel had 70 and
# TextToImage 75 at ce1a8a3, before their mixins' helpers became plain
# functions.
MAX_NAMES = 39


def kgen_names(cls):
    """Names of the methods and properties `cls` defines or inherits
    from kgen classes (dunders aside)."""
    names = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("kgen."):
            continue
        for name, value in vars(klass).items():
            routine = inspect.isfunction(value) or isinstance(
                value, (staticmethod, classmethod, property)
            )
            if routine and not name.startswith("__"):
                names.add(name)
    return names


@pytest.mark.parametrize("name", ["DiffusionModel", "TextToImage"])
def test_a_diffusion_model_has_under_40_methods(name):
    names = kgen_names(getattr(kgen.models, name))
    assert len(names) <= MAX_NAMES, sorted(names)
