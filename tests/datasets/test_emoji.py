import collections
import os

import numpy as np
import pytest
from PIL import features

import kgen
from kgen.datasets import emoji

installed = features.check("raqm") and all(
    any(os.path.isfile(path) for path in paths)
    for paths in (emoji.FONT_PATHS, emoji.EMOJI_TEST_PATHS)
)
# Rendering takes about 13 s a size; one worker renders it once.
pytestmark = [
    pytest.mark.xdist_group("emoji"),
    pytest.mark.skipif(
        not installed,
        reason="needs Debian's fonts-noto-color-emoji and unicode-data "
        "(apt-get install fonts-noto-color-emoji unicode-data; CI does) "
        "and Pillow's libraqm layout",
    ),
]


def test_load_gives_colour_images_of_nine_groups():
    (x_train, y_train), (x_test, y_test) = kgen.datasets.load(
        "emoji", value_range=(-1, 1)
    )
    assert len(x_train) + len(x_test) >= 3000
    assert x_train.shape[1:] == (32, 32, 3) and x_train.dtype == "float32"
    assert x_train.min() == -1.0 and x_train.max() == 1.0
    assert set(y_train) == set(y_test) == set(range(9))
    # Colour, not grey: the channels differ.
    assert np.abs(x_train[..., 0] - x_train[..., 2]).mean() > 0.05
    # On white: most corners are background.
    assert np.mean(x_train[:, 0, 0] == 1.0) > 0.5


def test_split_keeps_every_variant_of_an_emoji_together():
    entries = emoji.read_emoji_test()
    sides = collections.defaultdict(set)
    for text, _, _ in entries:
        key = emoji.family_key(text)
        sides[key].add(emoji.is_test_family(key))
    assert all(len(side) == 1 for side in sides.values())
    (_, _, train_names), (_, _, test_names) = emoji.load_emoji(32)
    for names in (train_names, test_names):
        others = test_names if names is train_names else train_names
        if "mage" in names:
            assert "woman mage: medium skin tone" in names
            assert "man mage" in names and "mage" not in others
    # Whole families: about one in eight, of every group.
    assert 0.08 < len(test_names) / len(entries) < 0.18


def test_variants_of_one_emoji_share_a_family_key():
    mage = "\U0001f9d9"
    woman_mage_dark = "\U0001f9d9\U0001f3ff\u200d\u2640\ufe0f"
    woman_farmer = "\U0001f469\u200d\U0001f33e"
    farmer = "\U0001f9d1\u200d\U0001f33e"
    assert emoji.family_key(woman_mage_dark) == emoji.family_key(mage)
    assert emoji.family_key(woman_farmer) == emoji.family_key(farmer)
    assert emoji.family_key(farmer) != emoji.family_key(mage)


def test_alpha_keeps_the_transparency():
    (x_rgba, _), _ = kgen.datasets.load("emoji", alpha=True)
    (x_rgb, _), _ = kgen.datasets.load("emoji")
    assert x_rgba.shape[-1] == 4 and x_rgb.shape[-1] == 3
    transparent = x_rgba[..., 3] == 0
    assert transparent.mean() > 0.3
    assert np.all(x_rgb[transparent] == 1.0)


def test_load_captioned_gives_the_names():
    (x, captions, attributes), (x_test, test_captions, _) = (
        kgen.datasets.load_captioned("emoji")
    )
    assert len(x) == len(captions) == len(attributes["labels"])
    assert len(x_test) == len(test_captions)
    assert "red heart" in set(captions) | set(test_captions)
    assert not attributes["held_out"].any()
    # Each group's name is a label's class name.
    classes = kgen.datasets.captioned.CLASS_NAMES["emoji"]
    assert classes[attributes["labels"][0]] == "Smileys & Emotion"
    # Every name is in the characters the word tokenizer reads.
    names = np.concatenate([captions, test_captions])
    tokenizer = kgen.tokenizers.WordTokenizer.from_texts(names)
    assert tokenizer.tokenize(names).shape == (len(names), 13)
    assert "twelve o'clock" in names and "keycap: number sign" in names


def test_ascii_caption_keeps_the_words():
    ascii_caption = kgen.datasets.captioned.ascii_caption
    assert ascii_caption("flag: S\u00e3o Tom\u00e9 & Pr\u00edncipe") == (
        "flag: Sao Tome and Principe"
    )
    assert ascii_caption("twelve o\u2019clock") == "twelve o'clock"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="image_size"):
        kgen.datasets.load("emoji", image_size=48)
    with pytest.raises(ValueError, match="image_size"):
        kgen.datasets.load("digits", image_size=32)


def test_missing_packages_are_named(monkeypatch):
    monkeypatch.setattr(emoji, "FONT_PATHS", ("/nonexistent/font.ttf",))
    emoji._rendered.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="fonts-noto-color-emoji"):
            emoji.load_emoji(16)
    finally:
        emoji._rendered.cache_clear()


def test_sequences_are_drawn_as_one_glyph():
    # A flag is two regional indicators and a toned hand a hand and a
    # skin-tone modifier: one square glyph each, not two side by side.
    from PIL import ImageFont

    font = emoji.emoji_font()
    basic = ImageFont.truetype(
        font.path, font.size, layout_engine=ImageFont.Layout.BASIC
    )
    for text in ("\U0001f1ef\U0001f1f5", "\U0001f44b\U0001f3fd"):
        assert text_aspect(text, font) < 1.5
        assert text_aspect(text, basic) > 1.5


def text_aspect(text, font):
    left, top, right, bottom = font.getbbox(text)
    return (right - left) / (bottom - top)


def test_without_text_shaping_the_dataset_is_refused(monkeypatch):
    from PIL import features

    monkeypatch.setattr(features, "check", lambda name: name != "raqm")
    with pytest.raises(RuntimeError, match="libraqm"):
        emoji.emoji_font()
