import keras
from keras import ops

from kgen.bijectors.coupling import Coupling
from kgen.bijectors.rational_quadratic_spline import check_spline_arguments
from kgen.bijectors.rational_quadratic_spline import rational_quadratic_spline
from kgen.bijectors.rational_quadratic_spline import spline_parameters


@keras.saving.register_keras_serializable(package="kgen")
class SplineCoupling(Coupling):
    """A rational-quadratic spline coupling layer (RQ-NSF, coupling form).

    With a binary mask `b` (1: kept and conditioned on, 0: transformed),
    a conditioner network `NN` of the kept part gives every transformed
    feature its own monotone spline `g` on `[-bound, bound]` (identity
    outside; see `RationalQuadraticSpline`):

    ```
    widths, heights, slopes = NN(b * x)
    y = b * x + (1 - b) * g(x; widths, heights, slopes)
    log |det dy/dx| = sum((1 - b) * log g'(x))
    ```

    A spline of `num_bins` bins is far more flexible per layer than
    RealNVP's affine map, at the cost of `3 num_bins - 1` conditioner
    outputs per feature instead of 2. The conditioner's last layer starts
    at zero, so the layer starts as the identity. On the TensorFlow
    backend it equals `tfp.bijectors.RealNVP(num_masked, bijector_fn=...)`
    returning a `tfp.bijectors.RationalQuadraticSpline`.

    Args:
        mask: str. `"half"` (vectors), `"checkerboard"` or `"channel"`
            (images, `(height, width, channels)`), as in `AffineCoupling`.
        reverse: bool. Swap the kept and transformed parts.
        num_bins: int. Spline bins, >= 2.
        bound: float. The splines act on `[-bound, bound]`.
        hidden_dim: int. Width (units or filters) of the conditioner.
        num_layers: int. Hidden layers of the conditioner.
        min_bin_size: float. Smallest bin width and height.
        min_slope: float. Smallest knot slope, in `(0, 1)`.

    References:
        1. Durkan et al. Neural Spline Flows. 2019. arXiv:1906.04032.
    """

    def __init__(
        self,
        mask="half",
        reverse=False,
        num_bins=8,
        bound=3.0,
        hidden_dim=64,
        num_layers=2,
        min_bin_size=1e-3,
        min_slope=1e-3,
        **kwargs,
    ):
        check_spline_arguments(num_bins, bound, min_bin_size, min_slope)
        super().__init__(
            mask=mask,
            reverse=reverse,
            hidden_dim=hidden_dim,
            num_layers=num_layers,
            **kwargs,
        )
        self.num_bins = num_bins
        self.bound = bound
        self.min_bin_size = min_bin_size
        self.min_slope = min_slope

    def conditioner_units(self, event_shape):
        # Per feature: K widths, K heights, K - 1 interior slopes.
        return (3 * self.num_bins - 1) * event_shape[-1]

    def spline_parameters(self, x):
        """`(bin_widths, bin_heights, knot_slopes)` for every feature of
        `x`, computed from its kept part; each `x.shape + (bins,)`."""
        h = self.conditioner_outputs(x)
        # (..., parameters * features) -> (..., features, parameters),
        # by slicing rather than a reshape of the (dynamic) batch axes.
        raw = ops.stack(ops.split(h, 3 * self.num_bins - 1, axis=-1), -1)
        bins = self.num_bins
        return spline_parameters(
            raw[..., :bins],
            raw[..., bins : 2 * bins],
            raw[..., 2 * bins :],
            self.bound,
            self.min_bin_size,
            self.min_slope,
        )

    def _transform(self, values, inverse):
        # The kept part is unchanged, so both directions see the same
        # conditioner input.
        splined, log_det = rational_quadratic_spline(
            values,
            *self.spline_parameters(values),
            range_min=-self.bound,
            inverse=inverse,
        )
        transformed = 1.0 - self.mask_values
        outputs = self.mask_values * values + transformed * splined
        return outputs, self.sum_event(transformed * log_det)

    def _forward_and_log_det(self, x):
        return self._transform(x, inverse=False)

    def _inverse_and_log_det(self, y):
        return self._transform(y, inverse=True)
