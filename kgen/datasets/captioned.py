"""Captioned images, offline: each caption is composed from the image's
label and from attributes measured on the image itself.

Every attribute is a measurement on the pixels (scaled to `[0, 1]`),
binned against the 1/3 and 2/3 quantiles of the same class in the train
split: below the first it takes its low value, above the second its high
value, in between it is left out of the caption (a gap that keeps the two
values apart, so that a judge trained on real images can tell them).

Digits and MNIST:

- `thickness` ("thin" / "thick"): ink mass, the sum of the pixel values.
- `slant` ("left" / "right"): the shear of the image's second moments,
  `s = -mu_11 / mu_02` with `mu_pq = sum_xy (x - x_bar)**p (y - y_bar)**q
  I(x, y)`, `y` growing downwards: positive when the top of the stroke
  leans right.

Fashion-MNIST (no colour to describe):

- `size` ("small" / "large"): the number of pixels above 0.2.
- `shade` ("dark" / "light"): the mean value of those pixels.

Some class-attribute combinations are held out of the train split (every
image with one of them is removed) and marked in the test split, to
measure composition: `HELD_OUT`.
"""

import unicodedata

import numpy as np

from kgen.datasets import emoji
from kgen.datasets import fashion_mnist
from kgen.datasets import loader
from kgen.datasets.spoken_digits import DIGIT_WORDS

# {dataset: {attribute: (low value, high value)}}.
ATTRIBUTES = {
    "digits": {"thickness": ("thin", "thick"), "slant": ("left", "right")},
    "mnist": {"thickness": ("thin", "thick"), "slant": ("left", "right")},
    "fashion_mnist": {"size": ("small", "large"), "shade": ("dark", "light")},
}
# {dataset: ((class, attribute, value index), ...)} removed from training.
HELD_OUT = {
    "digits": (
        (7, "thickness", 1),
        (2, "slant", 0),
        (4, "thickness", 0),
        (9, "slant", 1),
    ),
    "fashion_mnist": (
        (7, "size", 1),
        (0, "shade", 0),
        (3, "size", 0),
        (9, "shade", 1),
    ),
}
HELD_OUT["mnist"] = HELD_OUT["digits"]
# Words for each attribute value, in front of the noun.
SYNONYMS = {
    "thin": ("thin", "light", "fine"),
    "thick": ("thick", "bold", "heavy"),
    "left": ("backslanted", "left-leaning"),
    "right": ("slanted", "italic", "right-leaning"),
    "small": ("small", "little"),
    "large": ("large", "big"),
    "dark": ("dark", "dim"),
    "light": ("pale", "bright"),
}
FASHION_NOUNS = (
    ("t-shirt", "top"),
    ("trousers", "jeans"),
    ("pullover", "sweater"),
    ("dress",),
    ("coat", "jacket"),
    ("sandal",),
    ("shirt", "blouse"),
    ("sneaker", "trainer"),
    ("bag", "handbag"),
    ("ankle boot", "boot"),
)
_PLURAL_NOUNS = ("trousers", "jeans")
_CAPTION_SEEDS = {"train": 1, "test": 2}
# Pixels above this count as the garment in Fashion-MNIST measurements.
_GARMENT_LEVEL = 0.2
# Above (the high bin) and below (the low bin) these quantiles.
_QUANTILES = (1.0 / 3.0, 2.0 / 3.0)


def available():
    """Names `load_captioned` accepts."""
    return sorted([*ATTRIBUTES, "emoji"])


def measure_attributes(name, images):
    """The raw attribute measurements of `images` (see the module's
    docstring), `{attribute: (n,) float64}`.

    Args:
        name: a dataset name from `available()`.
        images: `(n, height, width[, 1])` in `[0, 1]`.
    """
    _check_name(name)
    images = np.asarray(images, "float64")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(
            "`images` must be (n, height, width) or (n, height, width, 1); "
            f"received shape {images.shape}."
        )
    if name == "fashion_mnist":
        garment = images > _GARMENT_LEVEL
        area = garment.sum(axis=(1, 2)).astype("float64")
        shade = (images * garment).sum(axis=(1, 2)) / np.maximum(area, 1.0)
        return {"size": area, "shade": shade}
    mass = images.sum(axis=(1, 2))
    safe_mass = np.maximum(mass, 1e-8)
    rows, columns = np.indices(images.shape[1:], dtype="float64")
    y_bar = (images * rows).sum(axis=(1, 2)) / safe_mass
    x_bar = (images * columns).sum(axis=(1, 2)) / safe_mass
    dy = rows[None] - y_bar[:, None, None]
    dx = columns[None] - x_bar[:, None, None]
    mu_11 = (images * dx * dy).sum(axis=(1, 2))
    mu_02 = (images * dy * dy).sum(axis=(1, 2))
    return {"thickness": mass, "slant": -mu_11 / np.maximum(mu_02, 1e-8)}


