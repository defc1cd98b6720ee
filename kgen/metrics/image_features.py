"""Image checks, preprocessing and batched feature extraction for metrics."""

import keras
import numpy as np
from keras import ops

INCEPTION_SIZE = 299


def validate_images(images, value_range, argument="images"):
    """Checks a batch `(n, height, width, 1 or 3)`; returns float32 numpy.

    Raises `ValueError` naming the argument for a wrong rank or channel
    count, non-finite values, or values outside the declared `value_range`.
    """
    images = np.asarray(ops.convert_to_numpy(images))
    if images.dtype == bool or not (
        np.issubdtype(images.dtype, np.integer)
        or np.issubdtype(images.dtype, np.floating)
    ):
        raise ValueError(
            f"`{argument}` must hold numbers; received dtype {images.dtype}."
        )
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            f"`{argument}` must have shape (n, height, width, 1 or 3); "
            f"received shape {images.shape}."
        )
    images = images.astype("float32")
    if not np.isfinite(images).all():
        raise ValueError(f"`{argument}` contains NaN or infinite values.")
    low, high = value_range
    if images.size and (images.min() < low or images.max() > high):
        raise ValueError(
            f"`{argument}` values must lie in the declared value_range "
            f"[{low}, {high}]; received [{images.min():g}, {images.max():g}]."
            " Pass the metric the range your images use, e.g. "
            "value_range=(0, 255) or (-1, 1)."
        )
    return images


def network_input_shape(network, argument):
    """`(height, width, channels)` of the images `network` takes.

    Raises `ValueError` naming `argument` unless `network` is a
    `keras.Model` with one input of images `(batch, height, width,
    channels)`, as functional and `Sequential` models have.
    """
    inputs = getattr(network, "inputs", None)
    if (
        not isinstance(network, keras.Model)
        or not inputs
        or len(inputs) != 1
        or len(inputs[0].shape) != 4
    ):
        raise ValueError(
            f"`{argument}` must be a keras.Model with one input of images "
            f"(batch, height, width, channels); received {network!r}."
        )
    return tuple(inputs[0].shape[1:])


def check_channels(images, channels, argument, network):
    """Refuses images `network` cannot take: grey images are replicated
    for a colour network, but colour images are not made grey."""
    given = images.shape[-1]
    if given != channels and not (given == 1 and channels == 3):
        raise ValueError(
            f"`{argument}` has {given} channels, but the `{network}` "
            f"takes images with {channels}."
        )


def to_inception_input(images, value_range):
    """Images -> FID-Inception input: RGB 299x299 scaled to [-1, 1].

    Grey images are replicated to RGB; pixels map to 0..255 and then
    `x / 128 - 1` (the TF-2015 FID convention); the resize is bilinear
    without antialiasing, as in the reference implementations.
    """
    low, high = value_range
    x = (ops.convert_to_tensor(images) - low) * (255.0 / (high - low))
    if x.shape[-1] == 1:
        x = ops.repeat(x, 3, axis=-1)
    if tuple(x.shape[1:3]) != (INCEPTION_SIZE, INCEPTION_SIZE):
        x = ops.image.resize(
            x,
            (INCEPTION_SIZE, INCEPTION_SIZE),
            interpolation="bilinear",
            antialias=False,
        )
    return x / 128.0 - 1.0


def to_unit_input(images, value_range, input_shape):
    """Images -> [0, 1], resized and channel-matched to `input_shape`."""
    low, high = value_range
    x = (ops.convert_to_tensor(images) - low) / (high - low)
    height, width, channels = input_shape
    if x.shape[-1] != channels:
        if channels == 3 and x.shape[-1] == 1:
            x = ops.repeat(x, 3, axis=-1)
        else:
            raise ValueError(
                f"The feature extractor expects {channels} channels; the "
                f"images have {x.shape[-1]}."
            )
    if height and width and tuple(x.shape[1:3]) != (height, width):
        x = ops.image.resize(
            x, (height, width), interpolation="bilinear", antialias=False
        )
    return x


def extract(model, images, preprocess, batch_size):
    """`model(preprocess(batch))` over `images` in batches, as float64."""
    outputs = []
    for start in range(0, len(images), batch_size):
        batch = preprocess(images[start : start + batch_size])
        outputs.append(
            np.asarray(model.predict_on_batch(batch), dtype=np.float64)
        )
    if not outputs:
        return np.zeros((0, 0))
    return np.concatenate(outputs).reshape(len(images), -1)
