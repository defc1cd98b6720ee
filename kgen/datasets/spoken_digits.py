"""Spoken digits synthesised with espeak-ng (deterministic, offline)."""

import concurrent.futures
import importlib.util
import math
import os
import shutil
import subprocess
import sys
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
# The wave_net_spoken_digits preset's data: 8 kHz clips at three pitches,
# the middle one held out (`load_spoken_digits_split`).
SPOKEN_DIGITS_SAMPLE_RATE = 8000
SPOKEN_DIGITS_PITCHES = (25, 50, 75)
SPOKEN_DIGITS_HELD_OUT_PITCH = 50
# The enlarged set (WaveGAN, the spoken-digit classifier): espeak-ng's
# English accents, each in its own voice and three of its variants (two
# female, one male), at three speeds and pitches; one accent is held out.
ENGLISH_ACCENTS = (
    "en",
    "en-us",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-us-nyc",
    "en-029",
)
HELD_OUT_ACCENT = "en-029"
VOICE_VARIANTS = ("", "+f2", "+f4", "+m3")
# 6,144 samples (0.768 s at 8 kHz): WaveGAN's five stride-4 stages need a
# multiple of 1,024, and the slowest words end before 0.75 s.
MANY_VOICES_SAMPLE_RATE = 8000
MANY_VOICES_AUDIO_LENGTH = 6144


