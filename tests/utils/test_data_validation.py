import keras
import numpy as np
import pytest

from kgen.utils.data_validation import check_real_dtype
from kgen.utils.data_validation import validate_input

SHAPE = (4, 4, 1)


def images(count=2):
    return np.random.default_rng(0).uniform(size=(count,) + SHAPE)


@pytest.mark.parametrize(
    "bad, message",
    [
        (images()[:, None], "must have rank 4"),
        (np.concatenate([images()] * 2, axis=-1), "must have shape"),
        (images().astype(str), "real numbers"),
        (np.where(np.eye(4)[None, :, :, None] > 0, np.nan, images()), "NaN"),
        (images() + 1.0, r"must lie in \[0, 1\]"),
        ([[1, 2], [3]], "could not be converted"),
    ],
)
def test_host_data_gets_every_check(bad, message):
    with pytest.raises(ValueError, match=rf"`x`.*{message}|{message}.*`x`"):
        validate_input(bad, SHAPE, "x", (0, 1))


def test_host_lists_come_back_as_numpy():
    checked = validate_input(images().tolist(), SHAPE, "x", (0, 1))
    assert isinstance(checked, np.ndarray)
    np.testing.assert_array_equal(checked, images())


def test_symbolic_tensors_are_checked_by_dtype_and_shape():
    # A method traced inside a step or an export sees symbolic tensors:
    # their values cannot be read, their dtype and shape can.
    symbolic = keras.KerasTensor((None,) + SHAPE, "float32")
    assert validate_input(symbolic, SHAPE, "x") is symbolic
    with pytest.raises(ValueError, match="`x` must have rank 4"):
        validate_input(keras.KerasTensor((None, 4, 4)), SHAPE, "x")
    with pytest.raises(ValueError, match="`x` must hold real numbers"):
        validate_input(keras.KerasTensor((None,) + SHAPE, "bool"), SHAPE, "x")


def test_backend_tensors_keep_their_values_on_the_device():
    tensor = keras.ops.convert_to_tensor(images(), "float32")
    assert validate_input(tensor, SHAPE, "x", (0, 1)) is tensor


def test_objects_without_a_shape_are_refused():
    with pytest.raises(ValueError, match="`x` must be an array or tensor"):
        validate_input("images.png", SHAPE, "x")


@pytest.mark.parametrize("dtype", ["bool", "complex64", "<U3", "object"])
def test_only_integer_and_float_dtypes_are_real(dtype):
    with pytest.raises(ValueError, match="`codes` must hold real numbers"):
        check_real_dtype(np.dtype(dtype), "codes")
    check_real_dtype(np.dtype("uint8"), "codes")
    check_real_dtype("bfloat16", "codes")
