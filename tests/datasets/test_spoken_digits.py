import shutil

import numpy as np
import pytest

import kgen


def test_missing_espeak_ng_gets_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install espeak-ng"):
        kgen.datasets.load_spoken_digits()


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"
)
def test_clips_are_deterministic_and_labelled():
    audio, labels = kgen.datasets.load_spoken_digits(
        voices=("en",), speeds=(160,), pitches=(50,)
    )
    assert audio.shape == (10, 6000) and audio.dtype == np.float32
    np.testing.assert_array_equal(labels, np.arange(10))
    assert np.abs(audio).max() <= 0.9 + 1e-6
    again, _ = kgen.datasets.load_spoken_digits(
        voices=("en",), speeds=(160,), pitches=(50,)
    )
    np.testing.assert_array_equal(audio, again)
