"""`kgen.metrics.peptides`: descriptors, their distances, the AMP
classifier and the peptide table (host-side NumPy and scikit-learn: one
backend proves it)."""

import numpy as np
import pytest

import kgen
from kgen.metrics import peptides

pytestmark = pytest.mark.tensorflow_only


def _peptides_or_skip(split):
    try:
        return kgen.datasets.load_peptides(split)
    except FileNotFoundError as error:
        pytest.skip(str(error))


def test_descriptors_of_known_peptides():
    descriptors = peptides.peptide_descriptors(
        ["KKKKK", "DDDDD", "GGGG", "IL", "FWYA", "KRAA", "L" * 18]
    )
    charge = descriptors["net_charge"]
    # Lysines and aspartates are nearly fully charged at pH 7.4; of a
    # neutral peptide only the termini are, the amine a little less.
    assert 4.8 < charge[0] < 5.0
    assert -5.1 < charge[1] < -5.0
    assert -0.1 < charge[2] < 0.0
    np.testing.assert_allclose(descriptors["hydrophobicity"][3], 1.22)
    np.testing.assert_allclose(descriptors["aromaticity"][4], 0.75)
    np.testing.assert_allclose(descriptors["cationic_fraction"][5], 0.5)
    np.testing.assert_array_equal(descriptors["length"], [5, 5, 4, 2, 4, 4, 18])
    # 18 residues turn 1,800 degrees, five whole turns: a uniform helix
    # has no moment, and an amphipathic one (hydrophobic on one face) has.
    assert descriptors["hydrophobic_moment"][6] < 1e-12
    amphipathic = peptides.peptide_descriptors(["LKKLLKLLKKLLKLLKKL"])
    assert amphipathic["hydrophobic_moment"][0] > 0.5


def test_wasserstein_distance_equals_scipys():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 300), rng.normal(0.5, 2, 170)
    np.testing.assert_allclose(
        peptides.wasserstein_distance(a, b),
        stats.wasserstein_distance(a, b),
        rtol=1e-12,
    )
    assert peptides.wasserstein_distance(a, a) == 0.0


def test_the_amp_classifier_tells_held_out_peptides_apart():
    train, train_labels = _peptides_or_skip("train")
    test, test_labels = _peptides_or_skip("test")
    classifier = peptides.amp_classifier(train, train_labels)
    predicted = classifier.predict(peptides.peptide_features(test))
    assert np.mean(predicted == test_labels) > 0.85
    amp = test[test_labels == 1]
    assert peptides.antimicrobial_fraction(amp, classifier) > 0.85
    table = peptides.peptide_metrics(
        list(amp) + ["", "KXK"], train, test, classifier
    )
    assert table["validity"] == len(amp) / (len(amp) + 2)
    assert table["uniqueness"] == 1.0 and table["novelty"] == 1.0
    assert table["antimicrobial_fraction"] > 0.85
    # Training AMPs lie nearer held-out AMPs than held-out UniProt
    # sequences in charge and cationic residues, what makes an AMP.
    train_amp = train[train_labels == 1]
    to_amp = peptides.descriptor_distances(train_amp, amp)
    to_uniprot = peptides.descriptor_distances(
        train_amp, test[test_labels == 0]
    )
    for name in ("net_charge", "cationic_fraction"):
        assert to_amp[name] < 0.5 * to_uniprot[name]
    assert peptides.peptide_metrics(train[:50], train, test)["novelty"] == 0


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="sequences\\[1\\].*not a peptide"):
        peptides.peptide_descriptors(["GLK", "GLB"])
    with pytest.raises(ValueError, match="sequences\\[0\\].*not a peptide"):
        peptides.composition(["GLB"])
    with pytest.raises(ValueError, match="`sequences` must be a list"):
        peptides.peptide_descriptors("GLK")
    with pytest.raises(ValueError, match="`reference` holds no valid"):
        peptides.descriptor_distances(["GLK"], [""])
    with pytest.raises(ValueError, match="`labels` must be 2 values"):
        peptides.amp_classifier(["GLK", "KKL"], [0, 2])
