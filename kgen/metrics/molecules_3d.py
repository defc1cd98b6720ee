"""Measures of molecules generated in 3-D, read from their elements and
coordinates alone, as EDM (Hoogeboom et al. 2022) reports them on QM9:

- **atom stability**: the share of atoms whose bonds, perceived from
  interatomic distances, add up to the element's valence;
- **molecule stability**: the share of molecules whose every atom is
  stable;
- **validity**: the share RDKit makes a sanitizable molecule of, its
  bonds perceived by RDKit's own `rdDetermineBonds` (connectivity from
  covalent radii, then bond orders for a neutral molecule);
- **uniqueness**: distinct canonical SMILES among the valid ones;
- **novelty**: the share of unique ones not in the training SMILES.

The bond rule for stability is kgen's, from typical bond lengths (Allen
et al. 1987, the tables of chemistry handbooks): two atoms are bonded
with order 3, 2 or 1 when their distance is within a margin of that
order's typical length, the highest order first. Margins grow from
triple to single bonds, whose lengths vary most.
"""

import numpy as np

from kgen.utils.sdf_file import bonded_molecule
from kgen.utils.sdf_file import rdkit_modules

# Typical bond lengths in angstroms, by unordered element pair: single,
# double, triple (0 where the pair has no such bond).
BOND_LENGTHS = {
    ("H", "H"): (0.74, 0, 0),
    ("C", "H"): (1.09, 0, 0),
    ("H", "N"): (1.01, 0, 0),
    ("H", "O"): (0.96, 0, 0),
    ("F", "H"): (0.92, 0, 0),
    ("C", "C"): (1.54, 1.34, 1.20),
    ("C", "N"): (1.47, 1.29, 1.16),
    ("C", "O"): (1.43, 1.20, 1.13),
    ("C", "F"): (1.35, 0, 0),
    ("N", "N"): (1.45, 1.25, 1.10),
    ("N", "O"): (1.40, 1.21, 0),
    ("F", "N"): (1.36, 0, 0),
    ("O", "O"): (1.48, 1.21, 0),
    ("F", "O"): (1.42, 0, 0),
    ("F", "F"): (1.42, 0, 0),
}
# How far above a typical length a bond of each order may be (single,
# double, triple), angstroms.
BOND_MARGINS = (0.10, 0.05, 0.03)
VALENCES = {"H": 1, "C": 4, "N": 3, "O": 2, "F": 1}


def bond_orders(elements, positions):
    """The perceived bond order of every pair of atoms.

    Args:
        elements: a list of element symbols (H, C, N, O, F).
        positions: `(atoms, 3)` angstroms.

    Returns:
        int `(atoms, atoms)`, symmetric: 0 (no bond), 1, 2 or 3.
    """
    positions = np.asarray(positions, "float64")
    _check_molecule(elements, positions)
    distances = np.linalg.norm(
        positions[:, None, :] - positions[None, :, :], axis=-1
    )
    orders = np.zeros(distances.shape, "int64")
    for i in range(len(elements)):
        for j in range(i + 1, len(elements)):
            lengths = BOND_LENGTHS.get(
                tuple(sorted((elements[i], elements[j])))
            )
            if lengths is None:
                continue
            for order in (3, 2, 1):
                length = lengths[order - 1]
                if (
                    length
                    and distances[i, j] < length + BOND_MARGINS[order - 1]
                ):
                    orders[i, j] = orders[j, i] = order
                    break
    return orders


def stability(molecules):
    """Atom and molecule stability of `molecules`.

    Args:
        molecules: a list of `(elements, positions)`.

    Returns:
        A dict of `atom_stability` and `molecule_stability`, in [0, 1].
    """
    molecules = _checked(molecules)
    stable_atoms = num_atoms = stable_molecules = 0
    for elements, positions in molecules:
        valence = bond_orders(elements, positions).sum(axis=1)
        expected = np.array([VALENCES[e] for e in elements])
        stable = valence == expected
        stable_atoms += int(stable.sum())
        num_atoms += len(elements)
        stable_molecules += bool(stable.all())
    return {
        "atom_stability": stable_atoms / num_atoms,
        "molecule_stability": stable_molecules / len(molecules),
    }


