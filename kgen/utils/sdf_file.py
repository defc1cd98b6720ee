"""Molecules as `.sdf` files (MDL's structure-data format), the format
chemistry tools exchange 3-D molecules in, written and read with RDKit
(`pip install rdkit`, or kgen's `chem` extra)."""

import numpy as np

from kgen.utils.atomic_file import atomic_file
from kgen.utils.unreadable_file_error import UnreadableFileError
from kgen.utils.xyz_file import check_molecule
from kgen.utils.xyz_file import one_line_each
from kgen.utils.xyz_file import xyz_block


def write_sdf(path, molecules, names=None):
    """Writes `molecules` to `path` as one `.sdf` file, whole or not at all
    (`atomic_file`), with their bonds where RDKit perceives them.

    Bonds and their orders come from RDKit's `rdDetermineBonds` for a
    neutral molecule. A molecule RDKit finds no valid bonding for is
    written with its atoms and no bonds (its `bonds` field says
    `"none"`), so that the file holds every molecule, in order, and RDKit
    reads it back whole.

    Args:
        path: str or path-like.
        molecules: a list of `(elements, positions)`: element symbols and
            an `(atoms, 3)` array of finite angstroms.
        names: `None`, or one title line per molecule.

    Raises:
        ValueError: an unknown element or positions that are not finite
            or not `(atoms, 3)` (named by their molecule).
        ImportError: RDKit is not installed.
    """
    chem, _ = rdkit_modules()
    names = one_line_each(names, len(molecules), "names")
    blocks = []
    for index, ((elements, positions), name) in enumerate(
        zip(molecules, names)
    ):
        elements = list(elements)
        positions = np.asarray(positions, "float64")
        check_molecule(index, elements, positions)
        molecule = bonded_molecule(elements, positions)
        bonds = "perceived"
        if molecule is None:
            molecule = chem.MolFromXYZBlock(xyz_block(elements, positions))
            bonds = "none"
        molecule.SetProp("_Name", str(name))
        molecule.SetProp("bonds", bonds)
        block = chem.MolToMolBlock(molecule, kekulize=False)
        properties = f">  <bonds>\n{bonds}\n\n"
        blocks.append(block + properties + "$$$$\n")
    with atomic_file(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write("".join(blocks))


def read_sdf(path):
    """The molecules of an `.sdf` file, as `(elements, positions)`.

    Raises:
        FileNotFoundError: no file at `path`.
        UnreadableFileError: a record RDKit cannot read (naming its
            position in the file).
        ImportError: RDKit is not installed.
    """
    chem, _ = rdkit_modules()
    with open(path, "rb"):
        pass  # FileNotFoundError, named as the standard library names it
    supplier = chem.SDMolSupplier(str(path), sanitize=False, removeHs=False)
    molecules = []
    for index, molecule in enumerate(supplier):
        if molecule is None or molecule.GetNumConformers() == 0:
            raise UnreadableFileError(
                f"{path}: record {index} is not a molecule with coordinates."
            )
        elements = [atom.GetSymbol() for atom in molecule.GetAtoms()]
        positions = molecule.GetConformer().GetPositions()
        molecules.append((elements, np.asarray(positions, "float64")))
    return molecules


def bonded_molecule(elements, positions):
    """RDKit's molecule of atoms alone, its bonds and their orders
    perceived by `rdDetermineBonds` for a neutral molecule and then
    sanitized; `None` where RDKit finds no valid bonding."""
    chem, determine_bonds = rdkit_modules()
    molecule = chem.MolFromXYZBlock(xyz_block(elements, positions))
    if molecule is None:
        return None
    try:
        determine_bonds.DetermineBonds(molecule, charge=0)
        chem.SanitizeMol(molecule)
    except (ValueError, RuntimeError):
        return None
    return molecule


def rdkit_modules():
    """`(Chem, rdDetermineBonds)`, RDKit's parts for molecules in 3-D,
    imported when first used (not with `kgen.utils`)."""
    try:
        from rdkit import Chem
        from rdkit import RDLogger
        from rdkit.Chem import rdDetermineBonds
    except ImportError:
        raise ImportError(
            "Molecules in 3-D (.sdf files, their measures) need RDKit: "
            "pip install rdkit (or pip install 'kgen[chem]')."
        ) from None
    # A molecule RDKit cannot bond is a result here, not a message.
    RDLogger.DisableLog("rdApp.*")
    return Chem, rdDetermineBonds
