"""Watson's DCT distance against a hand-computed value, its masking, and
its gradient where nothing changed."""

import numpy as np
import pytest
from keras import ops

from kgen import backend
from kgen.losses import watson_dct_loss
from kgen.losses.perceptual import WATSON_THRESHOLDS
from kgen.utils.block_dct import dct_matrix
from tests.conftest import to_numpy


def test_one_changed_coefficient_of_a_flat_block_costs_its_threshold():
    # A flat grey 16x16 image: every block at the mean luminance (no
    # luminance masking) and no energy off DC (no contrast masking), so
    # an amplitude `a` added at frequency (1, 2) of one block costs
    # (a / t_12)**2 over the 4 blocks' 256 coefficients.
    reference = np.full((1, 16, 16, 1), 0.5, "float32")
    basis = np.outer(dct_matrix()[1], dct_matrix()[2])  # DCT of e_12
    changed = reference.copy()
    changed[0, 8:, :8, 0] += 3.0 * basis / 255.0
    loss = to_numpy(watson_dct_loss(reference, changed))
    expected = (3.0 / WATSON_THRESHOLDS[1, 2]) ** 2 / 256
    np.testing.assert_allclose(loss, [expected], rtol=1e-4)
    np.testing.assert_allclose(
        to_numpy(watson_dct_loss(reference, changed, power=4.0)),
        [(3.0 / WATSON_THRESHOLDS[1, 2]) ** 4 / 256],
        rtol=1e-4,
    )
    assert to_numpy(watson_dct_loss(reference, reference)) == [0.0]


def test_a_change_on_black_costs_more_than_the_same_on_a_stroke():
    # A bright bar on black, 12x12 (edges padded): the same pixel change
    # is hidden by the bar and shows on the background.
    reference = np.zeros((1, 12, 12, 1), "float32")
    reference[0, 2:10, 4:7] = 0.9
    on_stroke, on_black = reference.copy(), reference.copy()
    on_stroke[0, 5, 5] -= 0.1
    on_black[0, 5, 10] += 0.1
    stroke_cost = to_numpy(watson_dct_loss(reference, on_stroke))[0]
    black_cost = to_numpy(watson_dct_loss(reference, on_black))[0]
    assert black_cost > 20 * stroke_cost > 0
    # The same images in [-1, 1] cost the same.
    np.testing.assert_allclose(
        to_numpy(
            watson_dct_loss(
                reference * 2 - 1, on_black * 2 - 1, value_range=(-1, 1)
            )
        ),
        [black_cost],
        rtol=1e-5,
    )


@pytest.mark.all_backends
def test_gradient_is_finite_where_nothing_changed():
    reference = np.random.default_rng(0).uniform(size=(2, 8, 8, 1))
    reference = ops.convert_to_tensor(reference.astype("float32"))
    gradient = to_numpy(
        backend.grad(
            lambda x: ops.sum(watson_dct_loss(reference, x)), reference
        )
    )
    assert np.isfinite(gradient).all()
    np.testing.assert_array_equal(gradient, 0.0)


def test_bad_arguments_are_named():
    images = np.zeros((1, 8, 8, 1), "float32")
    with pytest.raises(ValueError, match="`reference` and `images`"):
        watson_dct_loss(images, images[:, :4])
    with pytest.raises(ValueError, match="`luminance_floor`"):
        watson_dct_loss(images, images, luminance_floor=0.0)
    with pytest.raises(ValueError, match="`power`"):
        watson_dct_loss(images, images, power=0.5)
    with pytest.raises(ValueError, match="`value_range`"):
        watson_dct_loss(images, images, value_range=(1.0, 0.0))
