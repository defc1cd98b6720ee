import keras
import numpy as np

from kgen.metrics.feature_metric import FeatureMetric
from kgen.metrics.feature_store import FeatureStore
from kgen.metrics.kernel_distance import polynomial_mmd
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_optional_int


@keras.saving.register_keras_serializable(package="kgen")
class KernelInceptionDistance(FeatureMetric):
    """Kernel Inception Distance (KID): unbiased MMD^2 of Inception features.

    The cubic polynomial kernel `k(x, y) = (x.y / d + 1)**3`, averaged over
    `num_subsets` random subsets of `subset_size` samples per side (as in
    Binkowski et al. and torch-fidelity). Unlike FID it is unbiased in the
    number of samples, so it compares fairly across sample sizes.
    `subset_estimates()` gives the per-subset values (their spread is the
    usual +- reported beside KID).

    Args:
        num_subsets: int.
        subset_size: int. Capped at the smaller side's sample count.
        seed: int >= 0 seeding the subset draws, or `None` for fresh
            draws at each `result()`.
        **kwargs: see `kgen.metrics.FeatureMetric`.

    References:
        1. Binkowski et al. Demystifying MMD GANs. 2018. arXiv:1801.01401.
    """

    def __init__(
        self, num_subsets=100, subset_size=1000, seed=0, name="kid", **kwargs
    ):
        self.num_subsets = validate_int(num_subsets, "num_subsets")
        self.subset_size = validate_int(subset_size, "subset_size", minimum=2)
        self.seed = validate_optional_int(seed, "seed", minimum=0)
        super().__init__(name=name, **kwargs)

    def _new_accumulator(self):
        return FeatureStore()

    def subset_estimates(self):
        """MMD^2 on each random subset pair (float64 array)."""
        real = self._real_side().features
        generated = self._generated.features
        counts = [0 if f is None else len(f) for f in (real, generated)]
        for side, count in zip(("real", "generated"), counts):
            self._check_count(side, count, 2, "for pairs within each side")
        size = min(self.subset_size, *counts)
        rng = np.random.default_rng(self.seed)
        return np.array(
            [
                polynomial_mmd(
                    real[rng.choice(len(real), size, replace=False)],
                    generated[rng.choice(len(generated), size, replace=False)],
                )
                for _ in range(self.num_subsets)
            ]
        )

    def result(self):
        return float(self.subset_estimates().mean())
