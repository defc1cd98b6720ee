import keras
from keras import layers
from keras import ops

from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class GatedPixelCNNBlock(RecordedConfig, keras.layers.Layer):
    """One layer of a gated PixelCNN: a vertical and a horizontal stack.

    ```
    v' = tanh(W_vf * v + V_vf c) . sigmoid(W_vg * v + V_vg c)
    h' = h + W_o (tanh(W_hf * h + U_f down(W_v * v) + V_hf c)
                  . sigmoid(W_hg * h + U_g down(W_v * v) + V_hg c))
    ```

    The vertical stack sees every column of the rows above (a
    `(k // 2 + 1) x k` convolution, padded so row `i` reads rows `<= i`,
    then shifted down one row before it reaches the horizontal stack);
    the horizontal stack sees the pixels left of the current one in its
    row (a `1 x (k // 2 + 1)` convolution). Together they cover everything
    before a pixel in raster order, without the blind spot of a masked
    3x3 stack. The convolutions are cropped by padding, not masked, so no
    weight is wasted on zeros.

    Args:
        filters: int. Channels of both stacks' outputs.
        kernel_size: int, odd. Width of the vertical stack's kernel.
        mask_type: `"A"` (first layer: the horizontal stack excludes the
            current pixel, and has no residual) or `"B"`.

    Call arguments:
        inputs: `[vertical, horizontal]` maps, or
            `[vertical, horizontal, condition]` where `condition` is a
            vector per example (a class embedding, added everywhere) or a
            map of the same height and width (added per pixel; it is
            given, not generated, so it may be seen everywhere).

    Returns:
        `[vertical, horizontal]`, each with `filters` channels.

    References:
        1. van den Oord et al. Conditional Image Generation with PixelCNN
           Decoders. 2016. arXiv:1606.05328.
    """

    def __init__(self, filters, kernel_size=3, mask_type="B", **kwargs):
        super().__init__(**kwargs)
        if mask_type not in ("A", "B"):
            raise ValueError(
                f"`mask_type` must be 'A' or 'B'; received {mask_type!r}."
            )
        if (
            not isinstance(kernel_size, int)
            or kernel_size < 1
            or (kernel_size % 2 == 0)
        ):
            raise ValueError(
                f"`kernel_size` must be an odd int; received {kernel_size!r}."
            )
        self.filters = filters
        self.kernel_size = kernel_size
        self.mask_type = mask_type
        half = kernel_size // 2
        # === Layers ===
        self.vertical_conv = layers.Conv2D(
            2 * filters, (half + 1, kernel_size), name="vertical_conv"
        )
        self.horizontal_conv = layers.Conv2D(
            2 * filters, (1, half + 1), name="horizontal_conv"
        )
        self.vertical_to_horizontal = layers.Conv2D(
            2 * filters, 1, name="vertical_to_horizontal"
        )
        self.horizontal_output = layers.Conv2D(
            filters, 1, name="horizontal_output"
        )

    def build(self, input_shape):
        vertical_shape, horizontal_shape = input_shape[0], input_shape[1]
        half = self.kernel_size // 2
        batch, height, width = vertical_shape[:3]
        padded_height = None if height is None else height + half
        self.vertical_conv.build(
            (batch, padded_height, width + 2 * half, vertical_shape[-1])
        )
        self.horizontal_conv.build(
            (batch, height, width + half, horizontal_shape[-1])
        )
        features_shape = (batch, height, width, 2 * self.filters)
        self.vertical_to_horizontal.build(features_shape)
        self.horizontal_output.build((batch, height, width, self.filters))
        self.conditioned = len(input_shape) == 3
        if self.conditioned:
            self.vertical_condition = layers.Dense(
                2 * self.filters, name="vertical_condition"
            )
            self.vertical_condition.build(input_shape[2])
            self.horizontal_condition = layers.Dense(
                2 * self.filters, name="horizontal_condition"
            )
            self.horizontal_condition.build(input_shape[2])

    def call(self, inputs):
        vertical, horizontal = inputs[0], inputs[1]
        half = self.kernel_size // 2
        # 1. Vertical stack: row i reads rows i - half .. i.
        vertical_features = self.vertical_conv(
            ops.pad(vertical, [[0, 0], [half, 0], [half, half], [0, 0]])
        )
        # 2. Horizontal stack: pixel j reads pixels j - half .. j of its
        #    row (j - half - 1 .. j - 1 in the first layer).
        if self.mask_type == "A":
            horizontal = ops.pad(horizontal, [[0, 0], [0, 0], [1, 0], [0, 0]])
            horizontal = horizontal[:, :, :-1]
        horizontal_features = self.horizontal_conv(
            ops.pad(horizontal, [[0, 0], [0, 0], [half, 0], [0, 0]])
        )
        # 3. The vertical stack, shifted down one row (rows < i only),
        #    feeds the horizontal one.
        shifted = ops.pad(vertical_features, [[0, 0], [1, 0], [0, 0], [0, 0]])[
            :, :-1
        ]
        horizontal_features = horizontal_features + self.vertical_to_horizontal(
            shifted
        )
        # 4. Conditioning: a vector broadcasts over the grid.
        if self.conditioned:
            condition = inputs[2]
            vertical_bias = self.vertical_condition(condition)
            horizontal_bias = self.horizontal_condition(condition)
            if len(condition.shape) == 2:
                vertical_bias = vertical_bias[:, None, None]
                horizontal_bias = horizontal_bias[:, None, None]
            vertical_features = vertical_features + vertical_bias
            horizontal_features = horizontal_features + horizontal_bias
        # 5. Gated activations; a residual on the horizontal stack.
        vertical_out = _gate(vertical_features)
        horizontal_out = self.horizontal_output(_gate(horizontal_features))
        if self.mask_type == "B":
            horizontal_out = horizontal_out + inputs[1]
        return [vertical_out, horizontal_out]

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[0][:3]) + (self.filters,)
        return [shape, shape]


def _gate(features):
    filter_part, gate_part = ops.split(features, 2, axis=-1)
    return ops.tanh(filter_part) * ops.sigmoid(gate_part)
