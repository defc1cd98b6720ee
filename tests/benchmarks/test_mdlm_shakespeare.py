"""`python -m benchmarks.mdlm_shakespeare --dry-run`: the MDLM's training,
bound and sampling paths of the benchmark at toy size."""

import numpy as np
import pytest

from benchmarks import mdlm_shakespeare
from tests.benchmarks.dry_run import dry_run

# The model is proved in tests/models/masked_token; this checks the
# script's own wiring, on the backend cheapest for it.
pytestmark = pytest.mark.torch_only


def test_dry_run_trains_bounds_and_samples(tmp_path):
    results, stored = dry_run(mdlm_shakespeare.main, tmp_path / "mdlm")
    assert stored["rows"] == results["rows"]
    (row,) = results["rows"]
    # Untrained after 20 steps: the bound is finite and near log(vocab).
    assert 0.5 < row["validation_nats_per_char"] < 10.0
    assert np.isclose(
        row["perplexity"], np.exp(row["validation_nats_per_char"])
    )
    assert len(results["samples"]["mdlm"]) == 4
    assert all(len(text) == 64 for text in results["samples"]["mdlm"])
