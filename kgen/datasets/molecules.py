"""Molecule datasets as SMILES strings: MOSES, read offline from the
`molsets` wheel's package data."""

import csv
import gzip
import importlib.metadata

import numpy as np

MOLECULE_DATASETS = ("moses",)
# MOSES' splits (Polykovskiy et al. 2020): 1,584,663 training molecules,
# 176,074 test molecules, and 176,225 test molecules whose Bemis-Murcko
# scaffolds no training molecule has.
MOSES_SPLITS = ("train", "test", "test_scaffolds")
_INSTALL = (
    "pip install --no-deps molsets==0.3.1 (its pinned pomegranate==0.12.0 "
    "does not build, moses issue 104; kgen reads only its data files)"
)


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
    try:
        distribution = importlib.metadata.distribution("molsets")
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"MOSES' data comes with the molsets wheel; {_INSTALL}."
        ) from None
    path = distribution.locate_file(f"moses/dataset/data/{filename}")
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: not in the installed molsets "
            f"{distribution.version}; {_INSTALL}."
        )
    return str(path)
