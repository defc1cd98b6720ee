"""`python -m benchmarks.video_moving_mnist --dry-run`: the GPU job at toy
size. It is also the test that `DiffusionModel` fits, checkpoints,
samples and inpaints clips through `kgen.networks.video_unet_denoiser`.
"""

import json

import numpy as np
import pytest

import kgen
from benchmarks import video_moving_mnist
from kgen.datasets import mnist

# The job's path at toy size, which one backend proves: torch, whose
# eager kernels run it cheapest (tests/conftest.py); the GPU run is on
# whichever backend the lease has, and the contract harness covers each.
pytestmark = [
    pytest.mark.torch_only,
    pytest.mark.skipif(
        mnist.find_local_file() is None, reason="no mnist.npz in KGEN_DATA_DIR"
    ),
]


def test_dry_run_trains_checkpoints_samples_and_scores(tmp_path):
    samples = tmp_path / "samples.npz"
    out = tmp_path / "result.json"
    video_moving_mnist.main(
        ["--dry-run", "--checkpoint-dir", str(tmp_path / "checkpoint")]
        + ["--weights", str(tmp_path / "weights.npz")]
        + ["--samples", str(samples), "--out", str(out)]
    )
    result = json.loads(out.read_text())
    assert result["training"]["device"] == "cpu"
    assert np.isfinite(result["training"]["final_loss"])
    assert (tmp_path / "checkpoint").is_dir()
    with np.load(samples) as stored:
        drawn = stored["samples"]
        predicted = stored["predicted"]
    assert drawn.shape == (4, 4, 32, 32, 1) and drawn.dtype == "uint8"
    assert predicted.shape == (2, 4, 32, 32, 1)
    with np.load(tmp_path / "weights.npz") as stored:
        assert stored["w0"].dtype == "float16"
    scores = result["scores"]
    assert scores["clips"] == 4 and scores["motion_ratio"] >= 0.0
    assert 0.0 <= scores["digit_identity"] <= 1.0
    # The known half of each test clip comes back as it was.
    _, (x_test, _) = kgen.datasets.load_moving_mnist(
        8, 8, num_frames=4, image_size=32, value_range=(-1.0, 1.0)
    )
    np.testing.assert_array_equal(
        predicted[:, :2], video_moving_mnist.to_uint8(x_test[:2, :2])
    )
    assert scores["predicted_clips"] == 2
    assert scores["prediction_mse"] >= 0.0
