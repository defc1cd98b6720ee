import keras

from kgen.samplers.token_sampler import TokenSampler


@keras.saving.register_keras_serializable(package="kgen")
class RandomSampler(TokenSampler):
    """A draw from the whole distribution `softmax(logits / temperature)`.

    Args:
        temperature: float > 0. Below 1 sharpens, above 1 flattens.
    """
