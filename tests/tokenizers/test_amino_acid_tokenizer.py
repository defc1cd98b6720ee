"""`kgen.tokenizers.AminoAcidTokenizer` (host-side NumPy: one backend
proves it)."""

import keras
import numpy as np
import pytest

from kgen.tokenizers import AMINO_ACIDS
from kgen.tokenizers import AminoAcidTokenizer
from kgen.tokenizers import split_peptide

pytestmark = pytest.mark.tensorflow_only


def test_rows_round_trip_and_stop_at_eos():
    tokenizer = AminoAcidTokenizer(list(AMINO_ACIDS), 8)
    rows = tokenizer(["GLFK", "KWKLFKKI"[:6]])
    assert rows.shape == (2, 8) and (rows[:, 0] == tokenizer.bos_id).all()
    assert rows[0, 5] == tokenizer.eos_id and rows[0, 6] == tokenizer.pad_id
    assert tokenizer.detokenize(rows) == ["GLFK", "KWKLFK"]
    assert tokenizer.vocabulary_size == 23
    built = AminoAcidTokenizer.from_sequences(["GLFK", "KWKL"])
    assert built.vocabulary == ["F", "G", "K", "L", "W"]
    assert built.sequence_length == 6


def test_serializes_and_refuses_what_it_cannot_read():
    tokenizer = AminoAcidTokenizer.from_sequences(["GLFK", "KWKL"])
    config = keras.saving.serialize_keras_object(tokenizer)
    rebuilt = keras.saving.deserialize_keras_object(config)
    assert isinstance(rebuilt, AminoAcidTokenizer)
    np.testing.assert_array_equal(rebuilt(["KWKL"]), tokenizer(["KWKL"]))
    with pytest.raises(ValueError, match="'B' at position 2"):
        split_peptide("GLB")
    with pytest.raises(ValueError, match="amino acid tokens"):
        AminoAcidTokenizer(["Cl"], 8)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tokenizer(["GLA"])
    with pytest.raises(ValueError, match="at most 4 fit"):
        tokenizer(["GLFKK"])
    with pytest.raises(ValueError, match="`sequences` must hold"):
        AminoAcidTokenizer.from_sequences([])
