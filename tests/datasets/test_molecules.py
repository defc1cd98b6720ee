"""`kgen.datasets.load_molecules` and `load_peptides`: MOSES' SMILES and
modlAMP's peptides from their wheels' data files (`pip install --no-deps
molsets==0.3.1 modlamp==4.3.3`; skipped without)."""

import importlib.metadata

import pytest

import kgen
from kgen.tokenizers import split_smiles

pytestmark = pytest.mark.tensorflow_only


def _needs(distribution, version):
    try:
        importlib.metadata.distribution(distribution)
        installed = True
    except importlib.metadata.PackageNotFoundError:
        installed = False
    return pytest.mark.skipif(
        not installed,
        reason=f"needs the {distribution} wheel: pip install --no-deps "
        f"{distribution}=={version}",
    )


needs_molsets = _needs("molsets", "0.3.1")
needs_modlamp = _needs("modlamp", "4.3.3")


@needs_molsets
def test_moses_test_split_is_read_whole_and_tokenizes():
    smiles = kgen.datasets.load_molecules("moses", split="test")
    # MOSES' test split as published (Polykovskiy et al. 2020).
    assert len(smiles) == 176_074
    assert smiles[0] == "CC1C2CCC(C2)C1CN(CCO)C(=O)c1ccc(Cl)cc1"
    # Every molecule is whole atom-level tokens.
    assert all("".join(split_smiles(s)) == s for s in smiles)


@needs_modlamp
def test_peptides_hold_out_a_tenth_of_each_class():
    train, train_labels = kgen.datasets.load_peptides("train")
    test, test_labels = kgen.datasets.load_peptides("test")
    # 2,540 distinct antimicrobial and 2,080 UniProt sequences.
    assert (train_labels.sum(), len(train)) == (2_286, 4_158)
    assert (test_labels.sum(), len(test)) == (254, 462)
    assert len(set(train) | set(test)) == len(train) + len(test)
    residues = set("".join(train) + "".join(test))
    assert residues == set("ACDEFGHIKLMNPQRSTVWY")
    # The first antimicrobial peptide of modlAMP's file, in one split.
    assert "GLWSKIKEVGKEAAKAAAKAAGKAALGAVSEAV" in set(test) | set(train)


def test_unknown_names_and_splits_are_refused():
    with pytest.raises(ValueError, match="Unknown molecule dataset"):
        kgen.datasets.load_molecules("zinc")
    with pytest.raises(ValueError, match="`split` must be one of"):
        kgen.datasets.load_molecules("moses", split="valid")
    with pytest.raises(ValueError, match="`split` must be one of"):
        kgen.datasets.load_peptides("validation")


def test_a_missing_wheel_says_how_to_install_it(monkeypatch):
    def not_found(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_found)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps"):
        kgen.datasets.load_molecules("moses", split="test")
    with pytest.raises(FileNotFoundError, match="modlamp==4.3.3"):
        kgen.datasets.load_peptides("test")
