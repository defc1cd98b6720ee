"""Spoken digits synthesised with espeak-ng (deterministic, offline)."""

import math
import os
import shutil
import subprocess
import tempfile

import numpy as np

from kgen.utils.audio import load_wav

DIGIT_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
)


def load_spoken_digits(
    sample_rate=8000,
    clip_seconds=0.75,
    voices=("en", "en-us"),
    speeds=(130, 160, 190),
    pitches=(25, 50, 75),
):
    """The words "zero" to "nine" spoken by espeak-ng, one clip per voice,
    speed and pitch: a small, deterministic speech set for WaveNet.

    espeak-ng is a formant synthesiser: the same arguments give the same
    samples on every machine with the same espeak-ng, and nothing is
    downloaded. Each clip is resampled to `sample_rate` (from espeak-ng's
    22,050 Hz), peak-normalised to 0.9, and cut or zero-padded to
    `clip_seconds`.

    Args:
        sample_rate: int. Samples per second of the clips.
        clip_seconds: float. Length of every clip.
        voices, speeds, pitches: espeak-ng's `-v`, `-s` (words per
            minute) and `-p` (0-99) settings to combine.

    Returns:
        `(audio, labels)`: float32 `(n, clip_seconds * sample_rate)` in
        [-1, 1] and int64 digits, `n = 10 * len(voices) * len(speeds) *
        len(pitches)`.

    Raises:
        RuntimeError: espeak-ng is not installed.
    """
    executable = shutil.which("espeak-ng")
    if executable is None:
        raise RuntimeError(
            "The spoken-digits dataset is synthesised with espeak-ng, which "
            "is not installed (Debian/Ubuntu: `apt-get install espeak-ng`)."
        )
    from scipy.signal import resample_poly

    length = int(round(clip_seconds * sample_rate))
    clips, labels = [], []
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "word.wav")
        for digit, word in enumerate(DIGIT_WORDS):
            for voice in voices:
                for speed in speeds:
                    for pitch in pitches:
                        subprocess.run(
                            [
                                executable,
                                "-v",
                                voice,
                                "-s",
                                str(speed),
                                "-p",
                                str(pitch),
                                "-w",
                                path,
                                word,
                            ],
                            check=True,
                            capture_output=True,
                        )
                        audio, rate = load_wav(path)
                        divisor = math.gcd(sample_rate, rate)
                        audio = resample_poly(
                            audio, sample_rate // divisor, rate // divisor
                        )
                        audio = 0.9 * audio / max(np.abs(audio).max(), 1e-6)
                        clip = np.zeros(length, "float32")
                        clip[: min(length, len(audio))] = audio[:length]
                        clips.append(clip)
                        labels.append(digit)
    return np.stack(clips), np.array(labels, "int64")
