"""`python -m benchmarks.video_moving_mnist --dry-run`: the GPU job at toy
size. It is also the test that `DiffusionModel` fits, checkpoints,
samples and inpaints clips through `kgen.networks.video_unet_denoiser`.
"""

import numpy as np
import pytest

import kgen
from benchmarks import video_moving_mnist
from kgen.datasets import mnist
from tests.benchmarks.dry_run import gpu_job_dry_run

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
    result, stored = gpu_job_dry_run(video_moving_mnist.main, tmp_path)
    drawn, predicted = stored["samples"], stored["predicted"]
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
