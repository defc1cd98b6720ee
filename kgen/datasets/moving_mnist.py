"""Moving MNIST (Srivastava, Mansimov & Salakhutdinov 2015), built here
from `mnist.npz` by the published recipe, so that no clip is downloaded.

Each clip holds `num_digits` MNIST digits (28x28) moving in straight
lines on a 64x64 canvas and bouncing off its edges:

```
p_0 ~ Uniform([0, 36]^2)                  (36 = 64 - 28: the digit fits)
v   = 3.6 (sin theta, cos theta),   theta ~ Uniform[0, 2 pi)
p_t = p_{t-1} + v; a coordinate past 0 or 36 is reflected back inside
      and that component of v changes sign
frame_t = max over digits of the digit pasted at round(p_t)
```

The speed is the recipe's 0.1 of the range a frame. Training clips take
their digits from MNIST's training images and test clips from its test
images, each clip from its own seed (`[split seed, clip index]`), so the
first `n` clips of a split are the same whatever `n` is: the test set is
fixed. Clips keep the digits' classes as labels, and
`moving_mnist_clips` also returns where each digit is in each frame (the
identity metric crops the digits there).
"""

import numpy as np

from kgen.datasets import mnist
from kgen.utils.argument_validation import validate_int

CANVAS_SIZE = 64
DIGIT_SIZE = 28
NUM_FRAMES = 20
NUM_DIGITS = 2
# Pixels a frame: 0.1 of the range (64 - 28) a digit's corner moves in.
SPEED = 0.1 * (CANVAS_SIZE - DIGIT_SIZE)
MAX_VALUE = 255.0
# `[split seed, clip index]` seeds each clip.
SPLIT_SEEDS = {"train": 0, "test": 1}
# 64x64 float32 clips of 20 frames are 328 KB each; the cap keeps one
# split under 3.3 GB.
MAX_CLIPS = 10_000
IMAGE_SIZES = (64, 32)


def moving_mnist_clips(
    images,
    num_clips,
    *,
    split_seed=0,
    num_frames=NUM_FRAMES,
    num_digits=NUM_DIGITS,
):
    """Renders clips of digits bouncing on a 64x64 canvas.

    Args:
        images: uint8 `(n, 28, 28)` digits to draw from.
        num_clips: int in [1, `MAX_CLIPS`].
        split_seed: int. Clip `i` is drawn with the seed
            `[split_seed, i]`.
        num_frames: int in [1, 1000].
        num_digits: int in [1, 10].

    Returns:
        `(clips, digit_indices, positions)`: uint8 clips `(num_clips,
        num_frames, 64, 64)`, int64 indices into `images` `(num_clips,
        num_digits)`, and int64 top-left corners `(row, column)` of each
        digit in each frame, `(num_clips, num_frames, num_digits, 2)`.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE):
        raise ValueError(
            f"`images` must be MNIST digits of shape (n, {DIGIT_SIZE}, "
            f"{DIGIT_SIZE}); received shape {images.shape}."
        )
    num_clips = validate_int(num_clips, "num_clips", maximum=MAX_CLIPS)
    num_frames = validate_int(num_frames, "num_frames", maximum=1000)
    num_digits = validate_int(num_digits, "num_digits", maximum=10)
    split_seed = validate_int(split_seed, "split_seed", minimum=0)
    room = CANVAS_SIZE - DIGIT_SIZE
    digit_indices = np.empty((num_clips, num_digits), "int64")
    positions = np.empty((num_clips, num_frames, num_digits, 2), "int64")
    for clip in range(num_clips):
        rng = np.random.default_rng([split_seed, clip])
        digit_indices[clip] = rng.integers(0, len(images), num_digits)
        corner = rng.uniform(0.0, room, (num_digits, 2))
        theta = rng.uniform(0.0, 2.0 * np.pi, num_digits)
        velocity = SPEED * np.stack([np.sin(theta), np.cos(theta)], -1)
        for frame in range(num_frames):
            positions[clip, frame] = np.round(corner)
            corner, velocity = _bounce(corner + velocity, velocity, room)
    clips = np.zeros((num_clips, num_frames, CANVAS_SIZE, CANVAS_SIZE), "uint8")
    for clip in range(num_clips):
        for digit in range(num_digits):
            image = images[digit_indices[clip, digit]]
            for frame, (row, column) in enumerate(positions[clip, :, digit]):
                window = clips[
                    clip,
                    frame,
                    row : row + DIGIT_SIZE,
                    column : column + DIGIT_SIZE,
                ]
                np.maximum(window, image, out=window)
    return clips, digit_indices, positions


def _bounce(corner, velocity, room):
    """Reflects the coordinates that left `[0, room]` back inside and
    turns their velocity round."""
    below, above = corner < 0.0, corner > room
    corner = np.where(below, -corner, corner)
    corner = np.where(above, 2.0 * room - corner, corner)
    velocity = np.where(below | above, -velocity, velocity)
    return corner, velocity


def load_moving_mnist(
    num_train=1000,
    num_test=500,
    *,
    num_frames=NUM_FRAMES,
    image_size=CANVAS_SIZE,
    value_range=(0.0, 1.0),
):
    """Moving MNIST clips with the classes of their two digits.

    MNIST is read offline as `kgen.datasets.load("mnist")` reads it
    (`$KGEN_DATA_DIR/mnist.npz`). Clips are float32: 328 KB each at 64x64
    and 20 frames.

    Args:
        num_train: int in [1, 10000]. Clips of the training digits.
        num_test: int in [1, 10000]. Clips of the test digits; the first
            `n` are the same for every `num_test >= n`.
        num_frames: int in [1, 1000]; the recipe's 20 by default.
        image_size: 64 (the recipe's), or 32: the same clips averaged over
            2x2 pixels, for models that train on a CPU.
        value_range: `(low, high)` the pixels are scaled to.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: clips `(n, num_frames,
        image_size, image_size, 1)` and int64 labels `(n, 2)`, the
        classes of the clip's two digits.

    Example:

    ```python
    (x_train, y_train), _ = kgen.datasets.load_moving_mnist(100, 10)
    x_train.shape  # (100, 20, 64, 64, 1)
    ```
    """
    if image_size not in IMAGE_SIZES:
        raise ValueError(
            f"`image_size` must be one of {IMAGE_SIZES}; received "
            f"{image_size!r}."
        )
    low, high = value_range
    if not high > low:
        raise ValueError(
            "`value_range` must be (low, high) with high > low; received "
            f"{value_range!r}."
        )
    counts = {
        "train": validate_int(num_train, "num_train", maximum=MAX_CLIPS),
        "test": validate_int(num_test, "num_test", maximum=MAX_CLIPS),
    }
    # Checked before MNIST is read.
    validate_int(num_frames, "num_frames", maximum=1000)
    splits = dict(zip(("train", "test"), mnist.load_mnist()))
    result = []
    for split, (images, labels) in splits.items():
        clips, indices, _ = moving_mnist_clips(
            images,
            counts[split],
            split_seed=SPLIT_SEEDS[split],
            num_frames=num_frames,
        )
        clips = clips.astype("float32")
        if image_size != CANVAS_SIZE:
            factor = CANVAS_SIZE // image_size
            clips = clips.reshape(
                clips.shape[:2] + (image_size, factor, image_size, factor)
            ).mean(axis=(3, 5))
        clips = low + (high - low) * (clips / MAX_VALUE)
        result.append(
            (
                clips[..., None].astype("float32"),
                np.asarray(labels, "int64")[indices],
            )
        )
    return tuple(result)
