import math

import keras
from keras import ops

from kgen.bijectors.bijector import Bijector
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int


@keras.saving.register_keras_serializable(package="kgen")
class RationalQuadraticSpline(Bijector):
    """A learned monotone rational-quadratic spline per feature.

    On `[-bound, bound]` each feature goes through its own spline of
    `num_bins` bins (Durkan et al. 2019); outside it the map is the
    identity. With knots `(x_k, y_k)`, bin sizes `w_k = x_{k+1} - x_k`,
    `h_k = y_{k+1} - y_k`, knot slopes `d_k` (`d_0 = d_K = 1`, so the
    spline meets the identity tails with slope 1), `s_k = h_k / w_k` and
    `xi = (x - x_k) / w_k` in bin `k`:

    ```
    y = y_k + h_k (s_k xi^2 + d_k xi (1 - xi))
              / (s_k + (d_{k+1} + d_k - 2 s_k) xi (1 - xi))
    dy/dx = s_k^2 (d_{k+1} xi^2 + 2 s_k xi (1 - xi) + d_k (1 - xi)^2)
            / (s_k + (d_{k+1} + d_k - 2 s_k) xi (1 - xi))^2
    ```

    and the inverse solves a quadratic in `xi`. The weights are
    unconstrained; `spline_parameters()` maps them to TFP's
    `RationalQuadraticSpline(bin_widths, bin_heights, knot_slopes,
    range_min=-bound)` arguments: softmax bin sizes of at least
    `min_bin_size` and softplus slopes of at least `min_slope`. Zero
    weights (the initial state) give equal bins and unit slopes: the
    identity.

    Args:
        num_bins: int. Bins per feature, >= 2.
        bound: float. The spline acts on `[-bound, bound]`.
        min_bin_size: float. Smallest bin width and height.
        min_slope: float. Smallest knot slope, in `(0, 1)`.

    References:
        1. Durkan et al. Neural Spline Flows. 2019. arXiv:1906.04032.
    """

    def __init__(
        self,
        num_bins=8,
        bound=3.0,
        min_bin_size=1e-3,
        min_slope=1e-3,
        **kwargs,
    ):
        check_spline_arguments(num_bins, bound, min_bin_size, min_slope)
        super().__init__(min_event_ndims=0, **kwargs)
        self.num_bins = num_bins
        self.bound = bound
        self.min_bin_size = min_bin_size
        self.min_slope = min_slope

    def build(self, input_shape):
        features = input_shape[-1]
        self.raw_bin_widths = self.add_weight(
            shape=(features, self.num_bins),
            initializer="zeros",
            name="raw_bin_widths",
        )
        self.raw_bin_heights = self.add_weight(
            shape=(features, self.num_bins),
            initializer="zeros",
            name="raw_bin_heights",
        )
        self.raw_knot_slopes = self.add_weight(
            shape=(features, self.num_bins - 1),
            initializer="zeros",
            name="raw_knot_slopes",
        )
        self.built = True

    def spline_parameters(self):
        """`(bin_widths, bin_heights, knot_slopes)`, TFP's arguments, each
        with the features on the first axis."""
        return spline_parameters(
            self.raw_bin_widths,
            self.raw_bin_heights,
            self.raw_knot_slopes,
            self.bound,
            self.min_bin_size,
            self.min_slope,
        )

    def _forward_and_log_det(self, x):
        return rational_quadratic_spline(
            x, *self.spline_parameters(), range_min=-self.bound
        )

    def _inverse_and_log_det(self, y):
        return rational_quadratic_spline(
            y, *self.spline_parameters(), range_min=-self.bound, inverse=True
        )


def check_spline_arguments(num_bins, bound, min_bin_size, min_slope):
    num_bins = validate_int(num_bins, "num_bins", minimum=2)
    bound = validate_float(bound, "bound", minimum=0.0, exclusive_minimum=True)
    # Bins of the smallest size must still fit in the 2 * bound interval.
    validate_float(
        min_bin_size,
        "min_bin_size",
        minimum=0.0,
        maximum=2 * bound / num_bins,
        exclusive_minimum=True,
        exclusive_maximum=True,
    )
    validate_float(
        min_slope,
        "min_slope",
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
        exclusive_maximum=True,
    )


def spline_parameters(
    raw_widths, raw_heights, raw_slopes, bound, min_bin_size, min_slope
):
    """Unconstrained values to `(bin_widths, bin_heights, knot_slopes)`.

    Widths and heights are softmaxes scaled to fill `2 * bound` with at
    least `min_bin_size` each; slopes are softplus plus `min_slope`,
    shifted so that a raw 0 gives slope 1 (with equal bins, the identity).
    """
    num_bins = raw_widths.shape[-1]
    free_size = 2.0 * bound - num_bins * min_bin_size
    widths = min_bin_size + free_size * ops.softmax(raw_widths, axis=-1)
    heights = min_bin_size + free_size * ops.softmax(raw_heights, axis=-1)
    # softplus(offset) = 1 - min_slope.
    offset = math.log(math.expm1(1.0 - min_slope))
    slopes = min_slope + ops.softplus(raw_slopes + offset)
    return widths, heights, slopes


