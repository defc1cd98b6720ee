"""`kgen.metrics.molecules`: MOSES' validity, unique@k, novelty and
internal diversity (needs RDKit; skipped without)."""

import numpy as np
import pytest

from kgen.metrics import molecules

pytest.importorskip("rdkit", reason="the molecule metrics need RDKit")
pytestmark = pytest.mark.tensorflow_only

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
ETHANOL = "CCO"
BENZENE = "c1ccccc1"


def test_validity_counts_what_rdkit_parses():
    # An open branch, a five-valent carbon and an empty string fail.
    smiles = [ETHANOL, "C(C", "C(C)(C)(C)(C)C", "", ASPIRIN]
    assert molecules.validity(smiles) == pytest.approx(2 / 5)
    assert molecules.canonical_smiles(["OCC", "C(C"]) == [ETHANOL, None]


def test_uniqueness_and_novelty_compare_molecules_not_strings():
    # "OCC" is ethanol written another way; "C(C" is no molecule.
    smiles = [ETHANOL, "OCC", BENZENE, "C(C", ASPIRIN]
    assert molecules.uniqueness(smiles) == pytest.approx(3 / 4)
    assert molecules.uniqueness(smiles, k=2) == pytest.approx(1 / 2)
    with pytest.warns(UserWarning, match="unique@10 over only 4"):
        molecules.uniqueness(smiles, k=10)
    assert molecules.novelty(smiles, [ETHANOL]) == pytest.approx(2 / 3)


def test_internal_diversity_follows_moses_definition():
    assert molecules.internal_diversity([ASPIRIN, ASPIRIN]) == 0.0
    smiles = [ASPIRIN, ETHANOL, BENZENE, "Clc1ccc(Br)cc1"]
    bits = molecules.morgan_fingerprints(smiles).astype(float)
    # Tanimoto over every pair, each molecule with itself included.
    shared = bits @ bits.T
    tanimoto = shared / (bits.sum(1)[:, None] + bits.sum(1) - shared)
    for p in (1, 2):
        expected = 1 - np.mean(np.mean(tanimoto**p, axis=1) ** (1 / p))
        assert molecules.internal_diversity(smiles, p=p) == pytest.approx(
            expected, rel=1e-6
        )
    # Invalid strings are left out, as MOSES scores valid molecules.
    assert molecules.internal_diversity(smiles + ["C(C"]) == pytest.approx(
        molecules.internal_diversity(smiles), rel=1e-6
    )


def test_morgan_fingerprints_are_the_ones_moses_computes():
    import warnings

    from rdkit import Chem
    from rdkit import DataStructs
    from rdkit.Chem import AllChem

    expected = np.zeros(1024, "uint8")
    with warnings.catch_warnings():
        # MOSES' call, which RDKit now deprecates for the generators.
        warnings.simplefilter("ignore", DeprecationWarning)
        fingerprint = AllChem.GetMorganFingerprintAsBitVect(
            Chem.MolFromSmiles(ASPIRIN), 2, nBits=1024
        )
    DataStructs.ConvertToNumpyArray(fingerprint, expected)
    np.testing.assert_array_equal(
        molecules.morgan_fingerprints([ASPIRIN])[0], expected
    )


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="not one str"):
        molecules.validity(ETHANOL)
    with pytest.raises(ValueError, match="only str"):
        molecules.validity([ETHANOL, 3])
    with pytest.raises(ValueError, match="no valid molecule"):
        molecules.novelty(["C(C"], [ETHANOL])
    with pytest.raises(ValueError, match="`p` must be 1 or 2"):
        molecules.internal_diversity([ETHANOL], p=3)
