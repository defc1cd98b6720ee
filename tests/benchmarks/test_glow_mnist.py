"""`python -m benchmarks.glow_mnist --dry-run`: the GPU job at toy size."""

import json

import pytest

from benchmarks import glow_mnist

# The job's path at toy size, which one backend proves: torch, whose
# eager kernels run it cheapest (tests/conftest.py); the GPU run is on
# whichever backend the lease has, and the contract harness covers each.
pytestmark = pytest.mark.torch_only


def test_dry_run_trains_resumes_and_scores(tmp_path):
    checkpoint = tmp_path / "checkpoint"
    out = tmp_path / "result.json"
    argv = ["--dry-run", "--checkpoint-dir", str(checkpoint)]
    argv += ["--grid", str(tmp_path / "grid.png"), "--out", str(out)]
    first = glow_mnist.main(argv)
    assert first["device"] == "cpu"
    assert first["training"]["total_steps"] == 2
    assert 0 < first["test_bits_per_dim"] < 16
    assert json.loads(out.read_text())["test_images"] == 16
    assert (tmp_path / "grid.png").stat().st_size > 0
    # A second chunk over a finished checkpoint trains nothing and scores
    # the same weights: the chunk starts where the last one ended.
    second = glow_mnist.main(argv)
    assert second["training"]["epochs_this_chunk"] == 0
    assert second["training"]["total_steps"] == 2
    assert second["test_bits_per_dim"] == first["test_bits_per_dim"]
