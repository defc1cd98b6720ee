"""Colour emoji with their names and groups, rendered offline from Debian's
`fonts-noto-color-emoji` and `unicode-data` packages.

Unicode's `emoji-test.txt` lists every emoji with its status, group and
name; each fully-qualified one is drawn from Noto Color Emoji's bitmaps
(one 109-pixel strike: Pillow draws CBDT fonts at that size alone), laid
on white (or kept with its alpha) in a square and shrunk to the size asked
for with a box filter, which averages every source pixel (the
anti-aliasing a generative model's data wants).

The test split holds whole families: an emoji with its skin tones and
genders (`"mage"`, `"woman mage: medium skin tone"`, ...) falls on one
side, decided by a digest of the family's key, so that the held-out
images are new emoji rather than recoloured train ones.
"""

import functools
import hashlib
import os

import numpy as np

FONT_PATHS = (
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/noto/NotoColorEmoji.ttf",
)
EMOJI_TEST_PATHS = (
    "/usr/share/unicode/emoji/emoji-test.txt",
    "/usr/share/unicode-data/emoji/emoji-test.txt",
)
# The groups of emoji-test.txt that hold fully-qualified emoji, in its
# order; a label is an index here.
GROUP_NAMES = (
    "Smileys & Emotion",
    "People & Body",
    "Animals & Nature",
    "Food & Drink",
    "Travel & Places",
    "Activities",
    "Objects",
    "Symbols",
    "Flags",
)
IMAGE_SIZES = (16, 32, 64, 128)
MAX_VALUE = 255.0
# Noto Color Emoji's only bitmap strike.
_FONT_SIZE = 109
# One family in this many (by digest) is held out for the test split.
_TEST_ONE_IN = 8
_SKIN_TONES = range(0x1F3FB, 0x1F400)
# Dropped from a family's key: variation selector 16, zero-width joiner,
# female and male signs.
_VARIANT_MARKS = (0xFE0F, 0x200D, 0x2640, 0x2642)
# Man and woman are a variant of person (U+1F9D1) in a family's key.
_GENDERED_PEOPLE = {0x1F468: 0x1F9D1, 0x1F469: 0x1F9D1}


def find_file(candidates, package):
    """The first path of `candidates` that exists, else a
    `FileNotFoundError` naming the Debian package."""
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        "The emoji dataset needs Debian's `fonts-noto-color-emoji` and "
        "`unicode-data` packages (`apt-get install fonts-noto-color-emoji "
        f"unicode-data`); {package} is missing: none of {list(candidates)} "
        "exists."
    )


def read_emoji_test(path=None):
    """The fully-qualified emoji of Unicode's `emoji-test.txt`.

    Returns:
        A list of `(text, name, group)` in the file's order; `group` is an
        index into `GROUP_NAMES`.
    """
    path = path or find_file(EMOJI_TEST_PATHS, "unicode-data")
    entries = []
    group = None
    with open(path, encoding="utf-8") as file:
        for line in file:
            if line.startswith("# group:"):
                name = line.split(":", 1)[1].strip()
                group = GROUP_NAMES.index(name) if name in GROUP_NAMES else None
                continue
            if "; fully-qualified" not in line or line.startswith("#"):
                continue
            code_points, comment = line.split("#", 1)
            text = "".join(
                chr(int(code, 16)) for code in code_points.split(";")[0].split()
            )
            # The comment is "<emoji> E<version> <name>".
            name = comment.split(maxsplit=2)[2].strip()
            if group is None:
                raise ValueError(
                    f"{path}: fully-qualified emoji {name!r} outside the "
                    f"groups {GROUP_NAMES}."
                )
            entries.append((text, name, group))
    return entries


def family_key(text):
    """The code points that all of an emoji's skin-tone and gender
    variants share (see `_VARIANT_MARKS` and `_GENDERED_PEOPLE`)."""
    key = []
    for character in text:
        point = ord(character)
        if point in _SKIN_TONES or point in _VARIANT_MARKS:
            continue
        key.append(_GENDERED_PEOPLE.get(point, point))
    return tuple(key)


def is_test_family(key):
    """Whether the family `key` belongs to the test split: a digest, so
    the split is the same on every machine and Python."""
    digest = hashlib.sha256(
        " ".join(f"{point:X}" for point in key).encode()
    ).digest()
    return digest[0] % _TEST_ONE_IN == 0


