"""`kgen.tokenizers.SmilesTokenizer`: atom-level SMILES tokens (host-side
NumPy: one backend proves it)."""

import keras
import numpy as np
import pytest

from kgen.tokenizers import SmilesTokenizer
from kgen.tokenizers import split_smiles

pytestmark = pytest.mark.tensorflow_only

# Aspirin, L-alanine, 1-bromo-4-chlorobenzene, indole, and a ring closure
# numbered past 9 (`%10`), with charges and isotopes in brackets.
MOLECULES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "C[C@@H](N)C(=O)O",
    "Clc1ccc(Br)cc1",
    "c1ccc2[nH]ccc2c1",
    "C%10CCCCC%10[13CH3]",
    "[Na+].[Cl-]",
    "C/C=C\\C#N",
]


def test_tokens_are_whole_atoms_bonds_and_ring_closures():
    assert split_smiles("Clc1ccc(Br)cc1") == [
        "Cl", "c", "1", "c", "c", "c", "(", "Br", ")", "c", "c", "1",
    ]  # fmt: skip
    assert split_smiles("c1ccc2[nH]ccc2c1")[6] == "[nH]"
    assert split_smiles("C%10CCCCC%10[13CH3]")[1] == "%10"
    for smiles in MOLECULES:
        assert "".join(split_smiles(smiles)) == smiles


@pytest.mark.parametrize(
    "text, position", [("CCl l", 3), ("C C", 1), ("CCXO", 2)]
)
def test_a_string_no_token_reads_is_refused_at_its_position(text, position):
    with pytest.raises(ValueError, match=f"at position {position}"):
        split_smiles(text)


def test_rows_are_bos_tokens_eos_padding_and_read_back():
    tokenizer = SmilesTokenizer.from_smiles(MOLECULES)
    ids = tokenizer.tokenize(MOLECULES)
    assert ids.dtype == np.int32
    assert ids.shape == (len(MOLECULES), tokenizer.sequence_length)
    longest = max(len(split_smiles(s)) for s in MOLECULES)
    assert tokenizer.sequence_length == longest + 2
    assert (ids[:, 0] == tokenizer.bos_id).all()
    for row, smiles in zip(ids, MOLECULES):
        end = len(split_smiles(smiles)) + 1
        assert row[end] == tokenizer.eos_id
        assert (row[end + 1 :] == tokenizer.pad_id).all()
    assert tokenizer.detokenize(ids) == MOLECULES
    # A generated row: what follows the first [EOS] is not the molecule.
    generated = ids[5:6].copy()  # "[Na+].[Cl-]", three tokens
    generated[0, -1] = generated[0, 2]
    assert tokenizer.detokenize(generated) == ["[Na+].[Cl-]"]


def test_unknown_tokens_and_long_molecules_are_refused_not_cut():
    tokenizer = SmilesTokenizer.from_smiles(["CCO"], sequence_length=5)
    with pytest.raises(ValueError, match=r"smiles\[1\].*outside"):
        tokenizer.tokenize(["CO", "CCN"])
    with pytest.raises(ValueError, match=r"smiles\[0\].*4 tokens; at most 3"):
        tokenizer.tokenize("CCOC")
    with pytest.raises(ValueError, match="at least one"):
        tokenizer.tokenize([])
    with pytest.raises(ValueError, match="sequence_length"):
        SmilesTokenizer(["C"], sequence_length=2)
    with pytest.raises(ValueError, match="SMILES tokens"):
        SmilesTokenizer(["C", "CC"], sequence_length=4)
    with pytest.raises(ValueError, match="repeats"):
        SmilesTokenizer(["C", "C"], sequence_length=4)


def test_serializes_with_keras():
    tokenizer = SmilesTokenizer.from_smiles(MOLECULES)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(tokenizer)
    )
    assert restored.get_config() == tokenizer.get_config()
    np.testing.assert_array_equal(
        restored.tokenize(MOLECULES), tokenizer.tokenize(MOLECULES)
    )
