"""`python -m benchmarks.dit_emoji --dry-run`: the GPU job at toy size."""

import numpy as np
import pytest

from benchmarks import dit_emoji
from tests.benchmarks.dry_run import gpu_job_dry_run
from tests.datasets.test_emoji import pytestmark as emoji_marks

# The job's path at toy size, which one backend proves: torch, whose
# eager kernels run it cheapest (tests/conftest.py); the GPU run is on
# whichever backend the lease has, and the contract harness covers each.
pytestmark = [*emoji_marks, pytest.mark.torch_only]


def test_dry_run_trains_checkpoints_and_samples(tmp_path):
    result, stored = gpu_job_dry_run(dit_emoji.main, tmp_path)
    drawn = stored["samples"]
    assert drawn.shape == (9, 32, 32, 3) and drawn.dtype == "uint8"
    with np.load(tmp_path / "weights-0.npz") as stored:
        assert stored["w0"].dtype == "float16"
    assert result["sampling"] == {"num_steps": 2, "scheduler": "euler"}
