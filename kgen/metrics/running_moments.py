import numpy as np


class RunningMoments:
    """Mean and covariance of feature batches, merged exactly in float64.

    Batches combine with Chan et al.'s pairwise update, so streaming in
    batches equals one pass over all features up to float64 rounding.
    """

    def __init__(self):
        self.count = 0
        self.mean = None
        self.scatter = None  # sum of centred outer products

    def add(self, features):
        features = np.asarray(features, dtype=np.float64)
        count = len(features)
        if count == 0:
            return
        mean = features.mean(axis=0)
        centred = features - mean
        scatter = centred.T @ centred
        if self.count == 0:
            self.count, self.mean, self.scatter = count, mean, scatter
            return
        total = self.count + count
        delta = mean - self.mean
        self.scatter = (
            self.scatter
            + scatter
            + np.outer(delta, delta) * (self.count * count / total)
        )
        self.mean = self.mean + delta * (count / total)
        self.count = total

    def covariance(self):
        return self.scatter / (self.count - 1)
