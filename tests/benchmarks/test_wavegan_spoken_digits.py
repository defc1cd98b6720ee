"""`python -m benchmarks.wavegan_spoken_digits --dry-run`: a toy WaveGAN
trained for a step on espeak-ng clips and scored (needs espeak-ng or
espeakng-loader)."""

import importlib.util
import shutil

import numpy as np
import pytest

if not (
    shutil.which("espeak-ng") or importlib.util.find_spec("espeakng_loader")
):
    pytest.skip("espeak-ng is not installed", allow_module_level=True)

# The model is proved in tests/models/gan; this checks the script's own
# wiring, on the backend cheapest for it.
pytestmark = pytest.mark.torch_only


def test_dry_run_trains_scores_and_writes_wavs(tmp_path):
    import kgen
    from benchmarks import wavegan_spoken_digits

    weights = str(tmp_path / "w.weights.h5")
    results = wavegan_spoken_digits.main(
        ["--dry-run", "--weights", weights, "--results", str(tmp_path / "r")]
    )
    assert results["training"]["steps"] == 1
    real, samples = results["table"]
    for row in (real, samples):
        assert 1.0 <= row["inception_score"] <= 10.0
        assert 0.0 <= row["digit_accuracy"] <= 1.0
    audio, rate = kgen.utils.load_wav(str(tmp_path / "r_samples.wav"))
    assert rate == 8000 and len(audio) == 10 * (1024 + 2000)
    # Saved weights are loaded, not trained again.
    again = wavegan_spoken_digits.main(
        ["--dry-run", "--weights", weights, "--results", str(tmp_path / "r")]
    )
    assert again["training"] is None
    np.testing.assert_allclose(
        again["table"][1]["inception_score"], samples["inception_score"]
    )
