"""Molecules as `.xyz` files: the plain text format of coordinates that
QM9, EDM and every chemistry viewer read.

```
<number of atoms>
<comment line>
<element> <x> <y> <z>        # one line per atom, angstroms
...                          # then the next molecule's block
```
"""

import math

import numpy as np

from kgen.utils.atomic_file import atomic_file
from kgen.utils.unreadable_file_error import UnreadableFileError

# The elements by atomic number (index 0 unused), to name a file's atoms.
ELEMENT_SYMBOLS = (
    "X H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe "
    "Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn "
    "Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W "
    "Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf "
    "Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og"
).split()
# The most atoms one block may declare before its lines are read.
MAX_ATOMS = 100_000


def write_xyz(path, molecules, comments=None):
    """Writes `molecules` to `path` as one `.xyz` file, whole or not at
    all (`atomic_file`).

    Args:
        path: str or path-like.
        molecules: a list of `(elements, positions)`: element symbols
            (`"C"`) and an `(atoms, 3)` array of finite angstroms.
        comments: `None`, or one line of text per molecule.

    Raises:
        ValueError: an unknown element, positions that are not finite
            or not `(atoms, 3)`, or a comment with a line break (each
            named by its molecule).
    """
    comments = one_line_each(comments, len(molecules), "comments")
    lines = []
    for index, ((elements, positions), comment) in enumerate(
        zip(molecules, comments)
    ):
        positions = np.asarray(positions, "float64")
        check_molecule(index, list(elements), positions)
        lines.append(xyz_block(elements, positions, comment))
    with atomic_file(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")


def xyz_block(elements, positions, comment=""):
    """One molecule's `.xyz` text, without a final line break."""
    return "\n".join(
        [str(len(positions)), str(comment)]
        + [
            f"{element} {x:.6f} {y:.6f} {z:.6f}"
            for element, (x, y, z) in zip(elements, positions)
        ]
    )


def one_line_each(texts, count, argument):
    """`texts` as a list of `count` one-line strings (`[""] * count` for
    `None`); a `ValueError` naming `argument` otherwise."""
    texts = [""] * count if texts is None else [str(t) for t in texts]
    if len(texts) != count:
        raise ValueError(
            f"`{argument}` must have one line per molecule ({count}); "
            f"received {len(texts)}."
        )
    for index, text in enumerate(texts):
        # Every break `str.splitlines` knows (form feed, U+2028, ...).
        if len(text.splitlines()) > 1 or text != text.rstrip("\r\n"):
            raise ValueError(
                f"`{argument}` of molecule {index} must be one line; "
                f"received {text!r}."
            )
    return texts


def read_xyz(path, max_atoms=MAX_ATOMS):
    """The molecules of an `.xyz` file.

    Args:
        path: str or path-like.
        max_atoms: int, the most atoms a molecule may have (a model's
            maximum, say).

    Returns:
        `(molecules, comments)`: a list of `(elements, positions)` (a list
        of symbols and a float64 `(atoms, 3)` array, angstroms) and each
        molecule's comment line.

    Raises:
        FileNotFoundError: no file at `path`.
        UnreadableFileError: a block whose count, element or coordinates
            cannot be read, an unknown element, a coordinate that is not
            finite, or more than `max_atoms` atoms (naming the file, the
            line and what is wrong).
    """
    try:
        with open(path, encoding="utf-8") as file:
            # Lines end at "\n" alone, as the writer ends them.
            lines = [line.rstrip("\r") for line in file.read().split("\n")]
    except UnicodeDecodeError as error:
        raise UnreadableFileError(
            f"{path}: not UTF-8 text ({error})."
        ) from None
    molecules, comments, line = [], [], 0

    def refuse(number, reason):
        raise UnreadableFileError(f"{path}, line {number + 1}: {reason}.")

    while line < len(lines):
        if not lines[line].strip():
            line += 1
            continue
        count = lines[line].strip()
        # ASCII digits only ("²" is a digit to `str.isdigit`), and few
        # enough that `int` reads them.
        if not (
            count.isascii()
            and count.isdigit()
            and len(count) <= 12
            and 1 <= int(count) <= max_atoms
        ):
            refuse(
                line,
                f"expected a count of 1 to {max_atoms:,} atoms, "
                f"found {count[:40]!r}",
            )
        count = int(count)
        if line + 1 + count >= len(lines):
            refuse(line, f"declares {count} atoms, more than the file holds")
        comments.append(lines[line + 1])
        elements, positions = [], []
        for number in range(line + 2, line + 2 + count):
            fields = lines[number].split()
            if len(fields) < 4:
                refuse(number, "expected an element and 3 coordinates")
            element = fields[0].capitalize()
            if element not in ELEMENT_SYMBOLS[1:]:
                refuse(number, f"unknown element {fields[0][:20]!r}")
            try:
                xyz = [float(value.replace("*^", "e")) for value in fields[1:4]]
            except ValueError:
                refuse(number, f"coordinates {fields[1:4]} are not numbers")
            if not all(map(math.isfinite, xyz)):
                refuse(number, f"coordinates {xyz} are not finite")
            elements.append(element)
            positions.append(xyz)
        molecules.append((elements, np.asarray(positions, "float64")))
        line += 2 + count
    return molecules, comments


def check_molecule(index, elements, positions):
    """`ValueError` naming molecule `index` unless its `elements` are
    known symbols and its `positions` a finite `(atoms, 3)` array."""
    if positions.ndim != 2 or positions.shape[1:] != (3,):
        raise ValueError(
            f"The positions of molecule {index} must be (atoms, 3); "
            f"received shape {positions.shape}."
        )
    if len(elements) != len(positions) or not len(elements):
        raise ValueError(
            f"Molecule {index} has {len(elements)} elements for "
            f"{len(positions)} positions; a molecule has at least one "
            "atom, each with its position."
        )
    unknown = sorted(set(elements) - set(ELEMENT_SYMBOLS[1:]))
    if unknown:
        raise ValueError(
            f"Molecule {index} has unknown elements {unknown[:5]}."
        )
    if not np.isfinite(positions).all():
        raise ValueError(
            f"The positions of molecule {index} must be finite; they hold "
            "NaN or infinity."
        )
