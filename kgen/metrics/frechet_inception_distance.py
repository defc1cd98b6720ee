import keras
import numpy as np

from kgen.metrics.feature_metric import FeatureMetric
from kgen.metrics.frechet_distance import frechet_distance
from kgen.metrics.frechet_distance import validate_gaussian
from kgen.metrics.running_moments import RunningMoments
from kgen.utils.argument_validation import validate_int


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
        """Fixes the real side to precomputed moments (e.g. from an .npz).

        Args:
            mean: array `(d,)`.
            covariance: array `(d, d)`.
            count: int >= 2. Images the moments were computed from (an
                .npz holds it as a 0-d array, accepted too).
        """
        mean, covariance = validate_gaussian(
            mean, covariance, "mean", "covariance"
        )
        if isinstance(count, np.ndarray) and count.ndim == 0:
            count = count.item()
        count = validate_int(count, "count", minimum=2)
        reference = RunningMoments()
        reference.count, reference.mean = count, mean
        reference.scatter = covariance * (count - 1)
        self._reference = reference

    def reference_statistics(self):
        """`(mean, covariance, count)` of the real side, for reuse."""
        real = self._real_side()
        self._check_count("real", real.count, 2, "for a covariance")
        return real.mean, real.covariance(), real.count

    def result(self):
        real, generated = self._real_side(), self._generated
        self._check_count("real", real.count, 2, "for a covariance")
        self._check_count("generated", generated.count, 2, "for a covariance")
        return frechet_distance(
            real.mean, real.covariance(), generated.mean, generated.covariance()
        )
