import keras
import numpy as np
import pytest

from kgen.tokenizers import CharacterTokenizer


def test_round_trip_and_ids():
    tokenizer = CharacterTokenizer.from_text("to be or not to be")
    assert tokenizer.vocabulary == " benort"
    ids = tokenizer("not to be")
    assert ids.dtype == np.int32 and ids.tolist()[:3] == [3, 4, 6]
    assert tokenizer.detokenize(ids) == "not to be"
    assert tokenizer.detokenize(np.stack([ids, ids])) == ["not to be"] * 2


def test_serialization():
    tokenizer = CharacterTokenizer("ab\nc")
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(tokenizer)
    )
    assert restored.vocabulary == "ab\nc"
    assert restored("c\na").tolist() == [3, 2, 0]


def test_errors_name_the_problem():
    tokenizer = CharacterTokenizer("abc")
    with pytest.raises(ValueError, match="outside the vocabulary.*'z'"):
        tokenizer("abz")
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        tokenizer.detokenize([0, 3])
    with pytest.raises(ValueError, match="repeats"):
        CharacterTokenizer("aba")
    with pytest.raises(ValueError, match="single characters"):
        CharacterTokenizer(["ab", "c"])
