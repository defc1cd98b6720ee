"""Callbacks for watching generative models train."""

from kgen.callbacks.backup_and_restore import BackupAndRestore
from kgen.callbacks.loss_estimates import LossEstimates
from kgen.callbacks.metric_callback import MetricCallback
from kgen.callbacks.mode_coverage import ModeCoverage
from kgen.callbacks.progressive_growing import ProgressiveGrowing
from kgen.callbacks.sample_grid import SampleGrid
from kgen.callbacks.tensorboard import TensorBoard
from kgen.callbacks.terminate_on_non_finite import NonFiniteLossError
from kgen.callbacks.terminate_on_non_finite import TerminateOnNonFinite
from kgen.callbacks.training_budget import TrainingBudget

__all__ = [
    "BackupAndRestore",
    "LossEstimates",
    "MetricCallback",
    "ModeCoverage",
    "NonFiniteLossError",
    "ProgressiveGrowing",
    "SampleGrid",
    "TensorBoard",
    "TerminateOnNonFinite",
    "TrainingBudget",
]
