import math

import keras
from keras import ops

from kgen import backend
from kgen.distributions.discretized_logistic_mixture import (
    DiscretizedLogisticMixture,
)
from kgen.models import public_inputs
from kgen.models.conditioning import Conditioning
from kgen.models.generative_model import GenerativeModel
from kgen.networks.pixel_cnn import pixel_cnn_network
from kgen.samplers.random_sampler import RandomSampler
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_bool
from kgen.utils.argument_validation import validate_choice
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.data_validation import validate_levels


@keras.saving.register_keras_serializable(package="kgen")
class PixelCNN(GenerativeModel):
    """PixelCNN over grids of discrete values (binary or 256-level
    images, VQ codes), optionally class- or map-conditional.

    ```
    p(x | c) = prod_i p(x_i | x_<i, c)   (raster order)
    loss = -(1 / N) sum_n log p(x_n | c_n)  (nats per grid, exact)
    ```

    Each `p(x_i | x_<i, c)` is a softmax over the levels, or with
    `likelihood="logistic_mixture"` a `DiscretizedLogisticMixture` (PixelCNN++:
    `3 num_mixtures` outputs per pixel instead of `num_levels`, and
    neighbouring levels share probability mass, which suits 256-level
    intensities).

    The inputs are one-hot encoded. The default `"gated"` network stacks
    `kgen.layers.GatedPixelCNNBlock`s (vertical and horizontal stacks with
    gated `tanh . sigmoid` units: every earlier pixel is in view, no blind
    spot); `"plain"` is the original masked stack, a 7x7 mask-A
    convolution then residual 3x3 mask-B ones (`kgen.layers.MaskedConv2D`,
    blind up and right of each pixel). Either way the logits of pixel `i`
    see pixels `< i` only. `sample` draws the grid pixel by pixel as one
    `ops.fori_loop` (Gumbel-max with a per-step seed), `h * w` network
    passes.

    Args:
        grid_shape: `(height, width)`.
        num_levels: int >= 2. Values per pixel (2 for binary images, the
            codebook size for a VQ-VAE prior).
        filters: int. Channels of every layer.
        num_layers: int. Layers after the first (3x3 gated blocks or
            residual mask-B convolutions).
        condition_channels: int. If > 0, the model is `p(x | c)` for a
            condition map `c` of shape `(height, width, condition_channels)`
            (e.g. VQ-VAE-2's decoded top codes for its bottom prior),
            added through unmasked 1x1 convolutions: `c` is given, not
            generated, so it may be seen everywhere. Train with
            `fit(x, c)` (with `num_classes` too: `fit(x, {"labels": y,
            "condition": c})`).
        num_classes: int or `None`. Makes the model class-conditional
            (a label embedding added to every layer): `fit(x, labels)`,
            `sample(n, labels=...)`, `log_prob(x, labels=...)`.
        architecture: `"gated"` or `"plain"` (see above).
        likelihood: `"categorical"` or `"logistic_mixture"` (see above).
        num_mixtures: int. Logistic components per pixel (mixture output).
        seed: int or `None`.

    References:
        1. van den Oord et al. Pixel Recurrent Neural Networks. 2016.
           arXiv:1601.06759.
        2. van den Oord et al. Conditional Image Generation with PixelCNN
           Decoders. 2016. arXiv:1606.05328.
    """

    capabilities = ("sample", "log_prob", "bits_per_dim")

    conditioning = Conditioning(labels=True, data_key="grids")

    def __init__(
        self,
        grid_shape,
        num_levels=2,
        filters=64,
        num_layers=5,
        condition_channels=0,
        num_classes=None,
        architecture="gated",
        likelihood="categorical",
        num_mixtures=5,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        grid_shape = tuple(int(d) for d in grid_shape)
        if len(grid_shape) != 2 or min(grid_shape) < 1:
            raise ValueError(
                f"`grid_shape` must be (height, width); received {grid_shape}."
            )
        num_levels = validate_int(num_levels, "num_levels", minimum=2)
        num_classes = validate_optional_int(num_classes, "num_classes", 2)
        validate_choice(architecture, "architecture", ("gated", "plain"))
        validate_choice(
            likelihood, "likelihood", ("categorical", "logistic_mixture")
        )
        num_mixtures = validate_int(num_mixtures, "num_mixtures")
        self.grid_shape = grid_shape
        self.num_levels = num_levels
        self.filters = filters
        self.num_layers = num_layers
        self.condition_channels = condition_channels
        self.num_classes = num_classes
        self.architecture = architecture
        self.likelihood = likelihood
        self.num_mixtures = num_mixtures
        # === Layers ===
        self.network = pixel_cnn_network(
            grid_shape[1],
            num_levels,
            filters=filters,
            num_layers=num_layers,
            condition_channels=condition_channels,
            num_classes=num_classes,
            architecture=architecture,
            outputs_per_pixel=(
                num_levels if likelihood == "categorical" else 3 * num_mixtures
            ),
        )
        self.built = True

    @property
    def receptive_rows(self):
        """How many rows above its own a pixel's logits can see: 3 for
        the 7x7 first layer, 1 per 3x3 layer, and the gated network's
        one-row shift from the vertical to the horizontal stack."""
        return 3 + self.num_layers + (self.architecture == "gated")

    @property
    def data_shape(self):
        return self.grid_shape

    @property
    def condition_shape(self):
        if not self.condition_channels:
            return None
        return self.grid_shape + (self.condition_channels,)

    def _one_hot(self, x):
        return ops.one_hot(ops.cast(x, "int32"), self.num_levels)

    def _unpack(self, x, condition=None, labels=None):
        """`(grids, condition, labels)` from a dict or arrays, checking
        that a conditional model gets its conditions."""
        if isinstance(x, dict):
            x, labels, condition = self.conditioning.split(x)
        if not self.condition_channels and condition is not None:
            raise ValueError(
                "`condition` was given, but this PixelCNN has no condition "
                "maps (`condition_channels=None`)."
            )
        if self.condition_channels and condition is None:
            raise ValueError(
                "This PixelCNN is conditional (`condition_channels="
                f"{self.condition_channels}`): pass `condition` maps of "
                f"shape {self.grid_shape + (self.condition_channels,)}."
            )
        if self.num_classes and labels is None:
            raise ValueError(
                f"This PixelCNN is class-conditional (`num_classes="
                f"{self.num_classes}`): pass `labels`."
            )
        return x, condition, labels

    def _network_inputs(self, x, condition, labels):
        inputs = {"grids": self._one_hot(x)}
        if self.condition_channels:
            inputs["condition"] = ops.convert_to_tensor(condition, "float32")
        if self.num_classes:
            inputs["labels"] = ops.reshape(
                ops.convert_to_tensor(labels, "int32"), (-1,)
            )
        return inputs

    def call(self, x, training=False):
        """The pixel distributions' parameters: logits `(batch, height,
        width, num_levels)`, or `3 num_mixtures` mixture parameters."""
        return backend.call_network(
            self.network, self._network_inputs(*self._unpack(x)), training
        )

    def log_prob(self, x, *, condition=None, labels=None):
        """Exact `log p(x)` (or `log p(x | condition, labels)`) per grid,
        in nats."""
        x, condition, labels = self._unpack(x, condition, labels)
        x = ops.convert_to_tensor(public_inputs.check_examples(self, x))
        if labels is not None:
            labels = public_inputs.check_labels(self, labels, x)
        if condition is not None:
            condition = public_inputs.check_condition_values(
                self, condition, x.shape[0]
            )
        outputs = self({"grids": x, "condition": condition, "labels": labels})
        return ops.sum(self._pixel_log_probs(x, outputs), axis=(1, 2))

    def _mixture(self, outputs):
        logits, loc, log_scale = ops.split(outputs, 3, axis=-1)
        # Centred at mid-grey at initialisation; scales clamped as in
        # PixelCNN++ (a bin is 1/255 wide, so exp(-7) is already sharp).
        scale = ops.exp(ops.clip(log_scale, -7.0, 5.0))
        return DiscretizedLogisticMixture(
            logits, 0.5 + loc, scale, self.num_levels
        )

    def _pixel_log_probs(self, x, outputs):
        """`log p(x_i | x_<i)` per pixel from the network's outputs."""
        if self.likelihood == "categorical":
            return -keras.losses.sparse_categorical_crossentropy(
                ops.cast(x, "int32"), outputs, from_logits=True
            )
        values = ops.cast(x, "float32") / (self.num_levels - 1)
        return self._mixture(outputs).log_prob(values)

    def _level_logits(self, outputs):
        """Logits over the levels (for sampling) from the outputs."""
        if self.likelihood == "categorical":
            return outputs
        return self._mixture(outputs).level_logits()

    def bits_per_dim(self, x, *, condition=None, labels=None):
        return -self.log_prob(x, condition=condition, labels=labels) / (
            math.prod(self.grid_shape) * math.log(2)
        )

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        x, _, _ = self._unpack(x)
        loss = -ops.sum(self._pixel_log_probs(x, y_pred), axis=(1, 2))
        if sample_weight is not None:
            return ops.sum(loss * sample_weight) / ops.sum(sample_weight)
        return ops.mean(loss)

    def _validate_data(self, x, argument):
        super()._validate_data(x, argument)
        if x is None or not hasattr(x, "shape"):
            return
        validate_levels(x, self.num_levels, argument, "e.g. binarise images")

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        condition=None,
        temperature=1.0,
        windowed=True,
    ):
        """Grids drawn pixel by pixel; `temperature` scales the logits.

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            labels: an int or `num_samples` ints (class-conditional
                models; `None` draws classes uniformly).
            condition: condition maps (map-conditional models).
            temperature: float > 0.
            windowed: bool. Run the network, for each pixel, only on the
                `receptive_rows + 1` rows that can reach it (the same
                logits, fewer rows: `height / (receptive_rows + 1)` times
                less work on tall grids); `False` runs the whole grid per
                pixel (the naive loop, kept to check and time this one).
        """
        public_inputs.check_num_samples(num_samples)
        windowed = validate_bool(windowed, "windowed")
        seed = public_inputs.seed_source(self, seed)
        labels = public_inputs.sample_labels(self, labels, num_samples, seed)
        _, condition, labels = self._unpack(None, condition, labels)
        if condition is not None:
            condition = public_inputs.check_condition_values(
                self, condition, num_samples
            )
        window = self.grid_shape[0]
        if windowed:
            window = min(window, self.receptive_rows + 1)
        sampler = RandomSampler(temperature)

        def program(model, flat, labels, condition, loop_seed):
            def draw(logits, index):
                return sampler(logits, loop_seed + ops.stack([0, index]))

            return model._sample_loop(flat, labels, condition, draw, window)

        flat = ops.zeros((num_samples, math.prod(self.grid_shape)), "int32")
        # One compiled program per temperature and window, as the
        # denoisers' loops (`backend.inference_program`, without
        # gradients): run eagerly, TensorFlow's while loop called the
        # network from Python at every pixel (16 MNIST grids: 92 s, 12.8 s
        # compiled).
        key = ("pixel_cnn.sample", float(temperature), window)
        return backend.inference_program(
            self,
            key,
            program,
            flat,
            labels,
            condition,
            seeds.loop_seed(seed),
        )

    def _sample_loop(self, flat, labels, condition, draw, window):
        """`sample`'s pixel-by-pixel `ops.fori_loop` (also the exported
        endpoint's) over `flat`, zero grids of shape `(batch, height *
        width)`: `draw(logits, index)` picks the levels of pixel `index`
        from its `(batch, num_levels)` logits; `window` is a Python int.
        Nothing here names the batch size, which an exported endpoint
        leaves free."""
        height, width = self.grid_shape
        size = height * width
        positions = ops.arange(size)

        def body(index, flat):
            # 1. The rows that can reach pixel `index`: a window ending at
            #    its row (starting at row 0 near the top, where the
            #    network's own padding must be the true top edge).
            row, column = index // width, index % width
            start = ops.minimum(
                ops.maximum(row - (window - 1), 0), height - window
            )
            rows = start + ops.arange(window)
            grid = ops.reshape(flat, (-1, height, width))
            window_condition = None
            if condition is not None:
                window_condition = ops.take(condition, rows, axis=1)
            # 2. The logits of pixel `index`, from its place in the window
            #    (on torch, the network's traced graph: Keras' layer by
            #    layer Python took most of each of the 784 calls).
            outputs = backend.inference_call(
                self.network,
                self._network_inputs(
                    ops.take(grid, rows, axis=1), window_condition, labels
                ),
            )
            logits = ops.reshape(
                outputs, (-1, window * width, outputs.shape[-1])
            )
            offset = (row - start) * width + column
            pixel = self._level_logits(ops.take(logits, offset, axis=1))
            # 3. A draw from softmax(logits / temperature) for the pixel.
            value = draw(pixel, index)
            # 4. Write it into the grid.
            return ops.where(positions[None, :] == index, value[:, None], flat)

        flat = ops.fori_loop(0, size, body, flat)
        return ops.reshape(flat, (-1, height, width))

    # === Export ===

    def serving_endpoints(self):
        """`sample`: standard normal `noise` of shape `(batch, height,
        width)` (plus `labels` / `condition` for conditional models) ->
        `batch` grids. Noise, not a seed, so that the client chooses how
        many grids it gets (a seed would fix the count in the compiled
        loop's static shapes) and the same noise gives the same grids on
        every backend. Pixel `i` takes the level where the CDF of its
        distribution first passes `Phi(noise_i)`:

            x_i = #{k : CDF_i(k) <= Phi(noise_i)},  Phi the normal CDF

        an inverse-CDF draw from `softmax(logits_i)`, the distribution
        `sample` draws from with its own random stream (`Phi` to 1.5e-7,
        see `_normal_cdf`)."""
        window = min(self.grid_shape[0], self.receptive_rows + 1)
        height, width = self.grid_shape
        noise = keras.InputSpec(
            shape=(None,) + self.grid_shape, dtype="float32"
        )
        labels = keras.InputSpec(shape=(None,), dtype="int32")
        condition = keras.InputSpec(
            shape=(None,) + self.grid_shape + (self.condition_channels,),
            dtype="float32",
        )

        def sample(noise, labels=None, condition=None):
            uniform = ops.reshape(_normal_cdf(noise), (-1, height * width))

            def draw(logits, index):
                # float32 whatever the policy: `uniform` is float32.
                probabilities = ops.softmax(ops.cast(logits, "float32"))
                cdf = ops.cumsum(probabilities, axis=-1)
                below = cdf <= ops.take(uniform, index, axis=1)[:, None]
                level = ops.sum(ops.cast(below, "int32"), axis=-1)
                # Rounding can leave the last CDF value a hair under 1.
                return ops.minimum(level, self.num_levels - 1)

            flat = ops.zeros_like(uniform, "int32")
            return self._sample_loop(flat, labels, condition, draw, window)

        def sample_given_condition(noise, condition):
            return sample(noise, condition=condition)

        if self.num_classes and self.condition_channels:
            return {"sample": (sample, [noise, labels, condition])}
        if self.num_classes:
            return {"sample": (sample, [noise, labels])}
        if self.condition_channels:
            return {"sample": (sample_given_condition, [noise, condition])}
        return {"sample": (sample, [noise])}


def _normal_cdf(x):
    """`Phi(x) = (1 + erf(x / sqrt(2))) / 2`, with erf from Abramowitz and
    Stegun 7.1.26 (absolute error under 1.5e-7, float32's resolution near
    1): JAX's `erf` lowers to a StableHLO op that TensorFlow's
    `XlaCallModule` (TF 2.21) cannot read, so a SavedModel exported from
    JAX with `ops.erf` fails to load."""
    y = ops.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * y)
    polynomial = t * (
        0.254829592
        + t
        * (
            -0.284496736
            + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))
        )
    )
    erf = 1.0 - polynomial * ops.exp(-y * y)
    return 0.5 * (1.0 + ops.sign(x) * erf)
