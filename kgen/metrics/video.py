"""Clip metrics for Moving MNIST-style video: how much the clips move, and
whether their digits stay the digits they were.

`frame_change` is the mean absolute change between consecutive frames;
`motion_ratio` compares a model's with the data's (a model that draws
still frames scores 0, one that draws noise far above 1).

`digit_identity` follows each digit through a clip: in every frame the
ink is split into `num_digits` clusters (k-means on the pixel coordinates,
weighted by intensity), a digit-sized window around each cluster is
classified (the `mnist_classifier` preset), and the frame's classes form
a sorted tuple. A clip keeps its digits when at least
`min_agreeing_frames` of its frames (half, by default) give the clip's
most common tuple: where digits cross, a window holds parts of both, so
even real clips fall short of every frame. On 200 Moving MNIST test clips
(64 px) 87.5% keep their digits by this rule (42% if 80% of frames must
agree), the most common tuple is the clip's true pair in 95%, and clips
whose frames are shuffled between clips keep none.
"""

import collections

import keras
import numpy as np

from kgen.metrics.class_conditional_scores import predicted_labels
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_probability
from kgen.utils.argument_validation import validate_range

# MNIST digits are 28 pixels on Moving MNIST's 64-pixel canvas.
DIGIT_FRACTION = 28 / 64
KMEANS_ITERATIONS = 10
# A pixel is ink from a quarter of full intensity.
INK = 0.25


def _clips(clips, value_range):
    """`clips` as float `(n, frames, height, width)` in [0, 1]."""
    low, high = validate_range(value_range, "value_range")
    clips = np.asarray(keras.ops.convert_to_numpy(clips), "float32")
    if clips.ndim != 5 or clips.shape[-1] != 1 or clips.shape[1] < 2:
        raise ValueError(
            "`clips` must be greyscale video of shape (n, frames >= 2, "
            f"height, width, 1); received {clips.shape}."
        )
    return np.clip((clips[..., 0] - low) / (high - low), 0.0, 1.0)


def frame_change(clips, value_range=(0.0, 1.0)):
    """`mean |x_{t+1} - x_t|` over clips, consecutive frames and pixels,
    with the pixels scaled to [0, 1].

    Args:
        clips: `(n, frames >= 2, height, width, 1)` in `value_range`.
        value_range: `(low, high)` of the clips.

    Returns:
        float.
    """
    clips = _clips(clips, value_range)
    return float(np.abs(np.diff(clips, axis=1)).mean())


def motion_ratio(clips, reference_clips, value_range=(0.0, 1.0)):
    """`frame_change(clips) / frame_change(reference_clips)`: 1 when a
    model's clips move as much as the data's."""
    reference = frame_change(reference_clips, value_range)
    if reference == 0.0:
        raise ValueError("`reference_clips` do not move: every frame is equal.")
    return frame_change(clips, value_range) / reference


