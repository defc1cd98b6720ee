import numpy as np
import pytest

import kgen
from kgen.datasets import mnist
from kgen.datasets import moving_mnist

requires_mnist = pytest.mark.skipif(
    mnist.find_local_file() is None, reason="no mnist.npz in KGEN_DATA_DIR"
)


def digits(count=5):
    """Distinct 28x28 "digits": a bright block at a different place in
    each, so that a clip's frames show which digit is where."""
    images = np.zeros((count, 28, 28), "uint8")
    for index in range(count):
        images[index, 2 * index : 2 * index + 10, 4:20] = 50 * (index + 1)
    return images


def render(images, indices, positions):
    """Each frame from the corners, independently of the module."""
    clips = np.zeros(positions.shape[:2] + (64, 64), "uint8")
    for clip, frame, digit in np.ndindex(positions.shape[:3]):
        row, column = positions[clip, frame, digit]
        window = clips[clip, frame, row : row + 28, column : column + 28]
        window[...] = np.maximum(window, images[indices[clip, digit]])
    return clips


def test_digits_move_in_straight_lines_and_bounce_inside_the_canvas():
    images = digits()
    clips, indices, positions = kgen.datasets.moving_mnist_clips(
        images, 6, num_frames=200
    )
    assert clips.shape == (6, 200, 64, 64) and clips.dtype == np.uint8
    assert indices.shape == (6, 2) and positions.shape == (6, 200, 2, 2)
    np.testing.assert_array_equal(clips, render(images, indices, positions))
    assert positions.min() == 0 and positions.max() == 36  # the walls
    # 3.6 pixels a frame between frames away from the walls (a corner 4
    # pixels in cannot reach one in a step), up to the rounding of both.
    steps = np.diff(positions, axis=1)
    away = ((positions > 4) & (positions < 32)).all(-1)
    away = away[:, 1:] & away[:, :-1]
    speeds = np.linalg.norm(steps, axis=-1)[away]
    assert np.all(np.abs(speeds - moving_mnist.SPEED) <= np.sqrt(2))
    inside = (positions[:, 1:-1] > 4) & (positions[:, 1:-1] < 32)
    turns = np.abs(steps[:, 1:] - steps[:, :-1])
    assert turns[inside].max() <= 1  # rounding only
    # Every wall turns some digit round: a coordinate's step changes sign.
    assert (np.sign(steps[:, 1:]) * np.sign(steps[:, :-1]) < 0).any()


def test_a_clip_depends_on_its_split_seed_and_index_alone():
    images = digits()
    first, first_indices, _ = kgen.datasets.moving_mnist_clips(images, 3)
    more, more_indices, _ = kgen.datasets.moving_mnist_clips(images, 7)
    np.testing.assert_array_equal(more[:3], first)
    np.testing.assert_array_equal(more_indices[:3], first_indices)
    other, _, _ = kgen.datasets.moving_mnist_clips(images, 3, split_seed=1)
    assert not np.array_equal(other, first)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match=r"`images` must be MNIST digits"):
        kgen.datasets.moving_mnist_clips(np.zeros((3, 8, 8)), 2)
    with pytest.raises(ValueError, match="`num_clips` must be an int"):
        kgen.datasets.moving_mnist_clips(digits(), 0)
    with pytest.raises(ValueError, match="`num_clips` must be an int"):
        kgen.datasets.moving_mnist_clips(digits(), moving_mnist.MAX_CLIPS + 1)
    with pytest.raises(ValueError, match="`num_frames` must be an int"):
        kgen.datasets.moving_mnist_clips(digits(), 2, num_frames=2.0)
    with pytest.raises(ValueError, match="`image_size` must be one of"):
        kgen.datasets.load_moving_mnist(2, 2, image_size=28)
    with pytest.raises(ValueError, match="`num_test` must be an int"):
        kgen.datasets.load_moving_mnist(2, -1)
    with pytest.raises(ValueError, match="`alpha` is the emoji"):
        kgen.datasets.load("moving_mnist", alpha=True)


@requires_mnist
def test_clips_are_mnist_digits_with_their_classes_and_a_fixed_test_set():
    (x_train, y_train), (x_test, y_test) = kgen.datasets.load_moving_mnist(
        4, 3, num_frames=8, value_range=(-1.0, 1.0)
    )
    assert x_train.shape == (4, 8, 64, 64, 1) and x_test.shape[0] == 3
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == -1.0 and x_train.max() == 1.0
    (train_images, train_labels), (test_images, test_labels) = (
        mnist.load_mnist()
    )
    clips, indices, _ = kgen.datasets.moving_mnist_clips(
        test_images, 3, split_seed=1, num_frames=8
    )
    np.testing.assert_allclose(x_test[..., 0], clips / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(y_test, test_labels[indices])
    _, (more_test, _) = kgen.datasets.load_moving_mnist(1, 5, num_frames=8)
    np.testing.assert_allclose(more_test[:3], (x_test + 1.0) / 2.0, atol=1e-6)
    # Half size: the same clips averaged over 2x2 pixels.
    (small, small_labels), _ = kgen.datasets.load("moving_mnist", image_size=32)
    assert small.shape == (1000, 20, 32, 32, 1)
    (large, _), _ = kgen.datasets.load_moving_mnist(2, 1)
    np.testing.assert_allclose(
        small[:2],
        large.reshape(2, 20, 32, 2, 32, 2, 1).mean(axis=(3, 5)),
        atol=1e-6,
    )
    assert small_labels.shape == (1000, 2)
    assert set(np.unique(small_labels)) == set(range(10))
