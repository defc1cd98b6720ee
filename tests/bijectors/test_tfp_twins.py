"""kgen bijectors against their TFP twins (TensorFlow backend, 1e-5)."""

import numpy as np
import pytest

from kgen import bijectors
from tests.bijectors.test_bijectors import _randomize
from tests.conftest import BACKEND
from tests.conftest import to_numpy

pytestmark = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="TFP is the reference on TensorFlow"
)
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def tfb():
    tfp = pytest.importorskip("tensorflow_probability")
    return tfp.bijectors


def _data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _assert_same(kgen_bijector, tfp_bijector, x, event_ndims):
    y = to_numpy(kgen_bijector.forward(x))
    np.testing.assert_allclose(
        y, tfp_bijector.forward(x).numpy(), atol=TOLERANCE
    )
    np.testing.assert_allclose(
        to_numpy(kgen_bijector.forward_log_det_jacobian(x, event_ndims)),
        tfp_bijector.forward_log_det_jacobian(x, event_ndims).numpy(),
        atol=TOLERANCE,
    )
    np.testing.assert_allclose(
        to_numpy(kgen_bijector.inverse(y)),
        tfp_bijector.inverse(y).numpy(),
        atol=TOLERANCE,
    )
    np.testing.assert_allclose(
        to_numpy(kgen_bijector.inverse_log_det_jacobian(y, event_ndims)),
        tfp_bijector.inverse_log_det_jacobian(y, event_ndims).numpy(),
        atol=TOLERANCE,
    )


def test_permute(tfb):
    permutation = [2, 0, 3, 1]
    _assert_same(
        bijectors.Permute(permutation),
        tfb.Permute(permutation),
        _data((5, 4)),
        1,
    )


def test_affine_coupling_is_tfp_real_nvp(tfb):
    coupling = bijectors.AffineCoupling("half", hidden_dim=8)
    coupling.build((5, 6))
    _randomize(coupling)

    def shift_and_log_scale_fn(kept, output_units):
        # TFP passes the kept half; kgen's conditioner sees it zero-padded.
        padded = np.concatenate(
            [kept.numpy(), np.zeros((kept.shape[0], output_units), "f")], 1
        )
        shift, log_scale = coupling.shift_and_log_scale(padded)
        return shift[:, 3:], log_scale[:, 3:]

    twin = tfb.RealNVP(
        num_masked=3, shift_and_log_scale_fn=shift_and_log_scale_fn
    )
    _assert_same(coupling, twin, _data((5, 6)), 1)


def test_rational_quadratic_spline_is_tfp_spline(tfb):
    spline = bijectors.RationalQuadraticSpline(num_bins=6, bound=2.0)
    spline.build((7, 3))
    _randomize(spline)
    widths, heights, slopes = (to_numpy(p) for p in spline.spline_parameters())
    twin = tfb.RationalQuadraticSpline(widths, heights, slopes, range_min=-2.0)
    # Both sides of the range and the bins inside it.
    x = _data((7, 3)) * 1.5
    _assert_same(spline, twin, x, 1)


def test_spline_coupling_is_tfp_real_nvp_with_splines(tfb):
    coupling = bijectors.SplineCoupling(
        "half", num_bins=5, bound=2.5, hidden_dim=8
    )
    coupling.build((6, 4))
    _randomize(coupling)

    def bijector_fn(kept, output_units):
        padded = np.concatenate(
            [kept.numpy(), np.zeros((kept.shape[0], output_units), "f")], 1
        )
        widths, heights, slopes = (
            to_numpy(p)[:, 2:] for p in coupling.spline_parameters(padded)
        )
        return tfb.RationalQuadraticSpline(
            widths, heights, slopes, range_min=-2.5
        )

    twin = tfb.RealNVP(num_masked=2, bijector_fn=bijector_fn)
    _assert_same(coupling, twin, _data((6, 4)) * 1.5, 1)


def test_masked_autoregressive_is_tfp_maf(tfb):
    made = bijectors.MaskedAutoregressive((16, 16))
    made.build((5, 4))
    _randomize(made)
    twin = tfb.MaskedAutoregressiveFlow(
        shift_and_log_scale_fn=made.shift_and_log_scale
    )
    _assert_same(made, twin, _data((5, 4)), 1)


