"""Callbacks for watching generative models train."""

from kgen.callbacks.metric_callback import MetricCallback
from kgen.callbacks.mode_coverage import ModeCoverage
from kgen.callbacks.progressive_growing import ProgressiveGrowing
from kgen.callbacks.sample_grid import SampleGrid

__all__ = ["MetricCallback", "ModeCoverage", "ProgressiveGrowing", "SampleGrid"]
