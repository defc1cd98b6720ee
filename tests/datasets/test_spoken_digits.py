import importlib.util
import shutil

import numpy as np
import pytest

import kgen
from kgen.datasets import spoken_digits

HAS_PROGRAM = shutil.which("espeak-ng") is not None
HAS_LIBRARY = importlib.util.find_spec("espeakng_loader") is not None


def test_missing_espeak_ng_gets_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(spoken_digits, "_library_synthesiser", lambda: None)
    with pytest.raises(RuntimeError, match="apt-get install espeak-ng"):
        kgen.datasets.load_spoken_digits()


def _check_clips(load):
    audio, labels = load(voices=("en",), speeds=(160,), pitches=(50,))
    assert audio.shape == (10, 6000) and audio.dtype == np.float32
    np.testing.assert_array_equal(labels, np.arange(10))
    assert np.abs(audio).max() <= 0.9 + 1e-6
    # Speech, not silence: every word is audible for a good part of the clip.
    assert ((np.abs(audio) > 0.01).mean(axis=1) > 0.2).all()
    again, _ = load(voices=("en",), speeds=(160,), pitches=(50,))
    np.testing.assert_array_equal(audio, again)


@pytest.mark.skipif(not HAS_PROGRAM, reason="espeak-ng is not installed")
def test_clips_from_the_program_are_deterministic_and_labelled():
    _check_clips(kgen.datasets.load_spoken_digits)


@pytest.mark.skipif(not HAS_LIBRARY, reason="espeakng-loader not installed")
def test_clips_from_the_library_are_deterministic_and_labelled(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    _check_clips(kgen.datasets.load_spoken_digits)


def test_the_split_holds_out_one_pitch(monkeypatch):
    def synthesise(word, voice, speed, pitch):
        # A constant clip whose sign says its pitch.
        return np.full(16000, 0.5 if pitch == 50 else -0.5, "float32"), 16000

    monkeypatch.setattr(
        spoken_digits, "_command_line_synthesiser", lambda: synthesise
    )
    (x_train, y_train), (x_test, y_test) = (
        kgen.datasets.load_spoken_digits_split()
    )
    assert len(x_train) == 120 and len(x_test) == 60
    assert (x_test[:, 100] > 0).all() and (x_train[:, 100] < 0).all()
    np.testing.assert_array_equal(np.bincount(y_test), [6] * 10)
    np.testing.assert_array_equal(np.bincount(y_train), [12] * 10)
    with pytest.raises(ValueError, match="held_out_pitch"):
        kgen.datasets.load_spoken_digits_split(60)


def test_many_voices_hold_out_one_accent(monkeypatch):
    settings = []

    def synthesise(word, voice, speed, pitch):
        settings.append((word, voice, speed, pitch))
        # A constant clip whose sign says whether the accent is held out.
        sign = 1.0 if voice.startswith("en-029") else -1.0
        return np.full(22050, 0.5 * sign, "float32"), 22050

    monkeypatch.setattr(
        spoken_digits, "_command_line_synthesiser", lambda: synthesise
    )
    x_train, y_train = kgen.datasets.load_spoken_digits_many_voices("train")
    x_test, y_test = kgen.datasets.load_spoken_digits_many_voices("test")
    assert x_train.shape == (2520, 6144) and x_test.shape == (360, 6144)
    assert (x_train[:, 100] < 0).all() and (x_test[:, 100] > 0).all()
    np.testing.assert_array_equal(np.bincount(y_train), [252] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [36] * 10)
    voices = {voice for _, voice, _, _ in settings}
    assert len(voices) == 32 and "en-us-nyc+f4" in voices
    # Clips are ordered digit first, whatever order threads finish in.
    np.testing.assert_array_equal(y_train, np.repeat(np.arange(10), 252))
    with pytest.raises(ValueError, match="split"):
        kgen.datasets.load_spoken_digits_many_voices("validation")