def test_act_norm_is_tfp_scale_then_shift(tfb):
    act_norm = bijectors.ActNorm(event_ndims=3)
    act_norm.build((2, 3, 3, 4))
    _randomize(act_norm)
    bias, log_scale = (to_numpy(w) for w in (act_norm.bias, act_norm.log_scale))
    twin = tfb.Chain([tfb.Shift(bias), tfb.Scale(np.exp(log_scale))])
    _assert_same(act_norm, twin, _data((2, 3, 3, 4)), 3)


def _tfp_batch_normalization(tfb, kgen_bijector, shape, training):
    import tf_keras

    # Unfused: the fused kernel (4-D inputs) moves the variance average by
    # the unbiased batch variance; Keras 3 and kgen use the biased one.
    layer = tf_keras.layers.BatchNormalization(
        momentum=0.9, epsilon=1e-3, fused=False
    )
    layer.build(shape)
    layer.set_weights(
        [
            np.exp(to_numpy(kgen_bijector.log_scale)),
            to_numpy(kgen_bijector.bias),
            to_numpy(kgen_bijector.moving_mean),
            to_numpy(kgen_bijector.moving_variance),
        ]
    )
    return tfb.BatchNormalization(layer, training=training), layer


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 3, 4)])
def test_batch_normalization_is_tfp_batch_normalization(tfb, shape):
    from tests.bijectors.test_bijectors import _randomize_moving_statistics

    kgen_bijector = bijectors.BatchNormalization(momentum=0.9)
    kgen_bijector.build(shape)
    _randomize(kgen_bijector)
    _randomize_moving_statistics(kgen_bijector)
    event_ndims = len(shape) - 1
    # Inference: both use the moving averages in both directions.
    twin, _ = _tfp_batch_normalization(tfb, kgen_bijector, shape, False)
    _assert_same(kgen_bijector, twin, _data(shape), event_ndims)
    # Training: `inverse` normalises by the batch and moves the averages.
    twin, layer = _tfp_batch_normalization(tfb, kgen_bijector, shape, True)
    y = _data(shape, seed=1) * 2.0 + 1.0
    expected_ildj = twin.inverse_log_det_jacobian(y, event_ndims).numpy()
    expected = twin.inverse(y).numpy()
    x, ildj = kgen_bijector.inverse_and_log_det(y, event_ndims, training=True)
    np.testing.assert_allclose(to_numpy(x), expected, atol=TOLERANCE)
    np.testing.assert_allclose(to_numpy(ildj), expected_ildj, atol=TOLERANCE)
    np.testing.assert_allclose(
        to_numpy(kgen_bijector.moving_mean),
        layer.moving_mean.numpy(),
        atol=TOLERANCE,
    )
    np.testing.assert_allclose(
        to_numpy(kgen_bijector.moving_variance),
        layer.moving_variance.numpy(),
        atol=TOLERANCE,
    )


def test_invertible_conv1x1_is_a_per_pixel_matvec(tfb):
    import tensorflow as tf

    conv = bijectors.InvertibleConv1x1(seed=3)
    conv.build((2, 3, 3, 4))
    _randomize(conv, seed=4)
    matrix = to_numpy(conv.weight_matrix())
    twin = tfb.ScaleMatvecLinearOperator(
        tf.linalg.LinearOperatorFullMatrix(matrix)
    )
    _assert_same(conv, twin, _data((2, 3, 3, 4)), 3)


@pytest.mark.parametrize("name", ["coupling_half", "maf", "chain"])
def test_to_tfp_adapter_inside_a_transformed_distribution(name):
    import tensorflow_probability as tfp

    from tests.bijectors.test_bijectors import _built

    bijector, x = _built(name)
    base = tfp.distributions.MultivariateNormalDiag(loc=np.zeros(4, "f"))
    transformed = tfp.distributions.TransformedDistribution(
        base, bijector.to_tfp()
    )
    z, log_det = bijector.inverse_and_log_det(x)
    expected = base.log_prob(to_numpy(z)).numpy() + to_numpy(log_det)
    np.testing.assert_allclose(
        transformed.log_prob(x).numpy(), expected, atol=TOLERANCE
    )
