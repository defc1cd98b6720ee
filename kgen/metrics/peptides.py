"""Metrics of generated peptides: validity, uniqueness and novelty of the
sequences, the distance of their physicochemical descriptors to a
reference set's, and the fraction an antimicrobial-peptide (AMP)
classifier, trained apart from the generator's scoring, calls
antimicrobial.

The descriptors are the global ones of modlAMP (Müller et al. 2017) and
of AMP design papers: length, net charge at pH 7.4, mean hydrophobicity
and hydrophobic moment on Eisenberg's consensus scale, aromaticity and
the fraction of cationic residues. They are a few lines of NumPy each,
so kgen computes them itself rather than importing modlAMP, whose
pinned dependencies do not install beside kgen's.
"""

import numpy as np

from kgen.tokenizers.amino_acid_tokenizer import AMINO_ACIDS
from kgen.tokenizers.token_ids import as_texts

# Eisenberg et al. 1984's normalised consensus hydrophobicity.
_EISENBERG = dict(
    A=0.62, R=-2.53, N=-0.78, D=-0.90, C=0.29, Q=-0.85, E=-0.74, G=0.48,
    H=-0.40, I=1.38, L=1.06, K=-1.50, M=0.64, F=1.19, P=0.12, S=-0.18,
    T=-0.05, W=0.81, Y=0.26, V=1.08,
)  # fmt: skip
# EMBOSS' pKa values: the ionisable side chains and the two termini.
_POSITIVE_PKA = {"K": 10.8, "R": 12.5, "H": 6.5}
_NEGATIVE_PKA = {"D": 3.9, "E": 4.1, "C": 8.5, "Y": 10.1}
_N_TERMINUS_PKA = 8.6
_C_TERMINUS_PKA = 3.6
_PH = 7.4  # physiological, where an AMP meets a membrane
# An alpha helix turns 100 degrees a residue: the angle of the
# hydrophobic moment (Eisenberg et al. 1982).
_HELIX_ANGLE = np.deg2rad(100.0)

DESCRIPTORS = (
    "length",
    "net_charge",
    "hydrophobicity",
    "hydrophobic_moment",
    "aromaticity",
    "cationic_fraction",
)


def _as_sequences(sequences, argument):
    if isinstance(sequences, str):
        raise ValueError(
            f"`{argument}` must be a list or array of peptide str, not one str."
        )
    sequences = as_texts(sequences, argument)
    if not sequences:
        raise ValueError(f"`{argument}` must hold at least one sequence.")
    return sequences


def is_peptide(sequence):
    """Whether `sequence` is a non-empty string of the 20 standard amino
    acids' one-letter codes."""
    return bool(sequence) and all(letter in AMINO_ACIDS for letter in sequence)


def _valid(sequences, argument):
    valid = [s for s in _as_sequences(sequences, argument) if is_peptide(s)]
    if not valid:
        raise ValueError(
            f"`{argument}` holds no valid peptide (a non-empty str of the "
            f"letters {AMINO_ACIDS})."
        )
    return valid


def _net_charge(sequence):
    """Henderson-Hasselbalch: the sum over ionisable groups of their
    charge's fraction at `_PH`,

        sum_pos 1 / (1 + 10^(pH - pKa)) - sum_neg 1 / (1 + 10^(pKa - pH)).
    """
    positive = [_N_TERMINUS_PKA] + [
        _POSITIVE_PKA[r] for r in sequence if r in _POSITIVE_PKA
    ]
    negative = [_C_TERMINUS_PKA] + [
        _NEGATIVE_PKA[r] for r in sequence if r in _NEGATIVE_PKA
    ]
    positive = 1.0 / (1.0 + 10.0 ** (_PH - np.array(positive)))
    negative = 1.0 / (1.0 + 10.0 ** (np.array(negative) - _PH))
    return float(positive.sum() - negative.sum())


def _hydrophobic_moment(values):
    """Eisenberg's moment of a helix, per residue:

    |sum_n h_n exp(i n theta)| / N,  theta = 100 degrees.
    """
    angles = _HELIX_ANGLE * np.arange(len(values))
    return float(np.abs(np.sum(values * np.exp(1j * angles))) / len(values))


def _peptides(sequences):
    """`sequences` as a list of str, refusing any that is not a peptide."""
    sequences = _as_sequences(sequences, "sequences")
    for index, sequence in enumerate(sequences):
        if not is_peptide(sequence):
            raise ValueError(
                f"`sequences[{index}]` ({sequence!r:.60}) is not a peptide "
                f"of the letters {AMINO_ACIDS}."
            )
    return sequences


def peptide_descriptors(sequences):
    """The global physicochemical descriptors of each peptide.

    Args:
        sequences: list or array of peptide str (the 20 standard amino
            acids' one-letter codes).

    Returns:
        dict `DESCRIPTORS` name -> float64 array `(len(sequences),)`:
        `length` (residues), `net_charge` (at pH 7.4),
        `hydrophobicity` (mean, Eisenberg's consensus scale),
        `hydrophobic_moment` (per residue, 100 degrees a residue),
        `aromaticity` (fraction of F, W, Y) and `cationic_fraction`
        (fraction of K, R).

    Raises:
        ValueError: for a sequence that is not a peptide, naming it.
    """
    rows = []
    for sequence in _peptides(sequences):
        scale = np.array([_EISENBERG[r] for r in sequence])
        rows.append(
            (
                len(sequence),
                _net_charge(sequence),
                scale.mean(),
                _hydrophobic_moment(scale),
                sum(r in "FWY" for r in sequence) / len(sequence),
                sum(r in "KR" for r in sequence) / len(sequence),
            )
        )
    columns = np.array(rows, dtype="float64").T
    return dict(zip(DESCRIPTORS, columns))


