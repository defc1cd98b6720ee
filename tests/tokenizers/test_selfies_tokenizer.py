"""`kgen.tokenizers.SelfiesTokenizer`: SELFIES symbols of SMILES, and
SMILES back (needs `selfies` and RDKit; host-side NumPy: one backend
proves it)."""

import keras
import numpy as np
import pytest

from kgen.tokenizers import SelfiesTokenizer
from kgen.tokenizers import split_selfies

pytest.importorskip("selfies", reason="the SELFIES tokenizer needs selfies")
pytestmark = pytest.mark.tensorflow_only

MOLECULES = ["CC(=O)Oc1ccccc1C(=O)O", "Clc1ccc(Br)cc1", "c1ccc2[nH]ccc2c1"]


def _canonical(smiles):
    from rdkit import Chem

    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


def test_rows_round_trip_to_the_same_molecules():
    pytest.importorskip("rdkit")
    tokenizer = SelfiesTokenizer.from_smiles(MOLECULES)
    rows = tokenizer(MOLECULES)
    assert rows.shape == (3, tokenizer.sequence_length)
    assert (rows[:, 0] == tokenizer.bos_id).all()
    assert "[Ring1]" in tokenizer.vocabulary
    assert [_canonical(s) for s in tokenizer.detokenize(rows)] == [
        _canonical(s) for s in MOLECULES
    ]


def test_any_symbols_decode_to_a_valid_molecule():
    pytest.importorskip("rdkit")
    from rdkit import Chem

    tokenizer = SelfiesTokenizer.from_smiles(MOLECULES)
    rng = np.random.default_rng(0)
    ids = rng.integers(3, tokenizer.vocabulary_size, (50, 12))
    for smiles in tokenizer.detokenize(ids):
        assert smiles == "" or Chem.MolFromSmiles(smiles) is not None


def test_serializes_and_refuses_what_it_cannot_read():
    tokenizer = SelfiesTokenizer.from_smiles(MOLECULES)
    config = keras.saving.serialize_keras_object(tokenizer)
    rebuilt = keras.saving.deserialize_keras_object(config)
    np.testing.assert_array_equal(rebuilt(MOLECULES), tokenizer(MOLECULES))
    assert split_selfies("CCO") == ["[C]", "[C]", "[O]"]
    with pytest.raises(ValueError, match="SELFIES encodes"):
        split_selfies("C(C")
    with pytest.raises(ValueError, match="SELFIES tokens"):
        SelfiesTokenizer(["C"], 8)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tokenizer(["CCS"])
