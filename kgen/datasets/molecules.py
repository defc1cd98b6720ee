"""Molecule datasets, read offline from wheels' package data: MOSES'
SMILES strings (the `molsets` wheel) and antimicrobial peptides (the
`modlamp` wheel). Neither package is imported: their dependencies pin
versions that do not install."""

import csv
import gzip

import numpy as np

from kgen.utils.wheel_data import wheel_data_file

MOLECULE_DATASETS = ("moses",)
# MOSES' splits (Polykovskiy et al. 2020): 1,584,663 training molecules,
# 176,074 test molecules, and 176,225 test molecules whose Bemis-Murcko
# scaffolds no training molecule has.
MOSES_SPLITS = ("train", "test", "test_scaffolds")
_INSTALL = {
    "molsets": "pip install --no-deps molsets==0.3.1 (its pinned "
    "pomegranate==0.12.0 does not build, moses issue 104; kgen reads only "
    "its data files)",
    "modlamp": "pip install --no-deps modlamp==4.3.3 (kgen reads only its "
    "data files)",
}
PEPTIDE_SPLITS = ("train", "test")
# A fixed tenth of each class of modlAMP's AMPvsUniProt is held out, for
# a classifier that judges generated peptides.
_PEPTIDE_TEST_FRACTION = 0.1


def load_molecules(name="moses", split="train"):
    """A molecule dataset's SMILES strings.

    MOSES' files are read from the installed `molsets` distribution's
    package data (`moses/dataset/data/<split>.csv.gz`); the `moses`
    package itself is never imported, as its dependencies do not install.

    Args:
        name: `"moses"`.
        split: `"train"`, `"test"` or `"test_scaffolds"`.

    Returns:
        A 1-D object array of SMILES `str`, in the file's order.

    Raises:
        ValueError: an unknown `name` or `split`.
        FileNotFoundError: `molsets` is not installed, saying how to
            install it.

    Example:

    ```python
    test = kgen.datasets.load_molecules("moses", split="test")
    len(test)  # 176075
    ```
    """
    if name not in MOLECULE_DATASETS:
        raise ValueError(
            f"Unknown molecule dataset {name!r}; available: "
            f"{list(MOLECULE_DATASETS)}."
        )
    if split not in MOSES_SPLITS:
        raise ValueError(
            f"`split` must be one of {list(MOSES_SPLITS)}; received {split!r}."
        )
    path = moses_data_file(f"{split}.csv.gz")
    with gzip.open(path, "rt", newline="") as file:
        rows = csv.reader(file)
        header = next(rows)
        if header[:1] != ["SMILES"]:
            raise ValueError(
                f"{path}: expected a SMILES column first; its header is "
                f"{header!r}."
            )
        # Python strings, not a fixed-width unicode array: 1.6M SMILES of
        # up to 57 characters would take 360 MB as `<U57`.
        return np.array([row[0] for row in rows], dtype=object)


def moses_data_file(filename):
    """The path of one of MOSES' data files (`train.csv.gz`,
    `test_stats.npz`, ...) in the installed `molsets` distribution."""
    return _package_data("molsets", f"moses/dataset/data/{filename}")


def load_moses_statistics(split="test"):
    """MOSES' stored statistics of a test split, which its metrics
    compare generated molecules with (`test_stats.npz`).

    Args:
        split: `"test"` or `"test_scaffolds"`.

    Returns:
        dict: `fcd_mean` `(512,)` and `fcd_covariance` `(512, 512)`
        (ChemNet's features), `fingerprints` `(n, 1024)` uint8 (Morgan,
        radius 2, for SNN), `fragments` and `scaffolds` (dicts of BRICS
        fragment and Bemis-Murcko scaffold SMILES -> molecule counts).
    """
    if split not in ("test", "test_scaffolds"):
        raise ValueError(
            f"`split` must be 'test' or 'test_scaffolds'; received {split!r}."
        )
    path = moses_data_file(f"{split}_stats.npz")
    # MOSES pickled a dict of arrays and Counters into the file, so it
    # loads only with pickles allowed; it is the installed wheel's own
    # data, never a downloaded file.
    with np.load(path, allow_pickle=True) as archive:
        stats = archive["stats"].item()
    return {
        "fcd_mean": np.asarray(stats["FCD"]["mu"], "float64"),
        "fcd_covariance": np.asarray(stats["FCD"]["sigma"], "float64"),
        "fingerprints": np.asarray(stats["SNN"]["fps"], "uint8"),
        "fragments": dict(stats["Frag"]["frag"]),
        "scaffolds": dict(stats["Scaf"]["scaf"]),
    }


