"""`python -m benchmarks.edm_qm9 --dry-run`: the GPU job at toy size."""

import json

import numpy as np
import pytest

from tests.conftest import needs_wheel

# The job's path at toy size, which one backend proves: torch, whose
# eager kernels run it cheapest (tests/conftest.py); the contract harness
# covers EquivariantDiffusion on each backend.
pytestmark = [
    pytest.mark.torch_only,
    needs_wheel("qm9pack", "pip install kgen[qm9]"),
    needs_wheel("rdkit", "pip install kgen[chem]"),
]


def test_dry_run_trains_resumes_and_scores(tmp_path):
    from benchmarks import edm_qm9

    checkpoint = tmp_path / "checkpoint"
    out = tmp_path / "result.json"
    argv = ["--dry-run", "--checkpoint-dir", str(checkpoint), "--out", str(out)]
    first = edm_qm9.main(argv)
    assert first["device"] == "cpu"
    assert first["training"]["total_steps"] == 2
    assert set(first["scores"]) >= {"atom_stability", "validity"}
    assert 0 <= first["scores"]["atom_stability"] <= 1
    assert json.loads(out.read_text())["num_samples"] == 4
    # A second chunk over a finished checkpoint trains nothing and scores
    # the same weights: the chunk starts where the last one ended.
    second = edm_qm9.main(argv)
    assert second["training"]["total_steps"] == 2
    assert second["scores"] == first["scores"]


def test_dry_run_of_the_conditional_protocol_judges_its_samples(tmp_path):
    from benchmarks import edm_qm9

    result = edm_qm9.main(
        ["--dry-run", "--condition", "alpha", "--out", str(tmp_path / "r")]
    )
    scores = result["conditioned"]
    assert scores["property"] == "alpha"
    assert scores["num_samples"] == 4
    # Every figure of the table is a measured error in bohr^3.
    for key in ("mae", "lower_bound_real_molecules", "atom_count"):
        assert np.isfinite(scores[key]) and scores[key] >= 0
    assert result["headline"]["values"]["alpha MAE"] == "/conditioned/mae"
