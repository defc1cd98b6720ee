"""Generative models as data: labelled synthetic images
(`class_balanced_samples`) and the accuracy on real test images of a
classifier trained on them, alone (the Classification Accuracy Score)
or added to a small real training set (`classification_accuracy_score`).
"""

from kgen.augmentation.class_balanced_samples import class_balanced_samples
from kgen.augmentation.classification_accuracy_score import (
    classification_accuracy_score,
)

__all__ = ["class_balanced_samples", "classification_accuracy_score"]
