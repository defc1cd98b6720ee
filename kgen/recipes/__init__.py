"""Deprecated: pretrained models are presets now, see `kgen.presets`."""

from kgen.recipes.registry import available
from kgen.recipes.registry import load
from kgen.recipes.registry import save

__all__ = ["available", "load", "save"]
