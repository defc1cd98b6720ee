"""`kgen.metrics.molecules`: MOSES' metrics (needs RDKit; skipped
without; those against MOSES' data need `molsets`, FCD's need `fcd`)."""

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


def test_moses_metrics_gathers_the_table():
    smiles = [ETHANOL, "OCC", BENZENE, "C(C", ASPIRIN]
    table = molecules.moses_metrics(smiles, [ETHANOL])
    assert table["validity"] == pytest.approx(4 / 5)
    assert table["unique_at_1k"] == table["unique_at_10k"] == 3 / 4
    assert table["novelty"] == pytest.approx(2 / 3)
    assert table["internal_diversity_1"] == pytest.approx(
        molecules.internal_diversity(smiles)
    )
    nothing = molecules.moses_metrics(["C(C", ""], [ETHANOL])
    assert nothing["validity"] == 0
    assert np.isnan(nothing["novelty"])


def test_properties_are_rdkits_qed_and_logp():
    from rdkit import Chem
    from rdkit.Chem import QED
    from rdkit.Chem import Crippen

    qed = molecules.properties([ASPIRIN, "C(C", BENZENE])
    assert qed[0] == pytest.approx(QED.qed(Chem.MolFromSmiles(ASPIRIN)))
    assert np.isnan(qed[1]) and 0 < qed[2] < 1
    logp = molecules.properties([ETHANOL], "logp")
    assert logp[0] == Crippen.MolLogP(Chem.MolFromSmiles(ETHANOL))
    with pytest.raises(ValueError, match="`name` must be one of"):
        molecules.properties([ETHANOL], "weight")


def _moses_or_skip(split="test", count=200):
    import kgen

    try:
        return list(kgen.datasets.load_molecules("moses", split)[:count])
    except FileNotFoundError as error:
        pytest.skip(str(error))


def _chemnet_or_skip():
    from kgen.metrics.chemnet_features import chemnet_weights_file

    try:
        chemnet_weights_file()
    except FileNotFoundError as error:
        pytest.skip(str(error))


def test_fcd_equals_the_fcd_package():
    fcd = pytest.importorskip("fcd", reason="the fcd package (and torch)")
    _chemnet_or_skip()
    smiles = _moses_or_skip(count=400)
    generated, reference = smiles[:200], smiles[200:]
    expected = fcd.get_fcd(generated, reference, device="cpu")
    ours = molecules.frechet_chemnet_distance(generated, reference)
    assert ours == pytest.approx(expected, rel=1e-3)
    # The features themselves, which fcd feeds padded to 350 symbols.
    from kgen.metrics import chemnet
    from kgen.metrics import chemnet_inputs

    features = chemnet().predict_on_batch(chemnet_inputs(generated[:16]))
    model = fcd.load_ref_model()
    theirs = fcd.get_predictions(model, generated[:16], device="cpu")
    np.testing.assert_allclose(features, theirs, atol=2e-4)


def test_moses_test_statistics_agree_with_the_metrics_definitions():
    import kgen

    smiles = _moses_or_skip(count=100)
    try:
        stats = kgen.datasets.load_moses_statistics("test")
    except FileNotFoundError as error:
        pytest.skip(str(error))
    # The stored fingerprints are the test molecules', in order, and
    # every fragment and scaffold counted here is counted there.
    np.testing.assert_array_equal(
        molecules.morgan_fingerprints(smiles), stats["fingerprints"][:100]
    )
    for counts, stored in (
        (molecules.fragment_counts(smiles), stats["fragments"]),
        (molecules.scaffold_counts(smiles), stats["scaffolds"]),
    ):
        assert counts and all(stored.get(k, 0) >= n for k, n in counts.items())
    # A test molecule's nearest test neighbour is itself.
    similarity = molecules.nearest_neighbour_similarity(
        smiles[:10], stats["fingerprints"][:100]
    )
    assert similarity == pytest.approx(1.0)
    # MOSES' sets passed its own filters; a charged atom does not.
    patterns = kgen.datasets.moses_filter_smarts()
    assert molecules.passes_filters(smiles, patterns).all()
    assert not molecules.passes_filters(["C[N+](C)(C)C", "C(C"], patterns).any()


def test_count_similarity_is_the_cosine_of_the_counts():
    assert molecules.count_similarity({"a": 1}, {"a": 3}) == pytest.approx(1)
    assert molecules.count_similarity({"a": 1}, {"b": 1}) == 0
    similarity = molecules.count_similarity({"a": 1, "b": 1}, {"a": 1})
    assert similarity == pytest.approx(2**-0.5)
    assert np.isnan(molecules.count_similarity({}, {"a": 1}))
