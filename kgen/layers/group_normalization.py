import keras
from keras import ops

from kgen import backend


@keras.saving.register_keras_serializable(package="kgen")
class GroupNormalization(keras.layers.GroupNormalization):
    """`keras.layers.GroupNormalization` that runs as one fused kernel
    where the backend has one.

    Keras' layer is written in `keras.ops`: a reshape into groups, the
    moments, a reciprocal square root and an affine map. XLA fuses those
    on JAX and TensorFlow, but torch runs them one by one, each a pass
    over the activations (and as many again backwards), which made a
    U-Net's group norms cost as much as a sixth of a CPU training step.
    Where `kgen.backend.fused_group_normalization` exists (torch: its
    native `group_norm`, which reads channels-last activations in place)
    this layer calls it; elsewhere, or with the channels on another axis,
    it is Keras' layer. Arguments, config and weights are Keras'.

    Per group `g` of channels, over the spatial positions and the group's
    channels:

        y = gamma * (x - mean_g) / sqrt(var_g + epsilon) + beta

    with the statistics in float32 for half-precision inputs, as Keras
    computes them.
    """

    def call(self, inputs):
        fused = backend.fused_group_normalization
        if fused is None or self.axis not in (-1, len(inputs.shape) - 1):
            return super().call(inputs)
        outputs = fused(
            inputs,
            self.groups,
            self.gamma if self.scale else None,
            self.beta if self.center else None,
            self.epsilon,
        )
        return ops.cast(outputs, self.compute_dtype)
