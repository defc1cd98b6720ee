"""`kgen.datasets.load_qm9`: QM9's molecules in 3-D from the `qm9pack`
wheel's data files (`pip install qm9pack`; skipped without), in EDM's
split."""

import importlib.metadata

import numpy as np
import pytest

import kgen
from kgen.datasets import qm9
from tests.conftest import needs_wheel

pytestmark = pytest.mark.tensorflow_only


needs_qm9pack = needs_wheel("qm9pack", "pip install qm9pack==1.0.3")


@needs_qm9pack
def test_the_splits_are_edms_sizes_centred_padded_and_disjoint():
    splits = {name: kgen.datasets.load_qm9(name) for name in qm9.QM9_SPLITS}
    for name, split in splits.items():
        assert len(split["positions"]) == qm9.QM9_SPLIT_SIZES[name]
        mask = split["atom_mask"]
        counts = mask.sum(axis=1)
        assert counts.min() >= 1 and counts.max() == qm9.QM9_MAX_ATOMS
        # Each molecule centred on its atoms; padding is zero everywhere.
        centres = split["positions"].sum(axis=1) / counts[:, None]
        assert np.abs(centres).max() < 1e-4
        assert not split["positions"][~mask].any()
        assert not split["atom_types"][~mask].any()
        assert split["atom_types"].max() == len(qm9.QM9_ELEMENTS) - 1
        assert np.isfinite(split["properties"]).all()
        assert split["properties"].shape[1] == len(qm9.QM9_PROPERTIES)
    # One molecule in one split only (QM9's SMILES repeat for isomers,
    # so rows are compared whole).
    keys = {
        name: {
            (s, p.round(3).tobytes())
            for s, p in zip(split["smiles"], split["positions"])
        }
        for name, split in splits.items()
    }
    assert not keys["train"] & keys["test"]
    assert not keys["train"] & keys["validation"]
    # Hydrogens make up about half of QM9's atoms, as EDM reports.
    types = splits["train"]["atom_types"][splits["train"]["atom_mask"]]
    share = np.bincount(types, minlength=5) / types.size
    assert 0.45 < share[qm9.QM9_ELEMENTS.index("H")] < 0.55

    (x_train, y_train), (x_test, y_test) = kgen.datasets.load("qm9")
    assert sorted(x_train) == sorted(qm9.QM9_INPUTS)
    np.testing.assert_array_equal(
        x_test["positions"], splits["test"]["positions"]
    )
    np.testing.assert_array_equal(y_train, splits["train"]["properties"])
    first = kgen.datasets.load_qm9("validation", max_molecules=5)
    np.testing.assert_array_equal(
        first["atom_types"], splits["validation"]["atom_types"][:5]
    )


def test_bad_arguments_and_a_missing_wheel_are_named(monkeypatch):
    with pytest.raises(ValueError, match="Unknown QM9 split 'valid'"):
        kgen.datasets.load_qm9("valid")
    with pytest.raises(ValueError, match="`max_molecules` must be"):
        kgen.datasets.load_qm9("train", max_molecules=0)
    with pytest.raises(ValueError, match="take no `value_range`"):
        kgen.datasets.load("qm9", value_range=(-1, 1))

    def not_found(name):
        raise importlib.metadata.PackageNotFoundError(name)

    qm9._all_molecules.cache_clear()
    monkeypatch.setattr(importlib.metadata, "distribution", not_found)
    with pytest.raises(FileNotFoundError, match="pip install kgen\\[qm9\\]"):
        kgen.datasets.load_qm9("test")


def test_a_molecule_that_does_not_parse_is_named(monkeypatch, tmp_path):
    header = ["Index", "SMILES", "Elements", "XYZ_Ang"]
    header += list(qm9.QM9_PROPERTIES.values())
    properties = ",".join(["0"] * len(qm9.QM9_PROPERTIES))
    rows = {
        # Two elements, one position: the file is cut or misread.
        "7": "\"['C','H']\",\"[[0.0,1.0,2.0]]\"",
        # An element QM9 does not have.
        "8": '"[\'Cl\']","[[0.0,1.0,2.0]]"',
    }
    for index, fields in rows.items():
        path = tmp_path / f"part{index}.csv"
        path.write_text(
            ",".join(header) + f"\n{index},C,{fields},{properties}\n"
        )
        qm9._all_molecules.cache_clear()
        monkeypatch.setattr(qm9, "wheel_data_file", lambda *_: str(path))
        with pytest.raises(ValueError, match=f"molecule {index} has"):
            kgen.datasets.load_qm9("test")
    qm9._all_molecules.cache_clear()
