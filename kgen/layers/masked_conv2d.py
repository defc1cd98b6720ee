import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="kgen")
class MaskedConv2D(keras.layers.Conv2D):
    """A convolution that sees only pixels before the centre in raster order.

    The kernel is multiplied by a fixed mask: the rows above the centre and
    the pixels left of it in the centre row are kept; mask `"B"` also keeps
    the centre, mask `"A"` (the first layer) does not, so an output at
    pixel `i` depends on inputs `< i` only (PixelCNN, van den Oord et al.
    2016). Keras has no masked convolution, hence this layer.

    Args:
        mask_type: str. `"A"` or `"B"`.
        filters, kernel_size, ...: as `keras.layers.Conv2D`
            (`padding` is always `"same"`, odd kernel sizes only).

    References:
        1. van den Oord et al. Pixel Recurrent Neural Networks. 2016.
           arXiv:1601.06759.
    """

    def __init__(self, mask_type, filters, kernel_size, **kwargs):
        if mask_type not in ("A", "B"):
            raise ValueError(
                f"`mask_type` must be 'A' or 'B'; received {mask_type!r}."
            )
        kwargs["padding"] = "same"
        super().__init__(filters, kernel_size, **kwargs)
        if any(size % 2 == 0 for size in self.kernel_size):
            raise ValueError(
                f"`kernel_size` must be odd; received {self.kernel_size}."
            )
        self.mask_type = mask_type

    def build(self, input_shape):
        super().build(input_shape)
        height, width = self.kernel_size
        mask = np.zeros((height, width, 1, 1), "float32")
        mask[: height // 2] = 1.0
        mask[height // 2, : width // 2] = 1.0
        if self.mask_type == "B":
            mask[height // 2, width // 2] = 1.0
        self.kernel_mask = ops.convert_to_tensor(mask)

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * self.kernel_mask)

    def get_config(self):
        config = super().get_config()
        config["mask_type"] = self.mask_type
        config.pop("padding", None)
        return config
