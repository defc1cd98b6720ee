"""`.xyz` files written and read, with RDKit as the oracle where it is
installed."""

import numpy as np
import pytest

from kgen.utils.unreadable_file_error import UnreadableFileError
from kgen.utils.xyz_file import read_xyz
from kgen.utils.xyz_file import write_xyz

pytestmark = pytest.mark.tensorflow_only

WATER = (
    ["O", "H", "H"],
    [[0.0, 0.0, 0.1173], [0, 0.7572, -0.4692], [0, -0.7572, -0.4692]],
)
METHANE = (
    ["C", "H", "H", "H", "H"],
    [
        [0.0, 0.0, 0.0],
        [0.629, 0.629, 0.629],
        [-0.629, -0.629, 0.629],
        [-0.629, 0.629, -0.629],
        [0.629, -0.629, -0.629],
    ],
)


def test_molecules_go_through_a_file_and_rdkit_reads_them(tmp_path):
    path = tmp_path / "molecules.xyz"
    write_xyz(path, [WATER, METHANE], comments=["water", "methane"])
    molecules, comments = read_xyz(path)
    assert comments == ["water", "methane"]
    for (elements, positions), (expected, where) in zip(
        molecules, [WATER, METHANE]
    ):
        assert elements == expected
        np.testing.assert_allclose(positions, where, atol=1e-6)
    chem = pytest.importorskip("rdkit.Chem")
    write_xyz(tmp_path / "methane.xyz", [METHANE])
    molecule = chem.MolFromXYZFile(str(tmp_path / "methane.xyz"))
    assert [a.GetSymbol() for a in molecule.GetAtoms()] == METHANE[0]


@pytest.mark.parametrize(
    "text, reason",
    [
        ("2\n\nC 0 0 0\nQ 1 0 0\n", "line 4: unknown element 'Q'"),
        ("1\n\nC 0 nan 0\n", "line 3: coordinates .* are not finite"),
        ("3\n\nC 0 0 0\n", "line 1: declares 3 atoms"),
        ("x\n", "line 1: expected a count"),
        ("40\n" + "\n" * 41, "line 1: expected a count of 1 to 29"),
        ("1\n\nC 0 0\n", "line 3: expected an element and 3"),
        ("1\n\nC 0 zero 0\n", "are not numbers"),
        ("\u00b2\n\nC 0 0 0\n", "line 1: expected a count"),
        ("9" * 5000 + "\n", "line 1: expected a count"),
    ],
)
def test_a_bad_file_is_named_with_its_line(tmp_path, text, reason):
    path = tmp_path / "bad.xyz"
    path.write_text(text)
    with pytest.raises(UnreadableFileError, match=reason) as error:
        read_xyz(path, max_atoms=29)
    assert str(path) in str(error.value)


def test_qm9s_exponents_read_and_bad_molecules_are_not_written(tmp_path):
    path = tmp_path / "qm9.xyz"
    path.write_text("1\nqm9\nC 1.2*^-6 0 0\n")
    (((elements, positions),), _) = read_xyz(path)
    assert elements == ["C"] and positions[0, 0] == pytest.approx(1.2e-6)
    out = tmp_path / "out.xyz"
    for molecule, reason in (
        ((["Q"], [[0.0, 0, 0]]), "unknown elements \\['Q'\\]"),
        ((["C"], [[np.nan, 0, 0]]), "must be finite"),
        ((["C", "H"], [[0.0, 0, 0]]), "2 elements for 1 positions"),
        (([], np.zeros((0, 3))), "at least one atom"),
    ):
        with pytest.raises(ValueError, match=reason):
            write_xyz(out, [molecule])
    # Every line break the reader would see is refused in a comment.
    for comment in ("a\fb", "a\u2028b", "a\nb"):
        with pytest.raises(ValueError, match="must be one line"):
            write_xyz(out, [(["C"], [[0.0, 0, 0]])], comments=[comment])
    assert not out.exists()
    binary = tmp_path / "binary.xyz"
    binary.write_bytes(b"1\n\xff\nC 0 0 0\n")
    with pytest.raises(UnreadableFileError, match="not UTF-8"):
        read_xyz(binary)