def _centres(frames, num_digits):
    """Intensity-weighted k-means centres `(frames, num_digits, 2)` of
    each frame's ink, started evenly along the frame's main axis between
    its extreme ink pixels, so the clusters begin apart."""
    size = frames.shape[-1]
    flat = frames.reshape(len(frames), -1)
    # The brightest pixels of each frame stand for its ink: an MNIST digit
    # has about 150 on pixels of its 784 on a 64-pixel canvas; twice that
    # a digit covers its strokes.
    count = min(flat.shape[1], 2 * 150 * num_digits * size**2 // 64**2)
    brightest = np.argpartition(-flat, count - 1, axis=1)[:, :count]
    weights = np.take_along_axis(flat, brightest, 1) + 1e-6
    points = np.stack(divmod(brightest, size), -1).astype("float32")
    mean = (weights[..., None] * points).sum(1) / weights.sum(-1)[:, None]
    centred = points - mean[:, None]
    covariance = np.matmul(
        (weights[..., None] * centred).transpose(0, 2, 1), centred
    )
    axis = np.linalg.eigh(covariance)[1][..., -1]  # the main axis
    along = (centred * axis[:, None]).sum(-1)
    inked = weights > INK
    low = np.where(inked, along, np.inf).min(-1)
    high = np.where(inked, along, -np.inf).max(-1)
    blank = ~inked.any(-1)
    low, high = np.where(blank, 0.0, low), np.where(blank, 0.0, high)
    fractions = (np.arange(num_digits) + 0.5) / num_digits
    offsets = low[:, None] + fractions[None] * (high - low)[:, None]
    centres = mean[:, None] + offsets[..., None] * axis[:, None]
    for _ in range(KMEANS_ITERATIONS):
        distances = ((points[:, :, None] - centres[:, None]) ** 2).sum(-1)
        member = np.argmin(distances, -1)[..., None] == np.arange(num_digits)
        member_weights = (weights[..., None] * member).transpose(0, 2, 1)
        mass = member_weights.sum(-1)
        moved = np.matmul(member_weights, points)
        centres = np.where(
            mass[..., None] > 0,
            moved / np.maximum(mass, 1e-6)[..., None],
            centres,
        )
    return centres


def digit_crops(clips, num_digits=2, value_range=(0.0, 1.0)):
    """A digit-sized window around each digit in each frame.

    Args:
        clips: `(n, frames, size, size, 1)` in `value_range`, square.
        num_digits: int. Digits per clip (Moving MNIST's 2).
        value_range: `(low, high)` of the clips.

    Returns:
        float `(n, frames, num_digits, 28, 28, 1)` windows in [0, 1],
        resized to MNIST's 28 pixels.
    """
    clips = _clips(clips, value_range)
    num_digits = validate_int(num_digits, "num_digits", maximum=10)
    count, num_frames, size = clips.shape[:3]
    if clips.shape[3] != size:
        raise ValueError(f"`clips` must be square; received {clips.shape}.")
    window = max(1, round(DIGIT_FRACTION * size))
    frames = clips.reshape(count * num_frames, size, size)
    centres = _centres(frames, num_digits)
    corners = np.clip(np.round(centres - window / 2), 0, size - window)
    corners = corners.astype("int64")
    crops = np.empty((len(frames), num_digits, window, window), "float32")
    for frame, digit in np.ndindex(len(frames), num_digits):
        row, column = corners[frame, digit]
        crops[frame, digit] = frames[
            frame, row : row + window, column : column + window
        ]
    crops = keras.ops.convert_to_numpy(
        keras.ops.image.resize(crops.reshape(-1, window, window, 1), (28, 28))
    )
    return crops.reshape(count, num_frames, num_digits, 28, 28, 1)


def digit_identity(
    clips,
    classifier,
    *,
    num_digits=2,
    min_agreeing_frames=0.5,
    value_range=(0.0, 1.0),
):
    """The fraction of clips whose digits keep their classes.

    Args:
        clips: `(n, frames, size, size, 1)` in `value_range`.
        classifier: a Keras model of 28x28 images in [0, 1] to class
            scores (the `mnist_classifier` preset).
        num_digits: int. Digits per clip.
        min_agreeing_frames: float in (0, 1]. The share of a clip's frames
            that must give its most common tuple of classes.
        value_range: `(low, high)` of the clips.

    Returns:
        `(kept, classes)`: the float fraction of clips that keep their
        digits, and int `(n, num_digits)`: each clip's most common sorted
        classes.
    """
    min_agreeing_frames = validate_probability(
        min_agreeing_frames, "min_agreeing_frames"
    )
    if min_agreeing_frames == 0.0:
        raise ValueError("`min_agreeing_frames` must be above 0; received 0.")
    crops = digit_crops(clips, num_digits, value_range)
    count, num_frames = crops.shape[:2]
    labels = predicted_labels(crops.reshape(-1, 28, 28, 1), classifier)
    labels = np.sort(labels.reshape(count, num_frames, num_digits), -1)
    kept = 0
    classes = np.empty((count, num_digits), "int64")
    for clip in range(count):
        tuples = collections.Counter(map(tuple, labels[clip]))
        classes[clip], agreeing = tuples.most_common(1)[0]
        kept += agreeing >= min_agreeing_frames * num_frames
    return kept / count, classes
