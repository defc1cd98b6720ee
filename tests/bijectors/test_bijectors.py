"""Every bijector: inverse(forward(x)) == x, ildj == -fldj, and the
log-determinant equals a brute-force autodiff Jacobian determinant."""

import keras
import numpy as np
import pytest
from keras import ops

from kgen import backend
from kgen import bijectors
from tests.conftest import to_numpy


def _randomize(bijector, seed=0):
    """Non-trivial weights (zero-initialised heads would be identities)."""
    rng = np.random.default_rng(seed)
    for variable in bijector.trainable_weights:
        values = rng.normal(0, 0.3, size=variable.shape)
        variable.assign(values.astype("float32"))


def _randomize_moving_statistics(batch_normalization, seed=0):
    rng = np.random.default_rng(seed)
    channels = batch_normalization.moving_mean.shape
    batch_normalization.moving_mean.assign(
        rng.normal(0, 1, channels).astype("float32")
    )
    batch_normalization.moving_variance.assign(
        rng.uniform(0.5, 2.0, channels).astype("float32")
    )


def _vector_coupling():
    return bijectors.AffineCoupling("half", hidden_dim=8)


def _cases():
    return {
        "coupling_half": (_vector_coupling, (3, 4)),
        "coupling_half_reverse": (
            lambda: bijectors.AffineCoupling(
                "half", reverse=True, hidden_dim=8
            ),
            (3, 4),
        ),
        "coupling_checkerboard": (
            lambda: bijectors.AffineCoupling("checkerboard", hidden_dim=4),
            (2, 4, 4, 1),
        ),
        "coupling_channel": (
            lambda: bijectors.AffineCoupling("channel", hidden_dim=4),
            (2, 2, 2, 2),
        ),
        "spline_coupling_half": (
            lambda: bijectors.SplineCoupling(
                "half", num_bins=4, bound=2.0, hidden_dim=8
            ),
            (3, 4),
        ),
        # One conditioner layer: random weights through two conv layers
        # make bins so flat (slope ~0.002) that any float32 inverse, TFP's
        # too, loses digits (error ~ ulp(y) / slope), whatever the code.
        "spline_coupling_checkerboard": (
            lambda: bijectors.SplineCoupling(
                "checkerboard",
                reverse=True,
                num_bins=3,
                hidden_dim=4,
                num_layers=1,
            ),
            (2, 4, 4, 1),
        ),
        "rational_quadratic_spline": (
            lambda: bijectors.RationalQuadraticSpline(num_bins=5, bound=1.5),
            (3, 4),
        ),
        "act_norm": (lambda: bijectors.ActNorm(event_ndims=3), (2, 2, 2, 3)),
        "batch_normalization": (bijectors.BatchNormalization, (3, 4)),
        "batch_normalization_images": (
            bijectors.BatchNormalization,
            (2, 2, 2, 3),
        ),
        "invertible_conv1x1": (
            lambda: bijectors.InvertibleConv1x1(seed=1),
            (2, 2, 2, 3),
        ),
        "permute": (lambda: bijectors.Permute([2, 0, 3, 1]), (3, 4)),
        "squeeze": (lambda: bijectors.Squeeze(), (2, 4, 4, 1)),
        "maf": (lambda: bijectors.MaskedAutoregressive((8, 8)), (3, 4)),
        "iaf": (
            lambda: bijectors.Invert(bijectors.MaskedAutoregressive((8,))),
            (3, 3),
        ),
        # Inverted so that `forward` takes images (MultiScale's own forward
        # takes the flat latent).
        "multi_scale": (
            lambda: bijectors.Invert(
                bijectors.MultiScale(
                    [
                        bijectors.Chain(
                            [
                                bijectors.ActNorm(event_ndims=3),
                                bijectors.InvertibleConv1x1(seed=2),
                                bijectors.AffineCoupling(
                                    "channel", hidden_dim=4
                                ),
                            ]
                        ),
                        bijectors.AffineCoupling("channel", hidden_dim=4),
                    ]
                )
            ),
            (2, 4, 4, 1),
        ),
        "chain": (
            lambda: bijectors.Chain(
                [
                    _vector_coupling(),
                    bijectors.Permute([3, 2, 1, 0]),
                    bijectors.MaskedAutoregressive((8,)),
                ]
            ),
            (3, 4),
        ),
    }


CASES = _cases()


def _built(name):
    make, shape = CASES[name]
    bijector = make()
    bijector.build(shape)
    _randomize(bijector)
    if isinstance(bijector, bijectors.BatchNormalization):
        _randomize_moving_statistics(bijector)
    x = np.random.default_rng(1).normal(size=shape).astype("float32")
    return bijector, x


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_and_log_det_symmetry(name):
    bijector, x = _built(name)
    event_ndims = len(x.shape) - 1
    y, fldj = bijector.forward_and_log_det(x, event_ndims)
    back, ildj = bijector.inverse_and_log_det(y, event_ndims)
    np.testing.assert_allclose(to_numpy(back), x, atol=1e-5)
    np.testing.assert_allclose(to_numpy(ildj), -to_numpy(fldj), atol=1e-5)
    assert to_numpy(fldj).shape == (x.shape[0],)


