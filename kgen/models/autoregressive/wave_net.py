import keras
import numpy as np
from keras import layers
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.models.conditioning import Conditioning
from kgen.models.generative_model import GenerativeModel
from kgen.samplers.random_sampler import RandomSampler
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_bool
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.data_validation import check_real_dtype
from kgen.utils.data_validation import host_array
from kgen.utils.data_validation import validate_levels


@keras.saving.register_keras_serializable(package="kgen")
class WaveNet(GenerativeModel):
    """WaveNet: dilated causal convolutions over quantised audio.

    ```
    p(x | c) = prod_t p(x_t | x_<t, c)        softmax over mu-law levels
    z_k = tanh(W_f,k *_d x + V_f,k c) . sigmoid(W_g,k *_d x + V_g,k c)
    loss = -(1 / (T - 1)) sum_{t >= 1} log p(x_t | x_<t, c)  (nats/sample)
    ```

    The levels are one-hot encoded and pass a causal 2-tap convolution,
    then one gated residual block per entry of `dilations` (kernel 2,
    `keras.layers.Conv1D(padding="causal", dilation_rate=d)`: Keras' own
    causal convolution), whose skip outputs are summed into two 1x1
    layers. The output at step `t` sees steps `<= t` and predicts
    `x_{t+1}`, so `fit(audio)` trains every step of a clip at once.
    `sample` draws one step at a time as one `ops.fori_loop`, running the
    network only on the `receptive_field` steps that can reach the next
    one.

    Args:
        num_levels: int >= 2. Quantisation levels (256 for 8-bit mu-law,
            `kgen.utils.mu_law_encode`).
        dilations: tuple of ints. One gated residual block per entry; the
            receptive field is `2 + sum(dilations)` steps.
        residual_channels: int. Width of the residual stream.
        skip_channels: int. Width of the skip connections and the head.
        num_classes: int or `None`. Global conditioning on a label per clip
            (e.g. the spoken digit or the speaker): `fit(audio, labels)`,
            `sample(n, length, labels=...)`.
        seed: int or `None`.

    Example:

    ```python
    levels = kgen.utils.mu_law_encode(clips)       # (n, T) in [0, 256)
    model = kgen.models.WaveNet(dilations=(1, 2, 4, 8, 16, 32, 64, 128))
    model.compile(optimizer="adam")
    model.fit(levels, batch_size=16, epochs=10)
    audio = kgen.utils.mu_law_decode(model.sample(4, length=8000, seed=0))
    ```

    References:
        1. van den Oord et al. WaveNet: A Generative Model for Raw Audio.
           2016. arXiv:1609.03499.
    """

    capabilities = ("sample", "log_prob")

    conditioning = Conditioning(labels=True, data_key="audio")

    def __init__(
        self,
        num_levels=256,
        dilations=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
        residual_channels=32,
        skip_channels=64,
        num_classes=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        num_levels = validate_int(num_levels, "num_levels", minimum=2)
        dilations = tuple(dilations)
        if not dilations or any(
            not isinstance(d, int) or d < 1 for d in dilations
        ):
            raise ValueError(
                "`dilations` must be a non-empty sequence of positive ints; "
                f"received {dilations!r}."
            )
        num_classes = validate_optional_int(num_classes, "num_classes", 2)
        self.num_levels = num_levels
        self.dilations = dilations
        self.residual_channels = residual_channels
        self.skip_channels = skip_channels
        self.num_classes = num_classes
        # === Layers ===
        inputs = {"audio": keras.Input((None, num_levels), name="audio")}
        if num_classes:
            inputs["labels"] = keras.Input((), dtype="int32", name="labels")
            label_embedding = layers.Embedding(num_classes, residual_channels)(
                inputs["labels"]
            )
        h = layers.Conv1D(residual_channels, 2, padding="causal")(
            inputs["audio"]
        )
        skips = []
        for dilation in dilations:
            z = layers.Conv1D(
                2 * residual_channels,
                2,
                padding="causal",
                dilation_rate=dilation,
            )(h)
            if num_classes:
                bias = layers.Dense(2 * residual_channels)(label_embedding)
                z = z + layers.Reshape((1, 2 * residual_channels))(bias)
            filter_part, gate_part = ops.split(z, 2, axis=-1)
            gated = ops.tanh(filter_part) * ops.sigmoid(gate_part)
            skips.append(layers.Conv1D(skip_channels, 1)(gated))
            h = h + layers.Conv1D(residual_channels, 1)(gated)
        out = layers.Activation("relu")(layers.Add()(skips))
        out = layers.Conv1D(skip_channels, 1, activation="relu")(out)
        logits = layers.Conv1D(num_levels, 1)(out)
        self.network = keras.Model(inputs, logits, name="wave_net")
        self.built = True

    @property
    def receptive_field(self):
        """Steps that reach one output: the 2-tap first layer plus `d`
        per dilated layer."""
        return 2 + sum(self.dilations)

    @property
    def data_shape(self):
        return (None,)

    # === Likelihood ===

    def call(self, x, training=False):
        """Logits `(batch, steps, num_levels)`; step `t` predicts
        `x_{t+1}`."""
        audio, labels, _ = self.conditioning.split(x)
        if self.num_classes and labels is None:
            raise ValueError(
                f"This WaveNet is conditional (`num_classes="
                f"{self.num_classes}`): pass `labels`."
            )
        return backend.call_network(
            self.network, self._network_inputs(audio, labels), training
        )

    def _network_inputs(self, audio, labels):
        inputs = {
            "audio": ops.one_hot(ops.cast(audio, "int32"), self.num_levels)
        }
        if self.num_classes:
            inputs["labels"] = ops.reshape(
                ops.convert_to_tensor(labels, "int32"), (-1,)
            )
        return inputs

    def log_prob(self, x, *, labels=None):
        """Exact `log p(x_2..x_T | x_1)` per clip, in nats (the first
        sample is given)."""
        audio, packed_labels, _ = self.conditioning.split(x)
        self._check_levels(audio, "x")
        audio = ops.convert_to_tensor(audio, "int32")
        labels = public_inputs.check_labels(
            self, packed_labels if labels is None else labels, audio
        )
        logits = self({"audio": audio, "labels": labels})[:, :-1]
        negative = keras.losses.sparse_categorical_crossentropy(
            audio[:, 1:], logits, from_logits=True
        )
        return -ops.sum(negative, axis=-1)

    def nats_per_sample(self, x, *, labels=None):
        steps = np.shape(x["audio"] if isinstance(x, dict) else x)[-1]
        return -self.log_prob(x, labels=labels) / max(steps - 1, 1)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        audio, _, _ = self.conditioning.split(x)
        negative = keras.losses.sparse_categorical_crossentropy(
            ops.cast(audio[:, 1:], "int32"), y_pred[:, :-1], from_logits=True
        )
        loss = ops.mean(negative, axis=-1)
        if sample_weight is not None:
            return ops.sum(loss * sample_weight) / ops.sum(sample_weight)
        return ops.mean(loss)

    def _validate_data(self, x, argument):
        if x is None or not hasattr(x, "shape"):
            return
        self._check_levels(x, argument)

    def _check_levels(self, x, argument):
        values = host_array(keras.ops.convert_to_numpy(x), argument)
        check_real_dtype(values.dtype, argument)
        if values.ndim != 2 or values.shape[0] < 1 or values.shape[1] < 2:
            raise ValueError(
                f"`{argument}` must be (batch, steps) quantised audio: one "
                "clip or more, each of at least 2 steps; received shape "
                f"{values.shape}."
            )
        validate_levels(
            values, self.num_levels, argument, "`kgen.utils.mu_law_encode`"
        )

    # === Sampling ===

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        length,
        labels=None,
        temperature=1.0,
        windowed=True,
    ):
        """Clips of `length` steps drawn one step at a time.

        The first step is the middle level (silence in mu-law).

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            length: int >= 2. Steps per clip (required).
            labels: an int or `num_samples` ints (conditional models;
                `None` draws classes uniformly).
            temperature: float > 0. Divides the logits.
            windowed: bool. Run the network on the `receptive_field` steps
                that reach the next step (the same logits, less work);
                `False` reruns the whole clip per step (the naive loop,
                kept to check and time this one).

        Returns:
            `(num_samples, length)` int32 levels.
        """
        public_inputs.check_num_samples(num_samples)
        length = validate_int(length, "length", minimum=2)
        sampler = RandomSampler(temperature)
        windowed = validate_bool(windowed, "windowed")
        seed = public_inputs.seed_source(self, seed)
        labels = public_inputs.sample_labels(self, labels, num_samples, seed)
        window = min(length, self.receptive_field) if windowed else length

        def program(model, audio, labels, loop_seed):
            steps = ops.arange(length)

            def body(step, audio):
                # 1. The steps that reach step `step`: a window ending just
                #    before it (starting at 0 near the start, where the
                #    network's own causal padding is the true start).
                start = ops.minimum(
                    ops.maximum(step - window, 0), length - window
                )
                inputs = model._network_inputs(
                    ops.slice(audio, [0, start], [num_samples, window]),
                    labels,
                )
                # 2. The logits for step `step`, read one step earlier (on
                #    torch from the network's traced graph, not Keras'
                #    layer by layer Python at every step).
                logits = backend.inference_call(model.network, inputs)
                logits = ops.take(logits, step - 1 - start, axis=1)
                # 3. A draw from softmax(logits / temperature), written in.
                value = sampler(logits, loop_seed + ops.stack([0, step]))
                here = steps[None, :] == step
                return ops.where(here, value[:, None], audio)

            return ops.fori_loop(1, length, body, audio)

        audio = ops.full((num_samples, length), self.num_levels // 2, "int32")
        # One compiled program per clip shape and options, as the
        # denoisers' loops (`backend.inference_program`); the slice sizes
        # name the batch, so the key does.
        key = (
            "wave_net.sample",
            num_samples,
            length,
            window,
            sampler.temperature,
        )
        return backend.inference_program(
            self, key, program, audio, labels, seeds.loop_seed(seed)
        )
