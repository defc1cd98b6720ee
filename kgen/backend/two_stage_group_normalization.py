"""Group normalization whose statistics are reduced a channel at a time
first, for XLA on JAX and for TensorFlow.

```
mean_g = mean_{c in g} (mean_{h,w} x_c)
var_g  = mean_{c in g} (mean_{h,w} (x_c - mean_g)^2)
y      = gamma (x - mean_g) / sqrt(var_g + epsilon) + beta
```

Keras' layer reshapes channels-last activations into groups
`(batch, h, w, groups, channels / groups)` and reduces over the spatial
axes and the last one at once, keeping the group axis in between: a
reduction over strided memory, which XLA's CPU kernels (YNNPACK's
reductions on JAX) and TensorFlow's run slowly. Summing over the spatial
axes first leaves the channels innermost, contiguous, so that pass is a
plain column sum; the second, over a group's channels, is tiny. The
statistics are the same (in float32 or wider, centred variance: two
passes, as Keras'), up to the order of the sums. On one CPU core a
1.1M-parameter U-Net's training step at batch 32
(benchmarks.denoiser_vs_diffusers) took 6-10% less time on JAX and 7-12%
less on TensorFlow.
"""

import keras
from keras import ops


def group_normalization(inputs, groups, gamma, beta, epsilon):
    """Normalizes `inputs` `(batch, ..., channels)` over each group of
    channels and the axes between; `gamma` and `beta` `(channels,)` or
    `None`. Float32 arithmetic for half-precision inputs."""
    dtype = keras.backend.result_type(inputs.dtype, "float32")
    x = ops.cast(inputs, dtype)
    channels = x.shape[-1]
    spatial_axes = tuple(range(1, len(x.shape) - 1))
    grouped_shape = (-1, *ops.shape(x)[1:-1], groups, channels // groups)
    x = ops.reshape(x, grouped_shape)
    # Statistics shaped `(batch, 1, ..., 1, groups, 1)`.
    mean = _group_mean(x, spatial_axes)
    inverse = ops.rsqrt(
        _group_mean(ops.square(x - mean), spatial_axes) + epsilon
    )
    if gamma is not None:
        inverse = inverse * ops.reshape(ops.cast(gamma, dtype), x.shape[-2:])
    shift = -mean * inverse
    if beta is not None:
        shift = shift + ops.reshape(ops.cast(beta, dtype), x.shape[-2:])
    return ops.reshape(x * inverse + shift, ops.shape(inputs))


def _group_mean(x, spatial_axes):
    # Every group holds as many channels, so the mean of the channels'
    # means is the group's mean.
    per_channel = ops.mean(x, axis=spatial_axes, keepdims=True)
    return ops.mean(per_channel, axis=-1, keepdims=True)