def moses_filter_smarts():
    """The SMARTS patterns of MOSES' filters: its medicinal chemistry
    filters (`mcf.csv`) and the PAINS filters (`wehi_pains.csv`), as
    shipped in the `molsets` wheel."""
    patterns = []
    for filename, column in (("mcf.csv", 1), ("wehi_pains.csv", 0)):
        path = _package_data("molsets", f"moses/metrics/{filename}")
        with open(path, newline="") as file:
            rows = list(csv.reader(file))
        if filename == "mcf.csv":
            rows = rows[1:]  # its header; PAINS' file has none
        patterns += [row[column].strip() for row in rows if row]
    return patterns


def load_peptides(split="train"):
    """Antimicrobial peptides against random UniProt sequences.

    modlAMP's `AMPvsUniProt` set (Müller et al. 2017): peptides of the
    APD3 database and UniProt sequences of 7 to 174 residues (94% at
    most 50), in the 20 standard amino acids' one-letter codes, read from
    the installed
    `modlamp` distribution's package data. Each distinct sequence counts
    once (2,540 antimicrobial, 2,080 UniProt), and a fixed tenth of each
    class is the `"test"` split.

    Args:
        split: `"train"` (4,158 sequences) or `"test"` (462).

    Returns:
        `(sequences, labels)`: a 1-D object array of str, and int64 labels,
        1 for antimicrobial, 0 for UniProt.

    Raises:
        ValueError: an unknown `split`.
        FileNotFoundError: `modlamp` is not installed, saying how to
            install it.
    """
    if split not in PEPTIDE_SPLITS:
        raise ValueError(
            f"`split` must be one of {list(PEPTIDE_SPLITS)}; received "
            f"{split!r}."
        )
    path = _package_data("modlamp", "modlamp/data/AMPvsUniProt.csv")
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    # An sklearn-style header: count, features, then the class names.
    if rows[0][2:] != ["UniProt", "AMP"]:
        raise ValueError(
            f"{path}: expected the classes UniProt and AMP; its header is "
            f"{rows[0]!r}."
        )
    # The file repeats 222 sequences (780 rows), 22 of them under both
    # labels: each distinct sequence is kept once, and the 22 left out,
    # so that no sequence is in both splits and none has two labels.
    labelled = {}
    for row in rows[1:]:
        labelled.setdefault(row[0].strip(), set()).add(int(row[1]))
    kept = sorted(
        (sequence, labels.pop())
        for sequence, labels in labelled.items()
        if len(labels) == 1
    )
    sequences = np.array([sequence for sequence, _ in kept], dtype=object)
    labels = np.array([label for _, label in kept], dtype="int64")
    test = np.zeros(len(labels), bool)
    rng = np.random.default_rng(0)
    for label in (0, 1):
        members = np.flatnonzero(labels == label)
        count = int(round(len(members) * _PEPTIDE_TEST_FRACTION))
        test[rng.choice(members, count, replace=False)] = True
    keep = test if split == "test" else ~test
    return sequences[keep], labels[keep]


def _package_data(distribution_name, relative_path):
    return wheel_data_file(
        distribution_name,
        relative_path,
        "This dataset comes",
        _INSTALL[distribution_name],
    )
