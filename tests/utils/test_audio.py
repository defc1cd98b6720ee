import numpy as np
import pytest

from kgen import utils


def test_mu_law_round_trip_and_companding():
    audio = np.linspace(-1, 1, 1001)
    levels = utils.mu_law_encode(audio)
    assert levels.min() == 0 and levels.max() == 255
    # Quiet samples get finer levels than loud ones.
    error = np.abs(utils.mu_law_decode(levels) - audio)
    assert error[np.abs(audio) < 0.01].max() < 2e-4
    # Half a level at full scale: log(256) / 255 * 256 / 255 = 0.0218.
    assert error.max() < 0.022
    assert utils.mu_law_encode(np.zeros(1)).item() in (127, 128)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        utils.mu_law_encode(np.array([1.5]))


def test_wav_round_trip(tmp_path):
    audio = 0.5 * np.sin(np.linspace(0, 20, 800))
    path = utils.save_wav(tmp_path / "tone.wav", audio, 8000)
    loaded, rate = utils.load_wav(path)
    assert rate == 8000 and loaded.shape == (800,)
    np.testing.assert_allclose(loaded, audio, atol=1e-4)
