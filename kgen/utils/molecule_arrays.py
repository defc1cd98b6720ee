"""Molecules in 3-D as arrays: padded positions, atom types and a mask
(`kgen.datasets.load_qm9`'s layout, and what a 3-D model takes and
returns), checked once for the models that train on them and the
measures that read them."""

import numpy as np

from kgen.utils.data_validation import host_array

# The arrays of a batch of molecules, by name.
MOLECULE_KEYS = ("positions", "atom_types", "atom_mask")


def check_molecules(molecules, num_atom_types, max_atoms, argument="x"):
    """Checks a dict of molecule arrays and returns it as NumPy:
    positions float32 `(n, max_atoms, 3)` (zero where padded), atom types
    int32 `(n, max_atoms)` in `[0, num_atom_types)` where kept, and the
    mask float32 `(n, max_atoms)` of 0 and 1, at least one atom a row.
    `max_atoms=None` takes any padding, the positions' second axis.

    Raises:
        ValueError: naming `argument[key]` and what was expected.
    """
    if not isinstance(molecules, dict):
        raise ValueError(
            f"`{argument}` must be a dict of molecule arrays {MOLECULE_KEYS} "
            f"(kgen.datasets.load('qm9')'s layout); received "
            f"{type(molecules).__name__}."
        )
    if set(molecules) != set(MOLECULE_KEYS):
        raise ValueError(
            f"`{argument}` must hold exactly the keys {MOLECULE_KEYS}; "
            f"received {sorted(molecules)}."
        )
    names = {key: f"{argument}[{key!r}]" for key in MOLECULE_KEYS}
    positions = host_array(molecules["positions"], names["positions"])
    atom_types = host_array(molecules["atom_types"], names["atom_types"])
    atom_mask = host_array(molecules["atom_mask"], names["atom_mask"])
    if max_atoms is None and positions.ndim == 3:
        max_atoms = positions.shape[1]
    expected = {
        "positions": (max_atoms, 3),
        "atom_types": (max_atoms,),
        "atom_mask": (max_atoms,),
    }
    arrays = {
        "positions": positions,
        "atom_types": atom_types,
        "atom_mask": atom_mask,
    }
    for key, array in arrays.items():
        if array.ndim != 1 + len(expected[key]) or (
            array.shape[1:] != expected[key]
        ):
            shape = ", ".join(
                "atoms" if size is None else str(size) for size in expected[key]
            )
            raise ValueError(
                f"`{names[key]}` must have shape (n, {shape})"
                + (
                    f" for a model of {max_atoms} atoms"
                    if max_atoms is not None
                    else ", atoms padded alike in each array"
                )
                + f"; received {array.shape}."
            )
    count = len(positions)
    if count == 0 or len(atom_types) != count or len(atom_mask) != count:
        raise ValueError(
            f"`{argument}` must hold the same number (>= 1) of rows in "
            f"each array; received {len(positions)} positions, "
            f"{len(atom_types)} atom types and {len(atom_mask)} masks."
        )
    if not np.issubdtype(positions.dtype, np.number) or np.issubdtype(
        positions.dtype, np.complexfloating
    ):
        raise ValueError(
            f"`{names['positions']}` must be real numbers; received dtype "
            f"{positions.dtype}."
        )
    if (
        not (
            np.issubdtype(atom_mask.dtype, np.bool_)
            or np.issubdtype(atom_mask.dtype, np.integer)
            or np.issubdtype(atom_mask.dtype, np.floating)
        )
        or not np.isin(atom_mask, (0, 1)).all()
    ):
        raise ValueError(
            f"`{names['atom_mask']}` must hold 0 / 1 (or booleans), one "
            "per atom slot."
        )
    mask = atom_mask.astype(bool)
    empty = np.flatnonzero(~mask.any(axis=1))
    if empty.size:
        raise ValueError(
            f"`{names['atom_mask']}` keeps no atom in row {empty[0]}: every "
            "molecule needs at least one atom."
        )
    if not np.issubdtype(atom_types.dtype, np.integer):
        raise ValueError(
            f"`{names['atom_types']}` must be integer indices of the "
            f"{num_atom_types} atom types; received dtype {atom_types.dtype}."
        )
    kept = atom_types[mask]
    if kept.min() < 0 or kept.max() >= num_atom_types:
        raise ValueError(
            f"`{names['atom_types']}` must lie in [0, {num_atom_types}) "
            f"where the mask keeps an atom; received values in "
            f"[{kept.min()}, {kept.max()}]."
        )
    kept_positions = positions[mask].astype("float64")
    if not np.isfinite(kept_positions).all():
        row = int(np.flatnonzero(~np.isfinite(positions).all(axis=(1, 2)))[0])
        raise ValueError(
            f"`{names['positions']}` holds NaN or infinite coordinates (row "
            f"{row}); clean them before training."
        )
    return {
        "positions": np.where(mask[..., None], positions, 0.0).astype(
            "float32"
        ),
        "atom_types": np.where(mask, atom_types, 0).astype("int32"),
        "atom_mask": mask.astype("float32"),
    }
