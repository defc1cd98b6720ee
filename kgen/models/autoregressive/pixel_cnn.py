import math

import keras
import numpy as np
from keras import layers
from keras import ops

from kgen import backend
from kgen.layers.masked_conv2d import MaskedConv2D
from kgen.models.generative_model import GenerativeModel


@keras.saving.register_keras_serializable(package="kgen")
class PixelCNN(GenerativeModel):
    """PixelCNN over grids of discrete values (binary images, VQ codes).

    ```
    p(x) = prod_i p(x_i | x_<i)       (raster order)
    loss = -(1 / N) sum_n log p(x_n)  (nats per grid, exact)
    ```

    The inputs are one-hot encoded and pass a 7x7 mask-A convolution and
    residual 3x3 mask-B convolutions (`kgen.layers.MaskedConv2D`), so the
    `num_levels` logits of pixel `i` see pixels `< i` only. `sample` draws
    the grid pixel by pixel as one `ops.fori_loop` (Gumbel-max with a
    per-step seed), `h * w` network passes.

    Args:
        grid_shape: `(height, width)`.
        num_levels: int >= 2. Values per pixel (2 for binary images, the
            codebook size for a VQ-VAE prior).
        filters: int. Channels of the masked convolutions.
        num_layers: int. Residual mask-B blocks.
        condition_channels: int. If > 0, the model is `p(x | c)` for a
            condition map `c` of shape `(height, width, condition_channels)`
            (e.g. VQ-VAE-2's decoded top codes for its bottom prior),
            added through unmasked 1x1 convolutions: `c` is given, not
            generated, so it may be seen everywhere. Train with
            `fit({"grids": x, "condition": c})`.
        seed: int or `None`.

    References:
        1. van den Oord et al. Pixel Recurrent Neural Networks. 2016.
           arXiv:1601.06759.
    """

    def __init__(
        self,
        grid_shape,
        num_levels=2,
        filters=64,
        num_layers=5,
        condition_channels=0,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        grid_shape = tuple(int(d) for d in grid_shape)
        if len(grid_shape) != 2 or min(grid_shape) < 1:
            raise ValueError(
                f"`grid_shape` must be (height, width); received {grid_shape}."
            )
        if not isinstance(num_levels, int) or num_levels < 2:
            raise ValueError(
                f"`num_levels` must be an int >= 2; received {num_levels!r}."
            )
        self.grid_shape = grid_shape
        self.num_levels = num_levels
        self.filters = filters
        self.num_layers = num_layers
        self.condition_channels = condition_channels
        # === Layers ===
        inputs = [keras.Input(grid_shape + (num_levels,))]
        if condition_channels:
            inputs.append(keras.Input(grid_shape + (condition_channels,)))

        def conditioned(h):
            if not condition_channels:
                return h
            return h + layers.Conv2D(filters, 1)(inputs[1])

        h = conditioned(MaskedConv2D("A", filters, 7)(inputs[0]))
        for _ in range(num_layers):
            update = layers.Activation("relu")(h)
            update = conditioned(MaskedConv2D("B", filters, 3)(update))
            h = h + update
        h = layers.Conv2D(filters, 1, activation="relu")(
            layers.Activation("relu")(h)
        )
        logits = layers.Conv2D(num_levels, 1)(h)
        self.network = keras.Model(inputs, logits, name="pixel_cnn")
        self.built = True

    @property
    def data_shape(self):
        return self.grid_shape

    def _one_hot(self, x):
        return ops.one_hot(ops.cast(x, "int32"), self.num_levels)

    def _unpack(self, x, condition=None):
        if isinstance(x, dict):
            x, condition = x["grids"], x.get("condition")
        if self.condition_channels and condition is None:
            raise ValueError(
                "This PixelCNN is conditional (`condition_channels="
                f"{self.condition_channels}`): pass `condition` maps of "
                f"shape {self.grid_shape + (self.condition_channels,)}."
            )
        return x, condition

    def call(self, x, training=False):
        """Logits `(batch, height, width, num_levels)`."""
        x, condition = self._unpack(x)
        inputs = [self._one_hot(x)]
        if self.condition_channels:
            inputs.append(ops.convert_to_tensor(condition, "float32"))
        return self.network(inputs, training=training)

    def log_prob(self, x, condition=None):
        """Exact `log p(x)` (or `log p(x | condition)`) per grid, in nats."""
        x, condition = self._unpack(x, condition)
        x = ops.convert_to_tensor(x)
        logits = self({"grids": x, "condition": condition})
        negative = keras.losses.sparse_categorical_crossentropy(
            ops.cast(x, "int32"), logits, from_logits=True
        )
        return -ops.sum(negative, axis=(1, 2))

    def bits_per_dim(self, x, condition=None):
        return -self.log_prob(x, condition) / (
            math.prod(self.grid_shape) * math.log(2)
        )

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        x, _ = self._unpack(x)
        negative = keras.losses.sparse_categorical_crossentropy(
            ops.cast(x, "int32"), y_pred, from_logits=True
        )
        loss = ops.sum(negative, axis=(1, 2))
        if sample_weight is not None:
            return ops.sum(loss * sample_weight) / ops.sum(sample_weight)
        return ops.mean(loss)

    def _validate_data(self, x, argument):
        if isinstance(x, dict):
            x = x["grids"]
        super()._validate_data(x, argument)
        if x is None or not hasattr(x, "shape"):
            return
        values = np.asarray(ops.convert_to_numpy(x))
        if (
            values.min() < 0
            or values.max() >= self.num_levels
            or not np.all(values == np.round(values))
        ):
            raise ValueError(
                f"`{argument}` must hold integer levels in [0, "
                f"{self.num_levels}); received values in "
                f"[{values.min():g}, {values.max():g}]"
                + (
                    ""
                    if np.all(values == np.round(values))
                    else " that are not integers"
                )
                + ". Quantise the data first (e.g. binarise images)."
            )

    def sample(self, num_samples, temperature=1.0, seed=None, condition=None):
        """Grids drawn pixel by pixel; `temperature` scales the logits."""
        self._check_num_samples(num_samples)
        _, condition = self._unpack(None, condition)
        if not temperature > 0:
            raise ValueError(
                f"`temperature` must be > 0; received {temperature!r}."
            )
        height, width = self.grid_shape
        size = height * width
        loop_seed = keras.random.randint(
            (2,), 0, 2**30, "int32", seed=self._seed(seed)
        )
        positions = ops.arange(size)

        def body(index, flat):
            # 1. Logits of every pixel given the grid so far.
            grid = ops.reshape(flat, (num_samples, height, width))
            logits = self({"grids": grid, "condition": condition})
            logits = ops.reshape(logits, (num_samples, size, -1))
            pixel = ops.take(logits, index, axis=1) / temperature
            # 2. Gumbel-max draw for pixel `index`.
            uniform = backend.stateless_uniform(
                (num_samples, self.num_levels),
                loop_seed + ops.stack([0, index]),
            )
            gumbel = -ops.log(-ops.log(uniform * (1 - 2e-7) + 1e-7))
            value = ops.cast(ops.argmax(pixel + gumbel, axis=-1), "int32")
            # 3. Write it into the grid.
            return ops.where(positions[None, :] == index, value[:, None], flat)

        flat = ops.zeros((num_samples, size), "int32")
        with backend.no_grad():
            flat = ops.fori_loop(0, size, body, flat)
        return ops.reshape(flat, (num_samples, height, width))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "grid_shape": self.grid_shape,
                "num_levels": self.num_levels,
                "filters": self.filters,
                "num_layers": self.num_layers,
                "condition_channels": self.condition_channels,
            }
        )
        return config
