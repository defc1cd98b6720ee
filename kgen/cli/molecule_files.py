"""Molecules in 3-D on disk for `kgen generate` and `kgen evaluate`: the
elements a model's atom types stand for, and its samples as SDF, XYZ,
arrays or a picture."""


def model_elements(model, card, args):
    """The element symbols a 3-D model's atom types index: its card's
    `data.elements`, else QM9's for a model of QM9's five types."""
    from kgen.datasets import QM9_ELEMENTS

    elements = card.get("data", {}).get("elements")
    if elements is None and model.num_atom_types == len(QM9_ELEMENTS):
        elements = QM9_ELEMENTS
    if elements is None or len(elements) != model.num_atom_types:
        raise ValueError(
            f"MODEL {args.model_path} draws {model.num_atom_types} atom "
            "types: its card must name their elements in `data.elements` "
            f"(one per type); it gives {elements!r}."
        )
    return tuple(elements)


def molecule_writer(out, elements):
    """Writes a dict of positions, atom types and masks as SDF (bonds
    perceived by RDKit), XYZ, the arrays themselves (`.npz`) or a picture
    (`.png`: bonds by the 3-D measures' bond lengths)."""
    import numpy as np

    import kgen

    def write(samples, path):
        if out.lower().endswith(".npz"):
            # `np.savez` appends `.npz` to a path without it.
            with open(path, "wb") as file:
                np.savez(file, **samples)
            return
        molecules = kgen.metrics.molecules_from_arrays(
            samples["atom_types"],
            samples["positions"],
            samples["atom_mask"],
            elements,
        )
        if out.lower().endswith(".png"):
            # Sticks where the 3-D measures' bond lengths know the
            # elements (H, C, N, O, F); atoms alone otherwise.
            known = set(kgen.metrics.molecules_3d.VALENCES)
            bonds = [
                kgen.metrics.molecules_3d.bond_orders(*molecule)
                if set(molecule[0]) <= known
                else None
                for molecule in molecules
            ]
            kgen.utils.save_molecule_grid(molecules, path, bonds=bonds)
        elif out.lower().endswith(".sdf"):
            kgen.utils.write_sdf(path, molecules)
        else:
            kgen.utils.write_xyz(path, molecules)

    return write
