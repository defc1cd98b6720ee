import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kgen")
class UpSamplingConv2D(keras.layers.Conv2D):
    """Nearest-neighbour 2x upsampling, then a 3x3 `"same"` convolution,
    computed on the low-resolution input.

    The upsampler of a U-Net or a decoder (diffusers' `Upsample2D`):

        u[p, q] = x[p // 2, q // 2]
        y = conv3x3(u, w) + b

    Each output pixel `(2i + a, 2j + c)` sees only two rows and two
    columns of `x`, so `y` is four 2x2 convolutions of `x`, one per phase
    `(a, c)`, whose taps are sums of `w`'s (rows shown; columns alike):

        a = 0:  x[i - 1] w[0] + x[i] (w[1] + w[2])
        a = 1:  x[i] (w[0] + w[1]) + x[i + 1] w[2]

    interleaved into the `2H x 2W` output: 4/9 of the multiply-adds of
    the convolution over `u`, and `u` is never written. The same function
    (up to float rounding) with the same weights as
    `UpSampling2D(2)` followed by `Conv2D(filters, 3, padding="same")`:
    the same kernel and bias, in the same order, so `get_weights` and
    `set_weights` move weights between the two. (A weights file does not:
    Keras files a layer's weights under its class's name.) On one CPU
    core JAX's forward and backward pass of the 16x16 -> 32x32 upsampler
    of `unet_denoiser` (64 -> 32 channels, batch 32) took 30 ms against
    42, and 10 against 18.5 for its 8x8 -> 16x16 one (64 channels).

    Args:
        filters: int. Output channels.
        **kwargs: `keras.layers.Conv2D`'s other arguments (activation,
            initializers, regularizers, constraints, `name`, `dtype`).
            The kernel is always 3x3, stride 1, `"same"`, channels last.
    """

    def __init__(self, filters, **kwargs):
        fixed = ("kernel_size", "strides", "padding", "dilation_rate")
        given = sorted(set(fixed) & set(kwargs))
        if given:
            raise ValueError(
                f"`UpSamplingConv2D` fixes {', '.join(fixed)}; received "
                f"{', '.join(f'{k}={kwargs[k]!r}' for k in given)}."
            )
        if kwargs.get("data_format", "channels_last") != "channels_last":
            raise ValueError(
                "`data_format` must be 'channels_last'; received "
                f"{kwargs['data_format']!r}."
            )
        if kwargs.get("groups", 1) != 1:
            raise ValueError(
                f"`groups` must be 1; received {kwargs['groups']!r}."
            )
        super().__init__(
            filters,
            3,
            padding="same",
            data_format="channels_last",
            **kwargs,
        )

    def convolution_op(self, inputs, kernel):
        taps = _phase_kernels(kernel)
        rows = []
        for a in (0, 1):
            # Phase 0 reads (i - 1, i), phase 1 (i, i + 1): x with a row
            # of zeros above or below (the upsampled image's zero padding
            # seen from the low resolution), and columns alike. Padded
            # per phase, not sliced out of one padded x: a slice's
            # gradient writes the whole padded array (TensorFlow's took
            # 2.4x the upsampler's time, forward and backward), a pad's
            # reads its window back.
            phases = [
                ops.conv(
                    ops.pad(inputs, ((0, 0), (1 - a, a), (1 - c, c), (0, 0))),
                    taps[a][c],
                )
                for c in (0, 1)
            ]
            # (batch, H, W, 2, filters): the two column phases.
            rows.append(ops.stack(phases, axis=3))
        # (batch, H, 2, W, 2, filters) -> (batch, 2H, 2W, filters).
        outputs = ops.stack(rows, axis=2)
        shape = ops.shape(inputs)
        return ops.reshape(
            outputs, (-1, 2 * shape[1], 2 * shape[2], self.filters)
        )

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        return (
            batch,
            None if height is None else 2 * height,
            None if width is None else 2 * width,
            self.filters,
        )

    def get_config(self):
        config = super().get_config()
        for name in (
            "kernel_size",
            "strides",
            "padding",
            "data_format",
            "dilation_rate",
            "groups",
        ):
            config.pop(name, None)
        return config


def _phase_kernels(kernel):
    """`taps[a][c]`, the 2x2 kernel of output phase `(a, c)`, from a 3x3
    `kernel` `(3, 3, in, out)`."""

    def fold(k, axis):
        # Phase 0 reads (i - 1, i): (k0, k1 + k2); phase 1 reads
        # (i, i + 1): (k0 + k1, k2).
        k0, k1, k2 = (ops.take(k, i, axis=axis) for i in range(3))
        return (
            ops.stack([k0, k1 + k2], axis=axis),
            ops.stack([k0 + k1, k2], axis=axis),
        )

    return [list(fold(rows, 1)) for rows in fold(kernel, 0)]
