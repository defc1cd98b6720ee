import numpy as np


class FeatureStore:
    """All feature rows seen, for metrics that need every sample."""

    def __init__(self):
        self.batches = []

    def add(self, features):
        self.batches.append(np.asarray(features, dtype=np.float64))

    @property
    def count(self):
        return sum(len(b) for b in self.batches)

    @property
    def features(self):
        return np.concatenate(self.batches) if self.batches else None
