"""`python -m benchmarks.dit_emoji --dry-run`: the GPU job at toy size."""

import json

import numpy as np
import pytest

from benchmarks import dit_emoji
from tests.datasets.test_emoji import pytestmark as emoji_marks

# The job's path at toy size, which one backend proves: torch, whose
# eager kernels run it cheapest (tests/conftest.py); the GPU run is on
# whichever backend the lease has, and the contract harness covers each.
pytestmark = [*emoji_marks, pytest.mark.torch_only]


def test_dry_run_trains_checkpoints_and_samples(tmp_path):
    weights = tmp_path / "weights.npz"
    samples = tmp_path / "samples.npz"
    out = tmp_path / "result.json"
    dit_emoji.main(
        ["--dry-run", "--checkpoint-dir", str(tmp_path / "checkpoint")]
        + ["--weights", str(weights), "--samples", str(samples)]
        + ["--out", str(out)]
    )
    result = json.loads(out.read_text())
    assert result["training"]["device"] == "cpu"
    assert np.isfinite(result["training"]["final_loss"])
    assert (tmp_path / "checkpoint").is_dir()
    with np.load(samples) as stored:
        drawn = stored["samples"]
    assert drawn.shape == (9, 32, 32, 3) and drawn.dtype == "uint8"
    with np.load(tmp_path / "weights-0.npz") as stored:
        assert stored["w0"].dtype == "float16"
    assert result["sampling"] == {"num_steps": 2, "scheduler": "euler"}