# The log-determinant formulas are `keras.ops` arithmetic, the same on
# every backend; the symmetry test above runs them on JAX and torch, and
# this one (90 s of JAX compiles per Jacobian column) proves them here.
@pytest.mark.tensorflow_only
@pytest.mark.parametrize("name", sorted(CASES))
def test_log_det_equals_brute_force_jacobian(name):
    bijector, x = _built(name)
    batch = x.shape[0]
    flat = x.reshape(batch, -1)
    size = flat.shape[1]

    def output(i):
        def fn(values):
            y = bijector.forward(ops.reshape(values, x.shape))
            return ops.reshape(y, (batch, -1))[:, i]

        return fn

    # Examples are independent, so d sum_b y_b[i] / dx_b is row i of J_b.
    rows = [
        to_numpy(backend.grad(output(i), ops.convert_to_tensor(flat)))
        for i in range(size)
    ]
    jacobians = np.stack(rows, axis=1)
    _, expected = np.linalg.slogdet(jacobians.astype("float64"))
    log_det = bijector.forward_log_det_jacobian(x, len(x.shape) - 1)
    np.testing.assert_allclose(to_numpy(log_det), expected, atol=1e-4)


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_round_trip_rebuilds_the_same_map(name):
    bijector, x = _built(name)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(bijector)
    )
    if not restored.built:
        restored.build(x.shape)
    restored.set_weights(bijector.get_weights())
    np.testing.assert_allclose(
        to_numpy(restored.forward(x)), to_numpy(bijector.forward(x)), atol=1e-6
    )


def test_maf_outputs_depend_only_on_earlier_inputs():
    bijector, x = _built("maf")
    shift, log_scale = bijector.shift_and_log_scale(x)
    for i in range(x.shape[1]):
        changed = x.copy()
        changed[:, i:] += 1.0
        new_shift, new_log_scale = bijector.shift_and_log_scale(changed)
        np.testing.assert_allclose(
            to_numpy(new_shift)[:, : i + 1], to_numpy(shift)[:, : i + 1]
        )
        np.testing.assert_allclose(
            to_numpy(new_log_scale)[:, : i + 1],
            to_numpy(log_scale)[:, : i + 1],
        )


def test_act_norm_data_dependent_init_standardises():
    bijector = bijectors.ActNorm(event_ndims=3)
    data = np.random.default_rng(2).normal(3.0, 2.0, (64, 4, 4, 3))
    bijector.initialize(data.astype("float32"))
    z = to_numpy(bijector.inverse(data.astype("float32")))
    np.testing.assert_allclose(z.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=(0, 1, 2)), 1.0, atol=1e-3)


def test_batch_normalization_uses_batch_statistics_in_training():
    bijector = bijectors.BatchNormalization(momentum=0.9)
    data = np.random.default_rng(3).normal(3.0, 2.0, (256, 3))
    data = data.astype("float32")
    z, log_det = bijector.inverse_and_log_det(data, training=True)
    z = to_numpy(z)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(0), 1.0, atol=1e-3)
    variance = data.var(0)
    np.testing.assert_allclose(
        to_numpy(log_det), -0.5 * np.log(variance + 1e-3).sum(), rtol=1e-5
    )
    # The moving averages moved 10% of the way; inference uses them.
    np.testing.assert_allclose(
        to_numpy(bijector.moving_mean), 0.1 * data.mean(0), rtol=1e-4
    )
    np.testing.assert_allclose(
        to_numpy(bijector.moving_variance), 0.9 + 0.1 * variance, rtol=1e-4
    )
    inference = to_numpy(bijector.inverse(data))
    expected = (data - 0.1 * data.mean(0)) / np.sqrt(
        0.9 + 0.1 * variance + 1e-3
    )
    np.testing.assert_allclose(inference, expected, rtol=1e-4, atol=1e-5)


def test_batch_normalization_initialises_its_moving_statistics():
    bijector = bijectors.BatchNormalization()
    data = np.random.default_rng(4).normal(-1.0, 3.0, (512, 2, 2, 3))
    z = to_numpy(bijector.initialize_from_data(data.astype("float32")))
    np.testing.assert_allclose(z.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=(0, 1, 2)), 1.0, atol=1e-3)


