import keras

from kgen.samplers.token_sampler import TokenSampler


@keras.saving.register_keras_serializable(package="kgen")
class GreedySampler(TokenSampler):
    """The most likely next token, `argmax_v logits_v` (deterministic).

    Example:

    >>> sampler = GreedySampler()
    >>> int(sampler(keras.ops.convert_to_tensor([[0.1, 2.0, -1.0]]))[0])
    1
    """

    stochastic = False

    def __init__(self):
        super().__init__(temperature=1.0)
