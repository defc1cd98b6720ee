import numpy as np
import pytest

import kgen
from kgen.datasets import mnist
from kgen.metrics import video


def test_frame_change_measures_motion_against_the_data():
    clips = np.zeros((2, 3, 8, 8, 1), "float32")
    clips[:, 1] = 1.0  # frames 0 -> 1 -> 2: all pixels change twice
    assert video.frame_change(clips) == 1.0
    assert video.frame_change(2 * clips - 1, value_range=(-1, 1)) == 1.0
    assert video.frame_change(clips[:, :1].repeat(3, 1)) == 0.0
    half = clips.copy()
    half[:, 1, :4] = 0.0
    assert video.motion_ratio(half, clips) == 0.5
    with pytest.raises(ValueError, match="`reference_clips` do not move"):
        video.motion_ratio(clips, clips[:, :1].repeat(3, 1))
    with pytest.raises(ValueError, match=r"`clips` must be greyscale video"):
        video.frame_change(np.zeros((2, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"`clips` must be greyscale video"):
        video.frame_change(np.zeros((2, 1, 8, 8, 1)))


def test_each_crop_holds_one_digit():
    frames = np.zeros((1, 2, 64, 64, 1), "float32")
    frames[0, 0, 5:25, 8:20] = 1.0  # apart
    frames[0, 0, 40:60, 40:52] = 0.5
    frames[0, 1, 20:40, 2:14] = 1.0  # side by side, along a row
    frames[0, 1, 20:40, 44:56] = 1.0
    crops = video.digit_crops(frames)
    assert crops.shape == (1, 2, 2, 28, 28, 1)
    # Each window takes one block whole, and none of the other.
    masses = crops.sum(axis=(3, 4, 5))
    np.testing.assert_allclose(
        np.sort(masses[0, 0]), [0.5 * 240, 240], rtol=1e-5
    )
    np.testing.assert_allclose(masses[0, 1], [240, 240], rtol=1e-5)
    with pytest.raises(ValueError, match="`clips` must be square"):
        video.digit_crops(np.zeros((1, 2, 64, 32, 1)))


@pytest.mark.skipif(
    mnist.find_local_file() is None, reason="no mnist.npz in KGEN_DATA_DIR"
)
def test_real_clips_keep_their_digits_and_shuffled_ones_do_not():
    _, (clips, labels) = kgen.datasets.load_moving_mnist(1, 40)
    classifier = kgen.presets.load_preset("mnist_classifier")
    kept, classes = video.digit_identity(clips, classifier)
    # 87.5% on 200 test clips (kgen/metrics/video.py).
    assert kept >= 0.75
    assert np.mean((classes == np.sort(labels, -1)).all(-1)) >= 0.85
    shuffled = clips.copy()
    rng = np.random.default_rng(0)
    for frame in range(clips.shape[1]):
        shuffled[:, frame] = clips[rng.permutation(len(clips)), frame]
    assert video.digit_identity(shuffled, classifier)[0] <= 0.1
    with pytest.raises(ValueError, match="`min_agreeing_frames` must be"):
        video.digit_identity(clips, classifier, min_agreeing_frames=0.0)
