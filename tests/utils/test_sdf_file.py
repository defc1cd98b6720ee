"""`.sdf` files written with their perceived bonds and read back, RDKit
itself reading every molecule."""

import numpy as np
import pytest

from kgen.utils.sdf_file import read_sdf
from kgen.utils.sdf_file import write_sdf
from kgen.utils.unreadable_file_error import UnreadableFileError
from tests.metrics.test_molecules_3d import ETHYLENE
from tests.metrics.test_molecules_3d import METHANE

pytestmark = pytest.mark.tensorflow_only

chem = pytest.importorskip("rdkit.Chem")


def test_every_molecule_is_written_and_rdkit_reads_them_back(tmp_path):
    # Four carbons far apart have no valid bonding: written without bonds.
    scattered = (["C"] * 4, np.eye(4, 3) * 5.0)
    path = tmp_path / "molecules.sdf"
    write_sdf(path, [METHANE, ETHYLENE, scattered], names=["a", "b", "c"])
    supplier = chem.SDMolSupplier(str(path), removeHs=False)
    read = list(supplier)
    assert len(read) == 3 and all(m is not None for m in read)
    assert [m.GetProp("_Name") for m in read] == ["a", "b", "c"]
    assert [m.GetProp("bonds") for m in read] == ["perceived"] * 2 + ["none"]
    double = read[1].GetBondBetweenAtoms(0, 1).GetBondTypeAsDouble()
    assert double == 2.0 and read[2].GetNumBonds() == 0
    for (elements, positions), (expected, where) in zip(
        read_sdf(path), [METHANE, ETHYLENE, scattered]
    ):
        assert elements == list(expected)
        np.testing.assert_allclose(positions, where, atol=1e-4)


def test_bad_molecules_and_files_are_named(tmp_path):
    out = tmp_path / "out.sdf"
    with pytest.raises(ValueError, match="must be finite"):
        write_sdf(out, [(["C"], [[np.nan, 0.0, 0.0]])])
    with pytest.raises(ValueError, match="one line per molecule"):
        write_sdf(out, [METHANE], names=["a", "b"])
    assert not out.exists()
    bad = tmp_path / "bad.sdf"
    bad.write_text("not a molecule\n$$$$\n")
    with pytest.raises(UnreadableFileError, match="record 0"):
        read_sdf(bad)
    with pytest.raises(FileNotFoundError):
        read_sdf(tmp_path / "missing.sdf")
