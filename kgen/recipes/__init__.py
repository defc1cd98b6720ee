"""Pretrained recipes shipped in `saved_models/`."""

from kgen.recipes.registry import available
from kgen.recipes.registry import load
from kgen.recipes.registry import save

__all__ = ["available", "load", "save"]
