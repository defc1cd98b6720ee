"""A small classifier of audio clips, for domain metrics (IS)."""

import keras
from keras import layers

from kgen.layers.dropout import Dropout
from kgen.utils.argument_validation import validate_int


@keras.saving.register_keras_serializable(package="kgen")
def audio_classifier(
    audio_length,
    num_classes=10,
    frame_length=256,
    filters=32,
    features_dim=128,
    name="classifier",
):
    """A log spectrogram, strided 2-D convolutions over it, a named
    feature layer and softmax over classes: the spoken-digit classifier
    an audio Inception Score needs (as SC09's is for WaveGAN).

    ```
    clip (L, 1) -> log |STFT|^2 (frames, bins, 1)
      -> 3 x [conv 3x3 /2, ReLU] -> flatten -> features -> softmax
    ```

    The spectrogram is Keras' `STFTSpectrogram` (Hann windows of
    `frame_length`, half overlapping), fixed rather than learned, so what
    the classifier hears is a time-frequency picture as in the spectrogram
    features of speech classifiers.

    Args:
        audio_length: int. Samples per clip, in [-1, 1].
        num_classes: int.
        frame_length: int. The STFT's window (and FFT) length.
        filters: int. Channels of the first convolution; doubled per stage.
        features_dim: int. Width of the `"features"` layer.
        name: str.

    Returns:
        A functional `keras.Model` `(batch, audio_length, 1) -> (batch,
        num_classes)` probabilities.
    """
    audio_length = validate_int(audio_length, "audio_length")
    frame_length = validate_int(frame_length, "frame_length", minimum=2)
    if audio_length < frame_length:
        raise ValueError(
            f"`audio_length` ({audio_length}) must be at least "
            f"`frame_length` ({frame_length})."
        )
    audio = keras.Input((audio_length, 1), name="audio")
    x = layers.STFTSpectrogram(
        mode="log",
        frame_length=frame_length,
        frame_step=frame_length // 2,
        expand_dims=True,
        name="spectrogram",
    )(audio)
    for stage in range(3):
        x = layers.Conv2D(
            filters * 2**stage,
            3,
            strides=2,
            padding="same",
            activation="relu",
        )(x)
    x = layers.Flatten()(x)
    features = layers.Dense(features_dim, activation="relu", name="features")(x)
    x = Dropout(0.3)(features)
    probabilities = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(audio, probabilities, name=name)