@pytest.mark.parametrize(
    "make, shape, match",
    [
        (lambda: bijectors.AffineCoupling("half"), (2, 3), "even number"),
        (lambda: bijectors.AffineCoupling("channel"), (2, 4, 4, 3), "even"),
        (lambda: bijectors.AffineCoupling("stripes"), (2, 4), "mask"),
        (lambda: bijectors.Permute([0, 0, 1]), (2, 3), "permutation"),
        (lambda: bijectors.Permute([1, 0]), (2, 3), "Permute of 2"),
        (lambda: bijectors.Squeeze(), (2, 3, 4, 1), "even height"),
        (lambda: bijectors.MaskedAutoregressive(), (2, 1), ">= 2"),
        (lambda: bijectors.Chain([]), None, "at least one"),
        (lambda: bijectors.SplineCoupling("half"), (2, 3), "even number"),
        (lambda: bijectors.SplineCoupling("rings"), None, "mask"),
        (lambda: bijectors.SplineCoupling(num_bins=1), None, "num_bins"),
        (lambda: bijectors.SplineCoupling(num_bins=2.5), None, "num_bins"),
        (lambda: bijectors.SplineCoupling(bound=0.0), None, "bound"),
        (
            lambda: bijectors.RationalQuadraticSpline(
                num_bins=4, bound=1.0, min_bin_size=0.5
            ),
            None,
            "min_bin_size",
        ),
        (
            lambda: bijectors.RationalQuadraticSpline(min_slope=1.0),
            None,
            "min_slope",
        ),
        (lambda: bijectors.BatchNormalization(momentum=1.0), None, "momentum"),
        (lambda: bijectors.BatchNormalization(epsilon=0.0), None, "epsilon"),
        (
            lambda: bijectors.MultiScale([bijectors.Squeeze()] * 3),
            (2, 4, 4, 1),
            "fewer levels",
        ),
    ],
)
def test_bad_configurations_raise(make, shape, match):
    with pytest.raises(ValueError, match=match):
        bijector = make()
        bijector.build(shape)


def test_event_ndims_below_the_minimum_raises():
    bijector, x = _built("coupling_half")
    with pytest.raises(ValueError, match="event_ndims"):
        bijector.forward_log_det_jacobian(x, event_ndims=0)
    total = bijector.forward_log_det_jacobian(x[None], event_ndims=2)
    np.testing.assert_allclose(
        to_numpy(total),
        to_numpy(bijector.forward_log_det_jacobian(x)).sum(keepdims=True),
        rtol=1e-5,
    )


def test_to_tfp_explains_the_backend_requirement():
    if keras.backend.backend() == "tensorflow":
        pytest.skip("the adapter works here (tests/bijectors/test_tfp_twins)")
    bijector, _ = _built("permute")
    with pytest.raises(RuntimeError, match="TensorFlow backend"):
        bijector.to_tfp()


@pytest.mark.parametrize(
    "name", ["spline_coupling_half", "rational_quadratic_spline"]
)
def test_splines_start_as_the_identity_and_leave_the_tails_alone(name):
    make, shape = CASES[name]
    bijector = make()
    x = np.random.default_rng(2).normal(size=shape).astype("float32")
    y, log_det = bijector.forward_and_log_det(x, 1)
    np.testing.assert_allclose(to_numpy(y), x, atol=1e-5)
    np.testing.assert_allclose(to_numpy(log_det), 0.0, atol=1e-5)
    # Trained (random) splines: the identity, with zero log-det, beyond
    # the bound (2.0 and 1.5 here), in both directions.
    _randomize(bijector)
    tails = np.array([[-9.0, 7.0, -3.1, 3.1]] * 3, "float32")
    for direction in (
        bijector.forward_and_log_det,
        bijector.inverse_and_log_det,
    ):
        y, log_det = direction(tails, 1)
        np.testing.assert_allclose(to_numpy(y), tails, atol=1e-6)
        np.testing.assert_allclose(to_numpy(log_det), 0.0, atol=1e-6)


def test_spline_is_monotone_and_continuous_across_knots():
    bijector = bijectors.RationalQuadraticSpline(num_bins=6, bound=2.0)
    bijector.build((1, 2))
    _randomize(bijector)
    for variable in bijector.trainable_weights:
        variable.assign(variable * 5.0)  # strongly non-linear
    grid = np.linspace(-3.0, 3.0, 6001, dtype="float32")
    x = np.stack([grid, grid[::-1]], axis=1)
    y, log_det = (to_numpy(v) for v in bijector.forward_and_log_det(x))
    assert (np.diff(y[:, 0]) > 0).all() and (np.diff(y[:, 1]) < 0).all()
    # Continuous: steps between grid points are bounded by the largest
    # slope times the spacing, knots and range ends included.
    largest_step = np.exp(log_det).max() * (grid[1] - grid[0])
    assert np.abs(np.diff(y, axis=0)).max() <= 1.01 * largest_step
    assert np.isfinite(log_det).all()
