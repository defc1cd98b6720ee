"""Detecting generated images without a watermark: a classifier of real
against generated images (`train_generated_image_detector`), its scores
(`generated_probability`) and its accuracy, AUROC and true-positive rate
at 1% false positives (`detection_report`)."""

from kgen.detection.generated_image_detector import detection_report
from kgen.detection.generated_image_detector import generated_probability
from kgen.detection.generated_image_detector import (
    train_generated_image_detector,
)

__all__ = [
    "detection_report",
    "generated_probability",
    "train_generated_image_detector",
]
