import numpy as np
import pytest

import kgen


def test_each_pass_draws_new_binary_images(digits):
    images = digits[0]
    batches = kgen.datasets.DynamicBinarization(images, 32, seed=0)
    assert len(batches) == len(images) // 32
    first, again = batches[0], batches[0]
    assert first.shape == (32,) + images.shape[1:] and first.dtype == "float32"
    assert set(np.unique(first)) <= {0.0, 1.0}
    assert not np.array_equal(first, again)  # a fresh draw every time
    # Each pixel is on with its grey level as the probability.
    draws = np.stack([batches[0] for _ in range(400)])
    assert np.abs(draws.mean(0) - images[:32]).max() < 0.1
    same = kgen.datasets.DynamicBinarization(images, 32, seed=0)
    assert np.array_equal(same[0], first)
    as_levels = kgen.datasets.DynamicBinarization(images, 32, dtype="int32")
    assert as_levels[0].dtype == "int32"


def test_a_fixed_draw_is_reproducible(digits):
    images = digits[0]
    binary = kgen.datasets.binarize(images, seed=123)
    assert binary.shape == images.shape and binary.dtype == "float32"
    assert np.array_equal(binary, kgen.datasets.binarize(images, seed=123))
    # The recipes' test sets: a prefix of one draw over the whole split.
    rng = np.random.default_rng(123)
    expected = (rng.uniform(size=images.shape) < images).astype("float32")
    assert np.array_equal(binary[:10], expected[:10])


def test_bad_arguments_are_named(digits):
    images = digits[0]
    with pytest.raises(ValueError, match="`images` values must lie in"):
        kgen.datasets.DynamicBinarization(images * 2, 32)
    with pytest.raises(ValueError, match="fewer than one batch"):
        kgen.datasets.DynamicBinarization(images[:4], 32)
    with pytest.raises(ValueError, match="`batch_size`"):
        kgen.datasets.DynamicBinarization(images, 0)
    with pytest.raises(ValueError, match="`seed`"):
        kgen.datasets.binarize(images, seed=1.5)