def load_spoken_digits(
    sample_rate=SPOKEN_DIGITS_SAMPLE_RATE,
    clip_seconds=0.75,
    voices=("en", "en-us"),
    speeds=(130, 160, 190),
    pitches=SPOKEN_DIGITS_PITCHES,
):
    """The words "zero" to "nine" spoken by espeak-ng, one clip per voice,
    speed and pitch: a small, deterministic speech set for WaveNet.

    espeak-ng is a formant synthesiser: the same arguments give the same
    samples on every machine with the same espeak-ng, and nothing is
    downloaded. It runs the `espeak-ng` program (Debian's package) when
    installed, else the library that the `espeakng-loader` wheel ships
    (`pip install kgen[audio]`), called through its C API. Each clip is
    resampled to `sample_rate` (from espeak-ng's 22,050 Hz),
    peak-normalised to 0.9, and cut or zero-padded to `clip_seconds`.

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
        RuntimeError: neither espeak-ng nor espeakng-loader is installed.
    """
    synthesise = _command_line_synthesiser() or _library_synthesiser()
    if synthesise is None:
        raise RuntimeError(
            "The spoken-digits dataset is synthesised with espeak-ng, which "
            "is not installed (Debian/Ubuntu: `apt-get install espeak-ng`, "
            "or `pip install espeakng-loader` for its library)."
        )
    from scipy.signal import resample_poly

    length = int(round(clip_seconds * sample_rate))
    settings = [
        (digit, word, voice, speed, pitch)
        for digit, word in enumerate(DIGIT_WORDS)
        for voice in voices
        for speed in speeds
        for pitch in pitches
    ]

    def clip_of(setting):
        _, word, voice, speed, pitch = setting
        audio, rate = synthesise(word, voice, speed, pitch)
        divisor = math.gcd(sample_rate, rate)
        audio = resample_poly(audio, sample_rate // divisor, rate // divisor)
        audio = 0.9 * audio / max(np.abs(audio).max(), 1e-6)
        clip = np.zeros(length, "float32")
        clip[: min(length, len(audio))] = audio[:length]
        return clip

    # Each clip is its own espeak-ng process, so threads run them in
    # parallel; `map` keeps the order.
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        clips = list(pool.map(clip_of, settings))
    labels = [setting[0] for setting in settings]
    return np.stack(clips), np.array(labels, "int64")


def load_spoken_digits_many_voices(split="train"):
    """The spoken digits in 32 voices: espeak-ng's eight English accents,
    each plain and in three variants (`+f2`, `+f4`, `+m3`), at speeds
    130, 160 and 190 and pitches 25, 50 and 75; 8 kHz clips of 6,144
    samples (0.768 s).

    2,880 clips: the training split's 2,520 are seven accents (28 voices);
    the test split's 360 are the held-out Caribbean accent (`en-029`) in
    all its variants, a voice no model or classifier trained on. Clips
    are ordered digit, voice, speed, pitch. Synthesis takes a few minutes
    on one core (clips are made in parallel on all of them).

    Args:
        split: `"train"` or `"test"`.

    Returns:
        `(audio, labels)`: float32 `(n, 6144)` in [-1, 1] and int64
        digits.

    Example:

    ```python
    audio, digits = kgen.datasets.load_spoken_digits_many_voices("train")
    gan = kgen.models.WaveGAN(audio_length=6144, num_classes=10)
    gan.fit(audio[..., None], digits, batch_size=64)
    ```
    """
    if split not in ("train", "test"):
        raise ValueError(
            f'`split` must be "train" or "test"; received {split!r}.'
        )
    accents = [
        accent
        for accent in ENGLISH_ACCENTS
        if (accent == HELD_OUT_ACCENT) == (split == "test")
    ]
    return load_spoken_digits(
        sample_rate=MANY_VOICES_SAMPLE_RATE,
        clip_seconds=MANY_VOICES_AUDIO_LENGTH / MANY_VOICES_SAMPLE_RATE,
        voices=tuple(
            accent + variant for accent in accents for variant in VOICE_VARIANTS
        ),
    )


def load_spoken_digits_split(
    held_out_pitch=SPOKEN_DIGITS_HELD_OUT_PITCH, **kwargs
):
    """`load_spoken_digits`' clips split by pitch: those spoken at
    `held_out_pitch` are the test set, the others the training set.

    A test of generalisation to an unheard voice pitch (the
    `wave_net_spoken_digits` preset's held-out NLL).

    Args:
        held_out_pitch: int, one of `pitches`.
        **kwargs: `load_spoken_digits` arguments.

    Returns:
        `(x_train, y_train), (x_test, y_test)`, as `load_spoken_digits`.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = (
        kgen.datasets.load_spoken_digits_split()
    )
    levels = kgen.utils.mu_law_encode(x_train).astype("int32")
    ```
    """
    pitches = tuple(kwargs.get("pitches", SPOKEN_DIGITS_PITCHES))
    if held_out_pitch not in pitches:
        raise ValueError(
            f"`held_out_pitch` must be one of the pitches {pitches}; "
            f"received {held_out_pitch!r}."
        )
    audio, labels = load_spoken_digits(**kwargs)
    # Clips are ordered digit, voice, speed, pitch (pitch fastest).
    pitch = np.tile(pitches, len(audio) // len(pitches))
    test = pitch == held_out_pitch
    return (audio[~test], labels[~test]), (audio[test], labels[test])


def _command_line_synthesiser():
    """`(word, voice, speed, pitch) -> (audio, rate)` through the
    `espeak-ng` program, or `None` when it is not installed."""
    executable = shutil.which("espeak-ng")
    if executable is None:
        return None

    def synthesise(word, voice, speed, pitch):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "word.wav")
            subprocess.run(
                [executable, "-v", voice, "-s", str(speed), "-p", str(pitch)]
                + ["-w", path, word],
                check=True,
                capture_output=True,
            )
            return load_wav(path)

    return synthesise


# Synthesises one word through espeak-ng's C API (speak_lib.h) and writes
# the 16-bit samples to stdout. A fresh process per word: the library
# keeps state between utterances (the same word comes out a few samples
# longer or shorter the second time), which would break determinism.
_LIBRARY_SCRIPT = """
import ctypes, os, sys
import espeakng_loader

word, voice, speed, pitch = sys.argv[1:]
library = ctypes.CDLL(espeakng_loader.get_library_path())
folder = os.path.dirname(espeakng_loader.get_data_path()).encode()
SYNCHRONOUS_OUTPUT, RATE, PITCH, CHARACTER_POSITION = 2, 1, 3, 1
rate = library.espeak_Initialize(SYNCHRONOUS_OUTPUT, 0, folder, 0)
if rate <= 0 or library.espeak_SetVoiceByName(voice.encode()) != 0:
    sys.exit(f"espeak-ng: no voice {voice!r} or no data in {folder!r}")
chunks = []
def collect(samples, count, events):
    chunks.append(ctypes.string_at(samples, 2 * count))
    return 0
callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
    ctypes.c_void_p,
)(collect)
library.espeak_SetSynthCallback(callback)
library.espeak_SetParameter(RATE, int(speed), 0)
library.espeak_SetParameter(PITCH, int(pitch), 0)
text = word.encode() + b"\\0"
library.espeak_Synth(
    text, ctypes.c_size_t(len(text)), 0, CHARACTER_POSITION, 0, 0, None,
    None,
)
library.espeak_Synchronize()
sys.stdout.buffer.write(rate.to_bytes(4, "little") + b"".join(chunks))
"""


def _library_synthesiser():
    """The same through `libespeak-ng` from the `espeakng-loader` wheel,
    or `None` when that is not installed."""
    if importlib.util.find_spec("espeakng_loader") is None:
        return None

    def synthesise(word, voice, speed, pitch):
        output = subprocess.run(
            [sys.executable, "-c", _LIBRARY_SCRIPT, word, voice]
            + [str(speed), str(pitch)],
            check=True,
            capture_output=True,
        ).stdout
        rate = int.from_bytes(output[:4], "little")
        audio = np.frombuffer(output[4:], "<i2").astype("float32")
        return audio / 32768.0, rate

    return synthesise
