import keras
import numpy as np

from kgen.metrics.feature_metric import FeatureMetric
from kgen.metrics.feature_store import FeatureStore
from kgen.utils.argument_validation import validate_int


@keras.saving.register_keras_serializable(package="kgen")
class PrecisionRecall(FeatureMetric):
    """Improved precision and recall of k-NN feature manifolds.

    Each set's manifold is the union of balls around its samples, each ball
    reaching the sample's k-th nearest neighbour in the same set:

    ```
    precision = P_{g ~ generated}[g inside the real manifold]
    recall    = P_{r ~ real}[r inside the generated manifold]
    ```

    Precision measures fidelity, recall coverage (mode collapse lowers
    recall). `result()` returns `{"precision": ..., "recall": ...}`.
    Features are FID-Inception's by default (Kynkaanniemi et al. use VGG-16);
    any `feature_extractor` works.

    Args:
        k: int. Neighbourhood size (the paper's k = 3).
        **kwargs: see `kgen.metrics.FeatureMetric`.

    References:
        1. Kynkaanniemi et al. Improved Precision and Recall Metric for
           Assessing Generative Models. 2019. arXiv:1904.06991.
    """

    def __init__(self, k=3, name="precision_recall", **kwargs):
        k = validate_int(k, "k")
        self.k = k
        super().__init__(name=name, **kwargs)

    def _new_accumulator(self):
        return FeatureStore()

    def result(self):
        real = self._real_side().features
        generated = self._generated.features
        for side, features in (("real", real), ("generated", generated)):
            self._check_count(
                side,
                0 if features is None else len(features),
                self.k + 1,
                f"`k` = {self.k} neighbours besides each image itself",
            )
        return {
            "precision": coverage(generated, real, self.k),
            "recall": coverage(real, generated, self.k),
        }


def coverage(queries, support, k, chunk_size=1024):
    """Fraction of `queries` inside the k-NN balls of `support`."""
    radii = np.empty(len(support))
    for start in range(0, len(support), chunk_size):
        distances = _distances(support[start : start + chunk_size], support)
        # Column 0 of the sorted row is the point itself (distance 0).
        radii[start : start + chunk_size] = np.partition(distances, k, axis=1)[
            :, k
        ]
    inside = np.empty(len(queries), dtype=bool)
    for start in range(0, len(queries), chunk_size):
        distances = _distances(queries[start : start + chunk_size], support)
        inside[start : start + chunk_size] = (distances <= radii).any(axis=1)
    return float(inside.mean())


def _distances(a, b):
    squared = (
        (a * a).sum(axis=1)[:, None]
        + (b * b).sum(axis=1)[None, :]
        - 2.0 * a @ b.T
    )
    return np.sqrt(np.clip(squared, 0.0, None))
