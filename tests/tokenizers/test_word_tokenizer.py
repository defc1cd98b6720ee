import contextlib

import keras
import numpy as np
import pytest

from kgen.tokenizers import WordTokenizer

# Host-side NumPy (and TensorFlow's string ops): one backend proves it.
pytestmark = pytest.mark.tensorflow_only

CAPTIONS = ["a thick, slanted seven", "7, bold", "the digit two"]


@pytest.fixture
def tokenizer():
    return WordTokenizer.from_texts(CAPTIONS)


def test_vocabulary_and_length_come_from_the_texts(tokenizer):
    assert tokenizer.vocabulary == sorted(
        {"a", "thick", "slanted", "seven", "7", "bold", "the", "digit", "two"}
    )
    assert tokenizer.sequence_length == 4
    assert tokenizer.vocabulary_size == len(tokenizer.vocabulary) + 2


def test_round_trip_lowercases_and_drops_punctuation(tokenizer):
    ids = tokenizer.tokenize(["A Thick,  SLANTED seven!", "7"])
    assert ids.shape == (2, 4) and ids.dtype == np.int32
    assert ids[1, 1:].tolist() == [0, 0, 0]
    assert tokenizer.detokenize(ids) == ["a thick slanted seven", "7"]


def test_empty_text_is_all_padding(tokenizer):
    assert tokenizer.tokenize("").tolist() == [[0, 0, 0, 0]]


def test_unknown_words_are_named(tokenizer):
    with pytest.raises(ValueError, match=r"prompts.*\['zebra'\]"):
        tokenizer.tokenize(["a zebra"], "prompts")


def test_unreadable_characters_are_named(tokenizer):
    with pytest.raises(ValueError, match=r"prompts\[0\].*\u00e9"):
        tokenizer.tokenize(["a thick s\u00e9ven"], "prompts")


def test_long_texts_are_truncated_with_a_warning(tokenizer):
    with pytest.warns(UserWarning, match="first 4"):
        ids = tokenizer.tokenize("the digit two a thick seven")
    assert tokenizer.detokenize(ids) == ["the digit two a"]


@pytest.mark.parametrize(
    "texts, match",
    [([], "at least one"), ([3], "only str"), (np.array([["a"]]), "1-D")],
)
def test_bad_texts_are_refused(tokenizer, texts, match):
    with pytest.raises(ValueError, match=match):
        tokenizer.tokenize(texts)


@pytest.mark.parametrize(
    "arguments, match",
    [
        ((["a", "a"], 3), "repeats"),
        ((["A"], 3), "lowercase"),
        ((["a"], 0), "sequence_length"),
    ],
)
def test_bad_constructor_arguments(arguments, match):
    with pytest.raises(ValueError, match=match):
        WordTokenizer(*arguments)


def test_serializes_with_keras(tokenizer):
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(tokenizer)
    )
    assert restored.get_config() == tokenizer.get_config()


def test_tensorflow_ops_tokenize_alike(tokenizer):
    import tensorflow as tf

    texts = ["A Thick,  SLANTED seven!", "7", "", "the digit two a thick"]
    expected = np.zeros((len(texts), 4), "int32")
    for row, text in enumerate(texts):
        with (
            pytest.warns(UserWarning) if row == 3 else contextlib.nullcontext()
        ):
            expected[row] = tokenizer.tokenize(text)[0]
    graph = tokenizer.tf_tokenize(tf.constant(texts)).numpy()
    np.testing.assert_array_equal(graph, expected)
    # Unknown words become [UNK] in a graph, which cannot raise.
    assert tokenizer.tf_tokenize(tf.constant(["a zebra"])).numpy()[0, 1] == 1
