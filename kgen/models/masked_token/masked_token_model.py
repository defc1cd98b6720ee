import math

import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.models.conditioning import Conditioning
from kgen.models.diffusion import guidance
from kgen.models.generative_model import GenerativeModel
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_network_inputs
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.argument_validation import validate_probability
from kgen.utils.data_validation import validate_levels


class MaskedTokenModel(GenerativeModel):
    """The base of models over grids or sequences of discrete tokens
    whose bidirectional network predicts the tokens hidden behind a
    `[MASK]` token (id `num_levels`) from the rest: `MaskGIT`'s confident
    parallel decoding, `MaskedDiffusion`'s absorbing-state diffusion.

    Args:
        network: `keras.Model` `[tokens(, labels)] -> logits`, tokens
            `(batch, *code_shape)` in `[0, num_levels]` (`num_levels` is
            `[MASK]`) and logits `(batch, *code_shape, num_levels)`
            (e.g. `kgen.networks.masked_token_transformer`).
        num_classes: int or `None`. Class-conditional: `fit(tokens,
            labels)`, `sample(n, labels=...)`.
        condition_dropout: float in `[0, 1)`. Probability of training on
            the "no class" token, which classifier-free guidance needs.
        seed: int or `None`.
    """

    conditioning = Conditioning(labels=True)
    # The decoding steps of `sample` and of the exported `sample`.
    default_num_steps = 8

    def __init__(
        self,
        network,
        num_classes=None,
        condition_dropout=0.1,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        num_classes = validate_optional_int(num_classes, "num_classes")
        validate_network_inputs(
            network,
            ["tokens"] + ["labels"] * (num_classes is not None),
            "network",
        )
        self.network = network
        self.num_classes = num_classes
        self.condition_dropout = validate_probability(
            condition_dropout, "condition_dropout", exclusive_maximum=True
        )
        if network.built:
            self.built = True

    # === Shapes ===

    @property
    def code_shape(self):
        """Shape of one grid of code indices, e.g. `(7, 7)`."""
        return tuple(self.network.inputs[0].shape[1:])

    @property
    def data_shape(self):
        return self.code_shape

    @property
    def num_levels(self):
        """Codebook size; token `num_levels` is `[MASK]`."""
        return self.network.outputs[0].shape[-1]

    @property
    def mask_token(self):
        return self.num_levels

    @property
    def sequence_length(self):
        return math.prod(self.code_shape)

    def _validate_data(self, x, argument):
        super()._validate_data(x, argument)
        if x is None or not hasattr(x, "shape"):
            return
        validate_levels(
            x,
            self.num_levels,
            argument,
            "e.g. vqvae.encode(x) or a tokenizer's ids",
        )

    # === The network ===

    def _logits(self, tokens, labels=None):
        """The network's `(batch, length, num_levels)` logits for flat
        `(batch, length)` tokens; no labels means the "no class" token."""
        batch = ops.shape(tokens)[0]
        inputs = [ops.reshape(tokens, (batch,) + self.code_shape)]
        if self.num_classes is not None:
            if labels is None:
                labels = ops.full((batch,), self.num_classes, "int32")
            inputs.append(ops.cast(labels, "int32"))
        # On torch, a decoding loop's calls run the network's traced graph.
        logits = backend.inference_call(self.network, inputs)
        return ops.reshape(
            ops.cast(logits, "float32"), (batch, self.sequence_length, -1)
        )

    def _conditional_logits(self, labels, guidance_scale):
        """`tokens -> logits` with `labels` bound, under classifier-free
        guidance `(1 + w) l(x, c) - w l(x)` when `guidance_scale` is not
        0 (both halves as one batch)."""
        if not guidance_scale:
            return lambda tokens: self._logits(tokens, labels)
        guided = guidance.classifier_free_guidance(
            lambda tokens, _, labels: self._logits(tokens, labels),
            guidance_scale,
            labels,
            ops.full_like(labels, self.num_classes),
        )
        return lambda tokens: guided(tokens, 0)

    def _tokens_to_inpaint(self, tokens, mask):
        """Flat `(batch, length)` int32 tokens: `tokens` where `mask` is 1
        (keep), `[MASK]` where it is 0 (decode); both checked."""
        tokens = public_inputs.check_examples(self, tokens, "tokens")
        mask = np.asarray(mask)
        if mask.shape not in (self.code_shape, tuple(tokens.shape)):
            raise ValueError(
                f"`mask` must have shape {self.code_shape} or "
                f"{tuple(tokens.shape)}; received {mask.shape}."
            )
        if not np.isin(mask, (0, 1)).all():
            raise ValueError("`mask` must hold only 0 (decode) and 1 (keep).")
        batch = len(tokens)
        mask = np.broadcast_to(mask, tokens.shape).reshape(batch, -1)
        return np.where(
            mask == 1, np.reshape(tokens, (batch, -1)), self.mask_token
        ).astype("int32")

    # === Decoding ===

    def _decode_tokens(
        self,
        tokens,
        num_steps,
        loop_seed,
        labels=None,
        temperature=1.0,
        guidance_scale=0.0,
    ):
        """The subclass's decoding loop from flat `(batch, length)`
        tokens, `[MASK]` where undecided; returns them all decided."""
        raise NotImplementedError

    def _decode(
        self,
        tokens,
        seed,
        labels,
        num_steps,
        temperature,
        guidance_scale,
        **options,
    ):
        """`_decode_tokens` with its arguments checked, as grids."""
        num_steps = validate_int(num_steps, "num_steps")
        temperature = validate_float(
            temperature, "temperature", minimum=0.0, exclusive_minimum=True
        )
        guidance_scale = public_inputs.check_guidance_scale(
            self, guidance_scale
        )

        def program(model, tokens, loop_seed, labels):
            return model._decode_tokens(
                tokens,
                num_steps,
                loop_seed,
                labels,
                temperature,
                guidance_scale,
                **options,
            )

        # One compiled program per set of options, as the denoisers' loops
        # (`backend.inference_program`): run eagerly, TensorFlow's while
        # loop called the network from Python at every step.
        key = ("masked_token.decode", num_steps, temperature, guidance_scale)
        key += tuple(sorted(options.items()))
        tokens = backend.inference_program(
            self, key, program, tokens, seeds.loop_seed(seed), labels
        )
        return ops.reshape(tokens, (-1,) + self.code_shape)

    def _sample_tokens(self, num_samples, seed, labels, **options):
        """`sample`: `num_samples` sequences decoded from all `[MASK]`;
        `options` (`num_steps`, `temperature`, ...) go to `_decode`."""
        public_inputs.check_num_samples(num_samples)
        seed = public_inputs.seed_source(self, seed)
        labels = public_inputs.sample_labels(self, labels, num_samples, seed)
        tokens = ops.full(
            (num_samples, self.sequence_length), self.mask_token, "int32"
        )
        return self._decode(tokens, seed, labels, **options)

    def _inpaint_tokens(self, tokens, mask, seed, labels, **options):
        """`inpaint`: `tokens` decoded where `mask == 0`, kept elsewhere."""
        tokens = self._tokens_to_inpaint(tokens, mask)
        seed = public_inputs.seed_source(self, seed)
        labels = public_inputs.sample_labels(self, labels, len(tokens), seed)
        return self._decode(
            ops.convert_to_tensor(tokens), seed, labels, **options
        )

    # === Export ===

    def serving_endpoints(self, num_steps=None):
        """`sample`: a `(2,)` int32 seed and flat `(batch, length)`
        tokens, `[MASK]` (`num_levels`) where undecided (all of them to
        sample, the unknown ones to inpaint), plus `(batch,)` labels for
        a class-conditional model -> `(batch, *code_shape)` tokens decoded
        in `num_steps` steps (the class's `default_num_steps` when
        `None`; XLA's random stream, not the in-process one)."""
        if num_steps is None:
            num_steps = self.default_num_steps
        seed = keras.InputSpec(shape=(2,), dtype="int32")
        tokens = keras.InputSpec(
            shape=(None, self.sequence_length), dtype="int32"
        )
        labels = keras.InputSpec(shape=(None,), dtype="int32")

        def sample(seed, tokens, labels=None):
            decoded = self._decode_tokens(tokens, num_steps, seed, labels)
            return ops.reshape(decoded, (-1,) + self.code_shape)

        if self.num_classes is not None:
            return {"sample": (sample, [seed, tokens, labels])}
        return {"sample": (sample, [seed, tokens])}