def render(text, image_size, font):
    """One emoji as `(image_size, image_size, 4)` uint8 RGBA, centred in a
    square of its bitmap's longer side."""
    from PIL import Image
    from PIL import ImageDraw

    canvas = Image.new("RGBA", (2 * _FONT_SIZE, 2 * _FONT_SIZE))
    ImageDraw.Draw(canvas).text((0, 0), text, font=font, embedded_color=True)
    box = canvas.getbbox()
    if box is None:
        raise ValueError(f"The emoji font draws nothing for {text!r}.")
    glyph = canvas.crop(box)
    side = max(glyph.size)
    square = Image.new("RGBA", (side, side))
    square.paste(
        glyph, ((side - glyph.size[0]) // 2, (side - glyph.size[1]) // 2)
    )
    square = square.resize((image_size, image_size), Image.Resampling.BOX)
    return np.asarray(square)


def _names_and_split(entries):
    """The names and a test-split mask of `read_emoji_test`'s entries."""
    names = np.array([name for _, name, _ in entries])
    test = [is_test_family(family_key(text)) for text, _, _ in entries]
    return names, np.array(test)


def split_names():
    """`(names_train, names_test)` in `load_emoji`'s order, read from
    `emoji-test.txt` alone (no image is drawn)."""
    names, test = _names_and_split(read_emoji_test())
    return names[~test], names[test]


def emoji_font():
    """Noto Color Emoji at its strike, laid out by libraqm.

    Most emoji are sequences that the font's ligatures draw as one glyph:
    a skin tone after a person, zero-width-joined families and
    professions, two regional indicators for a flag. Pillow's basic layout
    has no ligatures and draws their parts side by side (a person beside
    a skin-tone swatch, "JP" for Japan's flag), so without libraqm the
    dataset would differ from machine to machine; that is refused.

    Raises:
        FileNotFoundError: the font (its Debian package named).
        RuntimeError: Pillow has no libraqm layout (`libraqm0`; Pillow's
            wheels bundle it but load `libfribidi0` from the system).
    """
    from PIL import ImageFont
    from PIL import features

    path = find_file(FONT_PATHS, "fonts-noto-color-emoji")
    if not features.check("raqm"):
        raise RuntimeError(
            "The emoji dataset needs Pillow's libraqm text layout to draw "
            "skin tones, zero-width-joined sequences and flags as one "
            "glyph; this Pillow has none (install Debian's `libraqm0`, or "
            "`libfribidi0` for Pillow's wheels, which bundle raqm)."
        )
    return ImageFont.truetype(
        path, _FONT_SIZE, layout_engine=ImageFont.Layout.RAQM
    )


@functools.lru_cache(maxsize=2)
def _rendered(image_size):
    font = emoji_font()
    entries = read_emoji_test()
    images = np.stack(
        [render(text, image_size, font) for text, _, _ in entries]
    )
    images.setflags(write=False)
    return entries, images


def load_emoji(image_size=32, alpha=False):
    """Colour emoji (Noto Color Emoji, Unicode's `emoji-test.txt`): about
    3,650 fully-qualified emoji in 9 groups, uint8 RGB on white.

    Args:
        image_size: one of `IMAGE_SIZES`: the side of the square images.
        alpha: keep the transparency as a fourth channel (RGBA, the
            colour not composited on white).

    Returns:
        `(x_train, y_train, names_train), (x_test, y_test, names_test)`:
        uint8 `(n, image_size, image_size, 3 or 4)` images, int64 group
        labels (indices into `GROUP_NAMES`) and the emoji's names (NumPy
        arrays of str). About one family in eight (an emoji with all its
        skin tones and genders) is in the test split.

    Raises:
        FileNotFoundError: a Debian package is missing (its name said).
    """
    if image_size not in IMAGE_SIZES:
        raise ValueError(
            f"`image_size` must be one of {IMAGE_SIZES} for the emoji "
            f"dataset; received {image_size!r}."
        )
    entries, rgba = _rendered(int(image_size))
    if alpha:
        images = rgba.copy()
    else:
        # "Over" white: c * a + 255 * (1 - a), rounded.
        opacity = rgba[..., 3:].astype("float32") / 255.0
        colour = rgba[..., :3].astype("float32")
        images = colour * opacity + 255.0 * (1.0 - opacity)
        images = np.round(images).astype("uint8")
    labels = np.array([group for _, _, group in entries], "int64")
    names, test = _names_and_split(entries)
    return (images[~test], labels[~test], names[~test]), (
        images[test],
        labels[test],
        names[test],
    )