def composition(sequences):
    """`(len(sequences), 20)` fractions of each amino acid (in
    `AMINO_ACIDS` order) in each peptide.

    Raises:
        ValueError: for a sequence that is not a peptide, naming it.
    """
    sequences = _peptides(sequences)
    index = {letter: i for i, letter in enumerate(AMINO_ACIDS)}
    counts = np.zeros((len(sequences), len(AMINO_ACIDS)))
    for row, sequence in enumerate(sequences):
        for letter in sequence:
            counts[row, index[letter]] += 1
        counts[row] /= len(sequence)
    return counts


def wasserstein_distance(values, reference):
    """The 1-Wasserstein (earth mover's) distance between two 1-D
    samples: the area between their empirical distribution functions,

        W1 = integral |F(x) - G(x)| dx.
    """
    values = np.sort(np.asarray(values, "float64"))
    reference = np.sort(np.asarray(reference, "float64"))
    if not len(values) or not len(reference):
        raise ValueError("Both samples must hold at least one value.")
    points = np.sort(np.concatenate([values, reference]))
    widths = np.diff(points)
    cdf = np.searchsorted(values, points[:-1], "right") / len(values)
    reference_cdf = np.searchsorted(reference, points[:-1], "right") / len(
        reference
    )
    return float(np.sum(np.abs(cdf - reference_cdf) * widths))


def descriptor_distances(sequences, reference):
    """The Wasserstein-1 distance of each descriptor's distribution over
    the valid peptides of `sequences` to its distribution over
    `reference` (in the descriptor's own unit: residues, charges, ...).

    Returns:
        dict `DESCRIPTORS` name -> float.
    """
    generated = peptide_descriptors(_valid(sequences, "sequences"))
    held = peptide_descriptors(_valid(reference, "reference"))
    return {
        name: wasserstein_distance(generated[name], held[name])
        for name in DESCRIPTORS
    }


def peptide_features(sequences):
    """What `amp_classifier` reads of each peptide: its amino-acid
    composition (20) and its descriptors (6), `(n, 26)` float64."""
    descriptors = peptide_descriptors(sequences)
    return np.concatenate(
        [composition(sequences)]
        + [descriptors[name][:, None] for name in DESCRIPTORS],
        axis=1,
    )


def amp_classifier(sequences, labels, seed=0):
    """A random forest (scikit-learn; 300 trees) telling antimicrobial
    peptides (label 1) from others (0) by `peptide_features`, as modlAMP's
    own examples classify AMPs.

    Train it on data the generator is not scored on (the `"train"` split
    of `kgen.datasets.load_peptides` when the generator's scores are read
    against `"test"`), and read its accuracy on held-out peptides before
    trusting what it calls antimicrobial.

    Returns:
        a fitted `sklearn.ensemble.RandomForestClassifier`.
    """
    from sklearn.ensemble import RandomForestClassifier

    features = peptide_features(sequences)
    labels = np.asarray(labels)
    if labels.shape != (len(features),) or not np.isin(labels, (0, 1)).all():
        raise ValueError(
            f"`labels` must be {len(features)} values, each 0 or 1; "
            f"received shape {labels.shape}."
        )
    classifier = RandomForestClassifier(
        n_estimators=300, min_samples_leaf=2, random_state=seed, n_jobs=1
    )
    return classifier.fit(features, labels)


def antimicrobial_fraction(sequences, classifier):
    """The fraction of the valid peptides of `sequences` that
    `classifier` (`amp_classifier`) calls antimicrobial."""
    features = peptide_features(_valid(sequences, "sequences"))
    return float(np.mean(classifier.predict(features) == 1))


def peptide_metrics(sequences, training, reference, classifier=None):
    """A generated peptide set's table.

    Args:
        sequences: the generated sequences (an empty or non-peptide
            string counts as invalid).
        training: the generator's training sequences (novelty).
        reference: held-out sequences (descriptor distances).
        classifier: an `amp_classifier`, or `None` to leave out
            `antimicrobial_fraction`.

    Returns:
        dict: `validity` (the fraction that are peptides), `uniqueness`
        and `novelty` (of the valid ones: distinct, and not in
        `training`), `descriptor_w1_<name>` for each of `DESCRIPTORS`
        against `reference`, and `antimicrobial_fraction`.
    """
    sequences = _as_sequences(sequences, "sequences")
    valid = [s for s in sequences if is_peptide(s)]
    table = {"validity": len(valid) / len(sequences)}
    if not valid:
        return table
    distinct = set(valid)
    table["uniqueness"] = len(distinct) / len(valid)
    known = set(_as_sequences(training, "training"))
    table["novelty"] = len(distinct - known) / len(distinct)
    for name, value in descriptor_distances(valid, reference).items():
        table[f"descriptor_w1_{name}"] = value
    if classifier is not None:
        table["antimicrobial_fraction"] = antimicrobial_fraction(
            valid, classifier
        )
    return table
