"""`kgen.datasets.load_molecules`: MOSES' SMILES from the molsets wheel's
data files (`pip install --no-deps molsets==0.3.1`; skipped without)."""

import importlib.metadata

import pytest

import kgen
from kgen.tokenizers import split_smiles

pytestmark = pytest.mark.tensorflow_only


def _molsets_installed():
    try:
        importlib.metadata.distribution("molsets")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


needs_molsets = pytest.mark.skipif(
    not _molsets_installed(),
    reason="needs the molsets wheel: pip install --no-deps molsets==0.3.1",
)


@needs_molsets
def test_moses_test_split_is_read_whole_and_tokenizes():
    smiles = kgen.datasets.load_molecules("moses", split="test")
    # MOSES' test split as published (Polykovskiy et al. 2020).
    assert len(smiles) == 176_074
    assert smiles[0] == "CC1C2CCC(C2)C1CN(CCO)C(=O)c1ccc(Cl)cc1"
    # Every molecule is whole atom-level tokens.
    assert all("".join(split_smiles(s)) == s for s in smiles)


def test_unknown_names_and_splits_are_refused():
    with pytest.raises(ValueError, match="Unknown molecule dataset"):
        kgen.datasets.load_molecules("zinc")
    with pytest.raises(ValueError, match="`split` must be one of"):
        kgen.datasets.load_molecules("moses", split="valid")


def test_a_missing_wheel_says_how_to_install_it(monkeypatch):
    def not_found(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_found)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps"):
        kgen.datasets.load_molecules("moses", split="test")
