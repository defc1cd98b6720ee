"""`python -m benchmarks.video_moving_mnist --dry-run`: the GPU job at toy
size. It is also the test that `FlowMatching` fits, checkpoints and
samples clips through `kgen.networks.video_unet_denoiser`."""

import json

import numpy as np
import pytest

from benchmarks import video_moving_mnist
from kgen.datasets import mnist

pytestmark = pytest.mark.skipif(
    mnist.find_local_file() is None, reason="no mnist.npz in KGEN_DATA_DIR"
)


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
    assert drawn.shape == (4, 4, 32, 32, 1) and drawn.dtype == "uint8"
    with np.load(tmp_path / "weights.npz") as stored:
        assert stored["w0"].dtype == "float16"
    scores = result["scores"]
    assert scores["clips"] == 4 and scores["motion_ratio"] >= 0.0
    assert 0.0 <= scores["digit_identity"] <= 1.0