def rational_quadratic_spline(
    inputs, bin_widths, bin_heights, knot_slopes, range_min, inverse=False
):
    """Elementwise rational-quadratic spline and its log-derivative.

    TFP's parameterisation: `bin_widths` and `bin_heights` `(..., K)`
    positive, `knot_slopes` `(..., K - 1)` positive at the interior knots,
    all broadcasting against `inputs[..., None]`; the spline spans
    `[range_min, range_min + sum(bin_widths)]` and is the identity
    outside.

    Notation (Durkan et al. 2019, section 3.1 and appendix A):
        x_k, y_k     knots;  w_k, h_k  bin width and height
        s_k          h_k / w_k;  d_k  slope at knot k
        xi           (x - x_k) / w_k, the position inside bin k
        curvature    d_{k+1} + d_k - 2 s_k

    Returns:
        `(outputs, log_det)`: the map (`inverse=True`: its inverse) and
        `log |d outputs / d inputs|`, both shaped like `inputs`.
    """
    # 1. Knots and slopes, with unit slopes at both ends so the spline
    #    joins the identity tails smoothly.
    zeros = ops.zeros_like(bin_widths[..., :1])
    x_knots = range_min + ops.concatenate(
        [zeros, ops.cumsum(bin_widths, axis=-1)], axis=-1
    )
    y_knots = range_min + ops.concatenate(
        [zeros, ops.cumsum(bin_heights, axis=-1)], axis=-1
    )
    ones = ops.ones_like(zeros)
    slopes = ops.concatenate([ones, knot_slopes, ones], axis=-1)
    num_bins = bin_widths.shape[-1]

    # 2. Find each input's bin; inputs outside the range are computed at
    #    the clipped value (finite gradients) and replaced at the end.
    knots = y_knots if inverse else x_knots
    low, high = knots[..., 0], knots[..., -1]
    inside = ops.logical_and(inputs >= low, inputs <= high)
    clipped = ops.minimum(ops.maximum(inputs, low), high)
    interior = knots[..., 1:-1]
    bin_index = ops.sum(
        ops.cast(clipped[..., None] >= interior, "int32"), axis=-1
    )
    # One-hot sums rather than a gather: they broadcast the parameters
    # against the inputs on every backend.
    this_bin = ops.one_hot(bin_index, num_bins + 1, dtype=inputs.dtype)
    next_bin = ops.one_hot(bin_index + 1, num_bins + 1, dtype=inputs.dtype)

    def at(values, selector):
        return ops.sum(values * selector, axis=-1)

    widths = ops.concatenate([bin_widths, ones], axis=-1)
    heights = ops.concatenate([bin_heights, ones], axis=-1)
    x_k, y_k = at(x_knots, this_bin), at(y_knots, this_bin)
    w_k, h_k = at(widths, this_bin), at(heights, this_bin)
    d_k, d_next = at(slopes, this_bin), at(slopes, next_bin)
    s_k = h_k / w_k
    curvature = d_next + d_k - 2.0 * s_k

    # 3. The position `xi` in the bin: directly, or (inverse) as the
    #    root of the quadratic a xi^2 + b xi + c = 0 of appendix A, in
    #    the form that is stable when a is near 0.
    if inverse:
        rise = clipped - y_k
        a = h_k * (s_k - d_k) + rise * curvature
        b = h_k * d_k - rise * curvature
        c = -s_k * rise
        discriminant = ops.maximum(b * b - 4.0 * a * c, 0.0)
        xi = 2.0 * c / (-b - ops.sqrt(discriminant))
        outputs = x_k + xi * w_k
    else:
        xi = (clipped - x_k) / w_k
    xi_one_minus = xi * (1.0 - xi)
    denominator = s_k + curvature * xi_one_minus
    if not inverse:
        outputs = y_k + h_k * (s_k * xi**2 + d_k * xi_one_minus) / denominator

    # 4. The derivative, and the identity outside the range.
    derivative = (
        s_k**2
        * (d_next * xi**2 + 2.0 * s_k * xi_one_minus + d_k * (1.0 - xi) ** 2)
        / denominator**2
    )
    log_det = ops.log(derivative)
    if inverse:
        log_det = -log_det
    outputs = ops.where(inside, outputs, inputs)
    log_det = ops.where(inside, log_det, ops.zeros_like(log_det))
    return outputs, log_det