def attribute_thresholds(name):
    """`{attribute: (num_classes, 2)}`: each class' 1/3 and 2/3 quantiles
    of the measurement over the whole train split (held-out combinations
    included), which bin every split's images."""
    _check_name(name)
    (images, labels), _ = loader.load(name)
    return _thresholds(measure_attributes(name, images), labels)


def _thresholds(measurements, labels):
    num_classes = int(labels.max()) + 1
    return {
        attribute: np.stack(
            [
                np.quantile(values[labels == label], _QUANTILES)
                for label in range(num_classes)
            ]
        )
        for attribute, values in measurements.items()
    }


def bin_attributes(measurements, labels, thresholds):
    """`{attribute: (n,) int8}`: 0 (low), 1 (high) or -1 (between the
    class' quantiles: not described)."""
    binned = {}
    for attribute, values in measurements.items():
        low, high = thresholds[attribute][labels].T
        binned[attribute] = np.where(
            values < low, 0, np.where(values > high, 1, -1)
        ).astype("int8")
    return binned


def load_captioned(name="digits", value_range=(0.0, 1.0), image_size=None):
    """Images with English captions of their class and measured attributes.

    Captions vary in template, word order and synonyms ("a thick, slanted
    seven", "7, bold", "a pair of small, dark trousers") and are the same
    on every call: each split draws its wording from a fixed seed.

    The emoji (`"emoji"`) are captioned by their Unicode names ("fox",
    "woman mage: medium skin tone"), with their group as the label and
    nothing held out beyond the test split's families.

    Args:
        name: `"digits"` (8x8, embedded), `"mnist"` or `"fashion_mnist"`
            (28x28) or `"emoji"` (colour; see `kgen.datasets.load`).
        value_range: `(low, high)` the pixels are scaled to.
        image_size: the emoji's side (see `kgen.datasets.load`); `None`
            for the other datasets.

    Returns:
        `(x_train, captions_train, attributes_train), (x_test,
        captions_test, attributes_test)`. Captions are NumPy arrays of
        str; attributes are `{"labels": (n,) int64, attribute: (n,) int8
        (0 low, 1 high, -1 not described), "held_out": (n,) bool}`. The
        train split lacks every image with a `HELD_OUT` combination; the
        test split keeps them, marked in `held_out`.

    Example:

    ```python
    (x, captions, _), _ = kgen.datasets.load_captioned("digits")
    captions[0]  # e.g. 'a thin zero'
    ```
    """
    if name == "emoji":
        return _load_emoji_captioned(value_range, image_size)
    _check_name(name)
    (x_train, y_train), (x_test, y_test) = loader.load(
        name, value_range, image_size=image_size
    )
    low, high = value_range
    unit_train = (x_train - low) / (high - low)
    unit_test = (x_test - low) / (high - low)
    measured_train = measure_attributes(name, unit_train)
    thresholds = _thresholds(measured_train, y_train)
    splits = []
    for split, images, unit, labels in (
        ("train", x_train, unit_train, y_train),
        ("test", x_test, unit_test, y_test),
    ):
        measured = (
            measured_train
            if split == "train"
            else measure_attributes(name, unit)
        )
        attributes = bin_attributes(measured, labels, thresholds)
        held_out = _held_out(name, labels, attributes)
        attributes = dict(attributes, labels=labels, held_out=held_out)
        if split == "train":
            keep = ~held_out
            images = images[keep]
            attributes = {k: v[keep] for k, v in attributes.items()}
        captions = compose_captions(name, attributes, _CAPTION_SEEDS[split])
        splits.append((images, captions, attributes))
    return tuple(splits)


