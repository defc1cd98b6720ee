import keras
from keras import ops

from kgen import backend


@keras.saving.register_keras_serializable(package="kgen")
class GroupNormalization(keras.layers.GroupNormalization):
    """`keras.layers.GroupNormalization` through the backend's fastest
    group normalization.

    Keras' layer is written in `keras.ops`: a reshape into groups, the
    moments, a reciprocal square root and an affine map. torch runs those
    one by one, each a pass over the activations (and as many again
    backwards), which made a U-Net's group norms cost as much as a sixth
    of a CPU training step; there this layer is torch's native
    `group_norm`, which reads channels-last activations in place. On JAX
    and TensorFlow it is Keras' arithmetic with the statistics summed over
    the spatial axes before the group's channels and applied a channel at
    a time, which XLA's and TensorFlow's CPU kernels reduce and
    differentiate faster (`kgen.backend.group_normalization`). With the
    channels on another axis it is Keras' layer. Arguments, config and
    weights are Keras'.

    Per group `g` of channels, over the spatial positions and the group's
    channels:

        y = gamma * (x - mean_g) / sqrt(var_g + epsilon) + beta

    with the statistics in float32 for half-precision inputs, as Keras
    computes them.
    """

    def call(self, inputs):
        if self.axis not in (-1, len(inputs.shape) - 1):
            return super().call(inputs)
        outputs = backend.group_normalization(
            inputs,
            self.groups,
            self.gamma if self.scale else None,
            self.beta if self.center else None,
            self.epsilon,
        )
        return ops.cast(outputs, self.compute_dtype)
