import keras
import numpy as np

from kgen.metrics.feature_metric import FeatureMetric
from kgen.metrics.frechet_distance import frechet_distance
from kgen.metrics.running_moments import RunningMoments


@keras.saving.register_keras_serializable(package="kgen")
class FrechetInceptionDistance(FeatureMetric):
    """Frechet Inception Distance (FID) between real and generated images.

    ```
    FID = ||mu_r - mu_g||**2 + tr(S_r + S_g - 2 (S_r S_g)**(1/2))
    ```

    over the pool3 features of the TF-2015 FID-Inception network (genuine
    weights, loaded offline and checksum-verified), so the numbers compare
    with the TF reference implementation and pytorch-fid. With a
    `feature_extractor` it is a domain FID (e.g. on a digits classifier's
    features): label such numbers as such.

    Statistics stream in float64 (Chan et al.'s pairwise merge), so any
    batching gives the one-shot result.

    Args: see `kgen.metrics.FeatureMetric`.

    Example:

    ```python
    fid = kgen.metrics.FrechetInceptionDistance(value_range=(0, 1))
    fid.update_state(real_images=x_test[:1000])
    fid.update_state(generated_images=model.sample(1000, seed=0))
    fid.result()
    ```

    References:
        1. Heusel et al. GANs Trained by a Two Time-Scale Update Rule
           Converge to a Local Nash Equilibrium. 2017. arXiv:1706.08500.
    """

    def __init__(self, name="fid", **kwargs):
        super().__init__(name=name, **kwargs)

    def _new_accumulator(self):
        return RunningMoments()

    def set_reference_statistics(self, mean, covariance, count):
        """Fixes the real side to precomputed moments (e.g. from an .npz)."""
        mean = np.asarray(mean, dtype=np.float64)
        covariance = np.asarray(covariance, dtype=np.float64)
        if covariance.shape != (len(mean), len(mean)):
            raise ValueError(
                f"`covariance` must have shape {(len(mean), len(mean))}; "
                f"received {covariance.shape}."
            )
        if count < 2:
            raise ValueError(f"`count` must be at least 2; received {count}.")
        reference = RunningMoments()
        reference.count, reference.mean = int(count), mean
        reference.scatter = covariance * (count - 1)
        self._reference = reference

    def reference_statistics(self):
        """`(mean, covariance, count)` of the real side, for reuse."""
        real = self._real_side()
        self._check_count(real, "real")
        return real.mean, real.covariance(), real.count

    def result(self):
        real, generated = self._real_side(), self._generated
        self._check_count(real, "real")
        self._check_count(generated, "generated")
        return frechet_distance(
            real.mean, real.covariance(), generated.mean, generated.covariance()
        )

    def _check_count(self, moments, side):
        if moments.count < 2:
            raise ValueError(
                f"FID needs at least 2 {side} images (a covariance); it has "
                f"{moments.count}. Call update_state({side}_images=...)."
            )