def _load_emoji_captioned(value_range, image_size):
    (x_train, y_train), (x_test, y_test) = loader.load(
        "emoji", value_range, image_size=image_size
    )
    # The names alone: load_emoji would composite every image again.
    names_train, names_test = (
        np.array([ascii_caption(name) for name in names])
        for names in emoji.split_names()
    )
    return tuple(
        (
            images,
            names,
            {"labels": labels, "held_out": np.zeros(len(labels), bool)},
        )
        for images, labels, names in (
            (x_train, y_train, names_train),
            (x_test, y_test, names_test),
        )
    )


def ascii_caption(text):
    """`text` in the characters `kgen.tokenizers.WordTokenizer` reads:
    curly quotes straight, accents dropped (NFKD decomposition without the
    combining marks) and the three symbols of emoji names spelled out
    (Unicode's names hold "o’clock", "piñata", "Antigua & Barbuda",
    "keycap: #")."""
    text = text.translate(_READABLE)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_READABLE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "&": "and",
        "#": "number sign",
        "*": "asterisk",
    }
)


def _held_out(name, labels, attributes):
    held_out = np.zeros(len(labels), bool)
    for label, attribute, value in HELD_OUT[name]:
        held_out |= (labels == label) & (attributes[attribute] == value)
    return held_out


def compose_captions(name, attributes, seed=0):
    """One caption per image from its class and binned attributes.

    Args:
        name: a dataset name from `available()`.
        attributes: `{"labels": (n,), attribute: (n,) in {-1, 0, 1}}` as
            `load_captioned` returns them.
        seed: int. Picks templates, word order and synonyms.

    Returns:
        `(n,)` NumPy array of str.
    """
    _check_name(name)
    rng = np.random.default_rng(seed)
    names = ATTRIBUTES[name]
    captions = []
    for index, label in enumerate(attributes["labels"]):
        words = []
        for attribute, values in names.items():
            value = attributes[attribute][index]
            if value >= 0:
                synonyms = SYNONYMS[values[value]]
                words.append(synonyms[rng.integers(len(synonyms))])
        rng.shuffle(words)
        if name == "fashion_mnist":
            nouns = FASHION_NOUNS[label]
        else:
            nouns = (DIGIT_WORDS[label], str(label))
        noun = nouns[rng.integers(len(nouns))]
        captions.append(_caption(words, noun, rng, name != "fashion_mnist"))
    return np.array(captions)


def _caption(adjectives, noun, rng, is_digit):
    listed = ", ".join(adjectives)
    joined = " and ".join(adjectives)
    templates = ["{article} {listed} {noun}", "{noun}, {listed}"]
    templates.append("{article} {noun} that is {joined}")
    if is_digit:
        templates.append("the digit {noun}, {listed}")
        templates.append("{article} handwritten {noun}, {listed}")
    template = templates[rng.integers(len(templates))]
    if not adjectives:
        template = template.split(",")[0].replace(" that is {joined}", "")
    first_word = (template.split("{article} ")[-1]).format(
        listed=listed, noun=noun, joined=joined
    )
    caption = template.format(
        article=_article(first_word, noun),
        listed=listed,
        noun=noun,
        joined=joined,
    )
    return " ".join(caption.split())


def _article(following, noun):
    """ "a", "an" or "a pair of" before `following` (the words after the
    article, the noun last)."""
    if noun in _PLURAL_NOUNS:
        return "a pair of"
    first = following.split()[0] if following.split() else noun
    if first in ("one", "1") or first.startswith("uni"):
        return "a"
    if first[0] in "aeio8" or first in ("eleven", "11"):
        return "an"
    return "a"


def _check_name(name):
    if name not in ATTRIBUTES:
        raise ValueError(
            f"Unknown captioned dataset {name!r}; available: {available()}."
        )


# The class names a caption uses, for other modules (a dataset's `labels`
# index them).
CLASS_NAMES = {
    "digits": DIGIT_WORDS,
    "mnist": DIGIT_WORDS,
    "fashion_mnist": fashion_mnist.CLASS_NAMES,
    "emoji": emoji.GROUP_NAMES,
}