def rdkit_smiles(elements, positions):
    """RDKit's canonical SMILES of a molecule given by its atoms alone,
    its bonds and their orders perceived by `rdDetermineBonds` for a
    neutral molecule, then sanitized; `None` where RDKit finds no valid
    molecule. The largest fragment where RDKit finds several, as EDM;
    hydrogens implicit, without stereochemistry."""
    chem, _ = rdkit_modules()
    positions = np.asarray(positions, "float64")
    _check_molecule(elements, positions)
    molecule = bonded_molecule(elements, positions)
    if molecule is None:
        return None
    fragments = chem.GetMolFrags(molecule, asMols=True)
    largest = max(fragments, key=lambda f: f.GetNumAtoms())
    # Stereochemistry is read off any 3-D geometry, but QM9's SMILES and
    # EDM's uniqueness ignore it: mirror images are one molecule here.
    # Without it no hydrogen defines a stereo bond, so all go implicit.
    chem.RemoveStereochemistry(largest)
    return chem.MolToSmiles(chem.RemoveHs(largest), isomericSmiles=False)


def molecules_3d_metrics(molecules, training_smiles=None):
    """Stability, validity, uniqueness and (with `training_smiles`)
    novelty of `molecules`, EDM's table on QM9.

    Args:
        molecules: a list of `(elements, positions)`, such as
            `molecules_from_arrays` of a model's samples.
        training_smiles: `None`, or the training split's SMILES (any
            form RDKit reads; canonicalized here).

    Returns:
        A dict of `atom_stability`, `molecule_stability`, `validity`,
        `uniqueness` (among the valid) and, with `training_smiles`,
        `novelty` (among the unique), each in [0, 1].

    Example:

    ```python
    train = kgen.datasets.load_qm9("train", max_molecules=50)
    molecules = kgen.metrics.molecules_from_arrays(
        train["atom_types"], train["positions"], train["atom_mask"]
    )
    kgen.metrics.molecules_3d_metrics(molecules)["atom_stability"]
    ```
    """
    molecules = _checked(molecules)
    result = stability(molecules)
    smiles = [rdkit_smiles(e, p) for e, p in molecules]
    valid = [s for s in smiles if s is not None]
    result["validity"] = len(valid) / len(molecules)
    unique = set(valid)
    result["uniqueness"] = len(unique) / len(valid) if valid else 0.0
    if training_smiles is not None:
        chem, _ = rdkit_modules()
        known = set()
        for text in training_smiles:
            molecule = chem.MolFromSmiles(str(text))
            if molecule is not None:
                known.add(chem.MolToSmiles(molecule, isomericSmiles=False))
        result["novelty"] = len(unique - known) / len(unique) if unique else 0.0
    return result


def molecules_from_arrays(atom_types, positions, atom_mask, elements=None):
    """`(elements, positions)` of each row of padded arrays (QM9's layout:
    `kgen.datasets.load_qm9`, a model's samples).

    Args:
        atom_types: int `(n, atoms)`, indices into `elements`.
        positions: `(n, atoms, 3)`.
        atom_mask: `(n, atoms)`, the atoms each row has.
        elements: the symbols the indices name; default QM9's (H, C, N,
            O, F).
    """
    if elements is None:
        from kgen.datasets.qm9 import QM9_ELEMENTS as elements
    atom_types = np.asarray(atom_types)
    positions = np.asarray(positions, "float64")
    atom_mask = np.asarray(atom_mask).astype(bool)
    if not (
        atom_types.shape == atom_mask.shape == positions.shape[:-1]
        and positions.ndim == 3
        and positions.shape[-1] == 3
    ):
        raise ValueError(
            "`atom_types` (n, atoms), `positions` (n, atoms, 3) and "
            f"`atom_mask` (n, atoms) must agree; received {atom_types.shape}, "
            f"{positions.shape} and {atom_mask.shape}."
        )
    kept = atom_types[atom_mask]
    if kept.size and not 0 <= kept.min() <= kept.max() < len(elements):
        raise ValueError(
            f"`atom_types` must index the {len(elements)} elements "
            f"{list(elements)}; received values in [{kept.min()}, "
            f"{kept.max()}]."
        )
    return [
        ([elements[t] for t in types[mask]], where[mask])
        for types, where, mask in zip(atom_types, positions, atom_mask)
    ]


def _checked(molecules):
    molecules = list(molecules)
    if not molecules:
        raise ValueError("`molecules` must hold at least one molecule.")
    for elements, positions in molecules:
        _check_molecule(elements, np.asarray(positions, "float64"))
    return molecules


def _check_molecule(elements, positions):
    if not len(elements):
        raise ValueError(
            "A molecule must have at least one atom; received none (an "
            "all-masked row?)."
        )
    unknown = sorted(set(elements) - set(VALENCES))
    if unknown:
        raise ValueError(
            f"Unknown elements {unknown[:5]}: the 3-D measures know "
            f"{sorted(VALENCES)}."
        )
    if positions.shape != (len(elements), 3):
        raise ValueError(
            f"`positions` must be ({len(elements)}, 3) for {len(elements)} "
            f"elements; received {positions.shape}."
        )
    if not np.isfinite(positions).all():
        raise ValueError("`positions` must be finite; they hold NaN or inf.")
