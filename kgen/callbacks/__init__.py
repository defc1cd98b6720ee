"""Callbacks for watching generative models train."""

from kgen.callbacks.sample_grid import SampleGrid

__all__ = ["SampleGrid"]
