"""WaveGAN's generator and discriminator (Donahue et al., 2019), sized
from the clip length."""

import keras
from keras import layers

from kgen.layers.phase_shuffle import PhaseShuffle
from kgen.utils.argument_validation import validate_int

# Five stride-4 stages, as in the paper: 16 steps become 16,384.
NUM_STAGES = 5
STRIDE = 4
KERNEL_SIZE = 25


def check_audio_length(audio_length):
    """`audio_length` as an int, a multiple of `STRIDE**NUM_STAGES` =
    1,024 (the five stride-4 stages), or a `ValueError`."""
    audio_length = validate_int(audio_length, "audio_length")
    factor = STRIDE**NUM_STAGES
    if audio_length % factor:
        raise ValueError(
            f"`audio_length` must be a multiple of {factor} (five stride-"
            f"{STRIDE} stages), e.g. 16384 (the paper's, 1 s at 16 kHz) or "
            f"6144; received {audio_length}."
        )
    return audio_length


@keras.saving.register_keras_serializable(package="kgen")
def wavegan_generator(
    audio_length,
    latent_dim=100,
    model_size=64,
    num_classes=None,
    upsampling="transposed",
    name="generator",
):
    """WaveGAN's generator: a dense projection to `audio_length / 1024`
    steps of `16 * model_size` channels, then five stride-4 stages of
    length-25 kernels down to one channel, `tanh` out.

    ```
    z (latent_dim) -> dense -> (L/1024, 16d) -> ReLU
      -> [up x4, conv 25] (L/256, 8d) -> ... -> (L/4, d) -> ReLU
      -> [up x4, conv 25] (L, 1) -> tanh
    ```

    The paper's stages are transposed convolutions (`upsampling=
    "transposed"`); `"nearest"` repeats each step four times and then
    convolves, the variant its code offers against checkerboard
    artefacts. No batch normalisation, as in the paper.

    Args:
        audio_length: int, a multiple of 1,024: samples per clip.
        latent_dim: int. Size of the noise vector (the paper's 100).
        model_size: int. `d`, the last stage's channels (the paper's 64).
        num_classes: int >= 2 or `None`. Conditions on a class: a learned
            embedding of size `latent_dim` is concatenated to the noise.
        upsampling: `"transposed"` or `"nearest"`.
        name: str.

    Returns:
        A functional `keras.Model` `(batch, latent_dim) -> (batch,
        audio_length, 1)`, or `[(batch, latent_dim), (batch,)] -> ...`
        with `num_classes`.
    """
    audio_length = check_audio_length(audio_length)
    latent_dim = validate_int(latent_dim, "latent_dim")
    model_size = validate_int(model_size, "model_size")
    if upsampling not in ("transposed", "nearest"):
        raise ValueError(
            '`upsampling` must be "transposed" or "nearest"; received '
            f"{upsampling!r}."
        )
    noise = keras.Input((latent_dim,), name="noise")
    inputs, x = noise, noise
    if num_classes is not None:
        num_classes = validate_int(num_classes, "num_classes", minimum=2)
        labels = keras.Input((), dtype="int32", name="labels")
        embedded = layers.Embedding(num_classes, latent_dim)(labels)
        inputs, x = [noise, labels], layers.Concatenate()([noise, embedded])
    steps = audio_length // STRIDE**NUM_STAGES
    channels = model_size * 2 ** (NUM_STAGES - 1)
    x = layers.Dense(steps * channels)(x)
    x = layers.Reshape((steps, channels))(x)
    x = layers.ReLU()(x)
    for stage in range(NUM_STAGES):
        last = stage == NUM_STAGES - 1
        filters = 1 if last else model_size * 2 ** (NUM_STAGES - 2 - stage)
        if upsampling == "transposed":
            x = layers.Conv1DTranspose(
                filters, KERNEL_SIZE, strides=STRIDE, padding="same"
            )(x)
        else:
            x = layers.UpSampling1D(STRIDE)(x)
            x = layers.Conv1D(filters, KERNEL_SIZE, padding="same")(x)
        x = layers.Activation("tanh" if last else "relu")(x)
    return keras.Model(inputs, x, name=name)


@keras.saving.register_keras_serializable(package="kgen")
def wavegan_discriminator(
    audio_length,
    model_size=64,
    num_classes=None,
    phase_shuffle=2,
    seed=None,
    name="discriminator",
):
    """WaveGAN's discriminator: five stride-4 convolutions of length-25
    kernels with leaky ReLU (0.2), phase shuffle after each but the last,
    then one linear score; no normalisation (WGAN-GP forbids batch
    statistics in the critic).

    ```
    x (L, 1) -> [conv 25 /4, lrelu, shuffle] (L/4, d) -> ...
      -> [conv 25 /4, lrelu] (L/1024, 16d) -> flatten -> dense -> score
    ```

    Args:
        audio_length: int, a multiple of 1,024.
        model_size: int. `d`, the first stage's channels.
        num_classes: int >= 2 or `None`. Conditions on a class by
            projection (Miyato and Koyama, 2018): the score gains
            `embed(y) . phi(x)`.
        phase_shuffle: int >= 0. `kgen.layers.PhaseShuffle`'s radius (the
            paper's 2); 0 leaves it out.
        seed: int or `None`. Seed of the phase shuffles.
        name: str.

    Returns:
        A functional `keras.Model` `(batch, audio_length, 1) -> (batch,
        1)`, or `[(batch, audio_length, 1), (batch,)] -> (batch, 1)`.
    """
    audio_length = check_audio_length(audio_length)
    model_size = validate_int(model_size, "model_size")
    phase_shuffle = validate_int(phase_shuffle, "phase_shuffle", minimum=0)
    audio = keras.Input((audio_length, 1), name="audio")
    x = audio
    for stage in range(NUM_STAGES):
        x = layers.Conv1D(
            model_size * 2**stage, KERNEL_SIZE, strides=STRIDE, padding="same"
        )(x)
        x = layers.LeakyReLU(0.2)(x)
        if phase_shuffle and stage < NUM_STAGES - 1:
            x = PhaseShuffle(
                phase_shuffle, seed=None if seed is None else seed + stage
            )(x)
    features = layers.Flatten()(x)
    score = layers.Dense(1)(features)
    if num_classes is None:
        return keras.Model(audio, score, name=name)
    num_classes = validate_int(num_classes, "num_classes", minimum=2)
    labels = keras.Input((), dtype="int32", name="labels")
    embedded = layers.Embedding(num_classes, features.shape[-1])(labels)
    projection = layers.Dot(axes=1)([embedded, features])
    score = layers.Add()([score, projection])
    return keras.Model([audio, labels], score, name=name)
