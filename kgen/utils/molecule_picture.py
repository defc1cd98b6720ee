"""Molecules in 3-D drawn from their coordinates: atoms as shaded discs,
bonds as sticks, each molecule turned to face the viewer with its widest
spread. Pillow only: a picture of a few dozen atoms needs no plotting
library, and Pillow is already kgen's image writer."""

import os

import numpy as np

# CPK colours (RGB) and drawn radii (angstroms) by element; other elements
# are drawn pink.
ATOM_COLOURS = {
    "H": (235, 235, 235),
    "C": (80, 80, 80),
    "N": (48, 80, 248),
    "O": (230, 30, 30),
    "F": (60, 200, 60),
}
ATOM_RADII = {"H": 0.25, "C": 0.4, "N": 0.38, "O": 0.37, "F": 0.35}
OTHER_COLOUR, OTHER_RADIUS = (255, 120, 200), 0.4


def molecule_picture(elements, positions, bonds=None, size=220):
    """One molecule as a `(size, size, 3)` uint8 picture.

    The molecule is centred and turned onto its principal axes (the
    first two face the viewer), scaled to fit, and drawn back to front:
    bonds as grey sticks (wider for higher orders), then atoms as discs
    shaded by depth.

    Args:
        elements: the element symbols.
        positions: `(atoms, 3)` angstroms.
        bonds: `None` (no sticks), or `(atoms, atoms)` bond orders (0: no
            bond), e.g. `kgen.metrics.molecules_3d.bond_orders`'.
        size: int, the picture's side in pixels.
    """
    from PIL import Image
    from PIL import ImageDraw

    positions = np.asarray(positions, "float64")
    if positions.ndim != 2 or positions.shape != (len(elements), 3):
        raise ValueError(
            f"`positions` must be ({len(elements)}, 3) for "
            f"{len(elements)} elements; received {positions.shape}."
        )
    if not np.isfinite(positions).all():
        raise ValueError("`positions` must be finite to be drawn.")
    centred = positions - positions.mean(axis=0)
    if len(centred) > 1:
        # Principal axes, widest first: a flat molecule faces the viewer.
        _, _, axes = np.linalg.svd(centred, full_matrices=False)
        centred = centred @ axes.T
        if centred.shape[1] < 3:
            centred = np.pad(centred, ((0, 0), (0, 3 - centred.shape[1])))
    extent = max(np.abs(centred[:, :2]).max() + 0.6, 1.5)
    scale = (size / 2 - 4) / extent

    def pixel(point):
        return size / 2 + point[0] * scale, size / 2 - point[1] * scale

    picture = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(picture)
    if bonds is not None:
        bonds = np.asarray(bonds)
        for i, j in zip(*np.nonzero(np.triu(bonds, 1))):
            width = max(1, int(scale * 0.08 * bonds[i, j]))
            draw.line(
                [pixel(centred[i]), pixel(centred[j])],
                fill=(150, 150, 150),
                width=width,
            )
    depth = centred[:, 2]
    span = max(np.ptp(depth), 1e-6)
    for index in np.argsort(depth):  # far atoms first
        element = elements[index]
        colour = np.array(ATOM_COLOURS.get(element, OTHER_COLOUR), "float64")
        # Nearer atoms lighter: half-way to white at the front.
        nearness = (depth[index] - depth.min()) / span
        colour = colour + (255 - colour) * 0.35 * nearness
        radius = ATOM_RADII.get(element, OTHER_RADIUS) * scale
        x, y = pixel(centred[index])
        draw.ellipse(
            [x - radius, y - radius, x + radius, y + radius],
            fill=tuple(int(c) for c in colour),
            outline=(40, 40, 40),
        )
    return np.asarray(picture)


def save_molecule_grid(molecules, path, bonds=None, num_columns=4, size=220):
    """Writes `molecules` drawn by `molecule_picture` as one grid image.

    Args:
        molecules: a list of `(elements, positions)`.
        path: where to write (its extension picks the format, e.g. .png).
        bonds: `None`, or one `(atoms, atoms)` bond-order array per
            molecule.
        num_columns: int, molecules per row.
        size: int, each molecule's side in pixels.

    Returns:
        `path`.
    """
    from PIL import Image

    molecules = list(molecules)
    if not molecules:
        raise ValueError("`molecules` must hold at least one molecule.")
    if bonds is None:
        bonds = [None] * len(molecules)
    if len(bonds) != len(molecules):
        raise ValueError(
            f"`bonds` must hold one array per molecule ({len(molecules)}); "
            f"received {len(bonds)}."
        )
    num_columns = max(1, min(int(num_columns), len(molecules)))
    num_rows = -(-len(molecules) // num_columns)
    grid = np.full((num_rows * size, num_columns * size, 3), 255, dtype="uint8")
    for index, ((elements, positions), orders) in enumerate(
        zip(molecules, bonds)
    ):
        row, column = divmod(index, num_columns)
        grid[
            row * size : (row + 1) * size, column * size : (column + 1) * size
        ] = molecule_picture(elements, positions, orders, size)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(grid).save(path)
    return path
