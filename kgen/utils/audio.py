"""Audio helpers: mu-law companding and WAV files (standard library)."""

import wave

import numpy as np


def mu_law_encode(audio, quantization_channels=256):
    """Quantises audio in [-1, 1] to `quantization_channels` integer levels.

    ```
    f(x) = sign(x) log(1 + mu |x|) / log(1 + mu),   mu = channels - 1
    level = round((f(x) + 1) / 2 * mu)
    ```

    Companding spends the levels where speech has most of its samples,
    near zero (WaveNet, van den Oord et al. 2016, eq. 2).

    Args:
        audio: float array in [-1, 1].
        quantization_channels: int >= 2.

    Returns:
        int32 array of levels in `[0, quantization_channels)`.
    """
    audio = np.asarray(audio, "float64")
    if audio.size and (
        np.abs(audio).max() > 1.0 or not np.isfinite(audio).all()
    ):
        raise ValueError(
            "`audio` must be finite and lie in [-1, 1]; received values in "
            f"[{np.nanmin(audio):g}, {np.nanmax(audio):g}]."
        )
    mu = quantization_channels - 1
    companded = np.sign(audio) * np.log1p(mu * np.abs(audio)) / np.log1p(mu)
    return np.round((companded + 1) / 2 * mu).astype("int32")


def mu_law_decode(levels, quantization_channels=256):
    """The inverse of `mu_law_encode`: levels back to audio in [-1, 1]."""
    levels = np.asarray(levels, "float64")
    mu = quantization_channels - 1
    companded = 2 * levels / mu - 1
    return (
        np.sign(companded) * np.expm1(np.abs(companded) * np.log1p(mu)) / mu
    ).astype("float32")


def save_wav(path, audio, sample_rate):
    """Writes mono audio in [-1, 1] as a 16-bit PCM WAV file; returns
    `path`."""
    audio = np.clip(np.asarray(audio, "float64").reshape(-1), -1.0, 1.0)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(int(sample_rate))
        f.writeframes((audio * 32767).astype("<i2").tobytes())
    return path


def load_wav(path):
    """`(audio in [-1, 1] float32, sample_rate)` of a 16-bit mono WAV."""
    with wave.open(str(path), "rb") as f:
        if f.getsampwidth() != 2 or f.getnchannels() != 1:
            raise ValueError(
                f"{path}: expected 16-bit mono PCM; found "
                f"{8 * f.getsampwidth()}-bit, {f.getnchannels()} channels."
            )
        frames = f.readframes(f.getnframes())
        rate = f.getframerate()
    return np.frombuffer(frames, "<i2").astype("float32") / 32768.0, rate
