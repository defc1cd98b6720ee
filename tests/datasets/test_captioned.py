import numpy as np
import pytest

import kgen
from kgen.datasets import captioned
from kgen.datasets import fashion_mnist
from kgen.tokenizers.word_tokenizer import split_words

# NumPy only: one backend proves it.
pytestmark = pytest.mark.tensorflow_only


@pytest.fixture(scope="module")
def digits():
    return kgen.datasets.load_captioned("digits")


def test_captions_are_deterministic(digits):
    (_, captions, _), (_, test_captions, _) = digits
    (_, again, _), (_, test_again, _) = kgen.datasets.load_captioned("digits")
    np.testing.assert_array_equal(captions, again)
    np.testing.assert_array_equal(test_captions, test_again)


def test_every_caption_names_its_class(digits):
    (_, captions, attributes), _ = digits
    for caption, label in zip(captions, attributes["labels"]):
        words = split_words(caption)
        assert str(label) in words or captioned.DIGIT_WORDS[label] in words


def test_captions_describe_the_binned_attributes(digits):
    (_, captions, attributes), _ = digits
    for index, caption in enumerate(captions):
        words = set(split_words(caption))
        for attribute, values in captioned.ATTRIBUTES["digits"].items():
            value = attributes[attribute][index]
            for position, name in enumerate(values):
                # Whole synonyms: "left-leaning" and "right-leaning" share
                # "leaning".
                described = any(
                    set(split_words(s)) <= words
                    for s in captioned.SYNONYMS[name]
                )
                assert described == (value == position), (caption, attribute)


def test_wording_varies(digits):
    (_, captions, attributes), _ = digits
    sevens = captions[attributes["labels"] == 7]
    assert len(set(sevens)) > 10
    templates = {c.split()[0] for c in captions}
    assert {"a", "the"} <= templates


def test_attributes_split_each_class_in_thirds(digits):
    (_, _, attributes), _ = digits
    for attribute in ("thickness", "slant"):
        # Before the held-out removal each value is a third of a class;
        # after it, still near a third overall.
        fractions = [np.mean(attributes[attribute] == v) for v in (-1, 0, 1)]
        np.testing.assert_allclose(fractions, 1 / 3, atol=0.06)


def test_held_out_combinations_are_not_trained_on(digits):
    (_, _, train), (_, _, test) = digits
    assert not train["held_out"].any()
    assert test["held_out"].any()
    for label, attribute, value in captioned.HELD_OUT["digits"]:
        in_train = (train["labels"] == label) & (train[attribute] == value)
        in_test = (test["labels"] == label) & (test[attribute] == value)
        assert not in_train.any()
        assert in_test.any()
        assert test["held_out"][in_test].all()


def test_measurements_follow_their_definitions():
    image = np.zeros((1, 8, 8))
    image[0, 1:7, 3] = 1.0
    upright = captioned.measure_attributes("digits", image)
    thick = captioned.measure_attributes("digits", np.repeat(image, 2, 0) * 2)
    assert thick["thickness"][0] == 2 * upright["thickness"][0]
    assert upright["slant"][0] == pytest.approx(0.0)
    # A stroke whose top lies to the right of its bottom leans right.
    leaning = np.zeros((1, 8, 8))
    for row in range(1, 7):
        leaning[0, row, 6 - row] = 1.0
    assert captioned.measure_attributes("digits", leaning)["slant"][0] > 0.5
    mirrored = leaning[:, :, ::-1]
    assert captioned.measure_attributes("digits", mirrored)["slant"][0] < -0.5


def test_articles_read_as_english():
    assert captioned._caption([], "eight", np.random.default_rng(0), True)
    assert captioned._article("eight", "eight") == "an"
    assert captioned._article("italic seven", "seven") == "an"
    assert captioned._article("one", "one") == "a"
    assert captioned._article("small trousers", "trousers") == "a pair of"


def test_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match="cifar"):
        kgen.datasets.load_captioned("cifar")


@pytest.mark.skipif(
    fashion_mnist.find_local_folder() is None,
    reason="Debian's dataset-fashion-mnist is not installed",
)
def test_fashion_mnist_captions_name_the_garment():
    _, (images, captions, attributes) = kgen.datasets.load_captioned(
        "fashion_mnist"
    )
    assert images.shape == (10000, 28, 28, 1)
    for caption, label in zip(captions[:200], attributes["labels"][:200]):
        nouns = captioned.FASHION_NOUNS[label]
        assert any(noun in caption for noun in nouns), caption
    assert set(captioned.ATTRIBUTES["fashion_mnist"]) < set(attributes)
