import math

import keras
from keras import ops

from kgen import backend
from kgen.models import training_steps
from kgen.models.data_path import images_and_labels
from kgen.models.masked_token.masked_token_model import MaskedTokenModel
from kgen.samplers.random_sampler import RandomSampler
from kgen.samplers.token_sampler import gumbel_from_uniform
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_float

MASK_SCHEDULES = ("cosine", "arccos", "linear")
# The confidence of a token that is already decided (or given): never
# among the least confident, so never masked again.
_DECIDED = 1e9


def mask_ratio(schedule, progress):
    """`gamma(r)`, the fraction of tokens masked at progress `r` in
    `[0, 1]`: `cos(pi r / 2)`, `arccos(r) / (pi / 2)` or `1 - r`."""
    if schedule == "cosine":
        return ops.cos(math.pi / 2.0 * progress)
    if schedule == "arccos":
        return ops.arccos(progress) / (math.pi / 2.0)
    return 1.0 - progress


@keras.saving.register_keras_serializable(package="kgen")
class MaskGIT(MaskedTokenModel):
    """A masked generative Transformer over grids of discrete codes
    (MaskGIT), trained by `fit` and decoded in a few parallel steps.

    Training masks a random fraction `gamma(r)`, `r ~ U(0, 1)`, of each
    grid's tokens with `[MASK]` and trains a bidirectional network to
    predict them, by cross-entropy on the masked positions only:

    ```
    loss = -E_r E_mask sum_{i masked} log p(x_i | x_unmasked) / #masked
    ```

    `sample` starts from an all-`[MASK]` grid and, over `num_steps`
    steps, draws every masked token at once, keeps the most confident
    and masks the rest again: after step `t` of `T`, `floor(N gamma((t +
    1) / T))` of the `N` undecided tokens stay masked (at least one fewer
    each step, none after the last). Confidences are the drawn tokens'
    log-probabilities plus Gumbel noise of scale `choice_temperature (1 -
    (t + 1) / T)` (MaskGIT's annealed randomness). One `ops.fori_loop`:
    it compiles and exports. 8 steps decode a grid that an
    autoregressive prior draws in one network call per token.

    `inpaint` fixes the known tokens and decodes the rest the same way.
    Its grids are codes of a `kgen.models.VQVAE` (`vqvae.encode(x)`), so a
    fitted MaskGIT is a `vqvae.prior`.

    Args:
        network: `keras.Model` `[tokens(, labels)] -> logits`, tokens
            `(batch, *code_shape)` in `[0, num_levels]` (`num_levels` is
            `[MASK]`) and logits `(batch, *code_shape, num_levels)`
            (e.g. `kgen.networks.masked_token_transformer`).
        mask_schedule: str. `gamma`: `"cosine"` (MaskGIT's), `"arccos"`
            or `"linear"`.
        num_classes: int or `None`. Class-conditional: `fit(codes,
            labels)`, `sample(n, labels=...)`.
        condition_dropout: float in `[0, 1)`. Probability of training on
            the "no class" token, which classifier-free guidance needs.
        seed: int or `None`.

    Example:

    ```python
    codes = vqvae.encode(x)  # (n, 7, 7) ints in [0, 128)
    prior = kgen.models.MaskGIT(
        kgen.networks.masked_token_transformer((7, 7), 128), seed=0
    )
    prior.compile(optimizer=keras.optimizers.Adam(3e-4))
    prior.fit(codes, epochs=10)
    vqvae.prior = prior
    images = vqvae.sample(16, seed=1)
    ```

    References:
        1. Chang et al. MaskGIT: Masked Generative Image Transformer.
           2022. arXiv:2202.04200.
        2. Chang et al. Muse: Text-To-Image Generation via Masked
           Generative Transformers. 2023. arXiv:2301.00704.
    """

    capabilities = ("sample", "inpaint")

    def __init__(
        self,
        network,
        mask_schedule="cosine",
        num_classes=None,
        condition_dropout=0.1,
        seed=None,
        **kwargs,
    ):
        if mask_schedule not in MASK_SCHEDULES:
            raise ValueError(
                f"`mask_schedule` must be one of {MASK_SCHEDULES}; received "
                f"{mask_schedule!r}."
            )
        super().__init__(
            network,
            num_classes=num_classes,
            condition_dropout=condition_dropout,
            seed=seed,
            **kwargs,
        )
        self.mask_schedule = mask_schedule

    # === Training ===

    def call(self, inputs, training=False):
        """One training draw: the logits, targets and masked positions."""
        inputs, labels = images_and_labels(inputs)
        batch = ops.shape(inputs)[0]
        tokens = ops.reshape(
            ops.cast(inputs, "int32"), (batch, self.sequence_length)
        )
        # 1. How many tokens to mask: ceil(gamma(r) N), at least one.
        progress = batch_random.uniform((batch,), self.seed_generator)
        ratio = mask_ratio(self.mask_schedule, progress)
        num_masked = ops.maximum(ops.ceil(ratio * self.sequence_length), 1.0)
        # 2. Which: the positions of the lowest random scores.
        scores = batch_random.uniform(
            (batch, self.sequence_length), self.seed_generator
        )
        ranks = ops.argsort(ops.argsort(scores, axis=1), axis=1)
        masked = ops.cast(ranks, "float32") < num_masked[:, None]
        network_inputs = [
            ops.reshape(
                ops.where(masked, self.mask_token, tokens),
                (batch,) + self.code_shape,
            )
        ]
        # 3. Labels, dropped now and then for classifier-free guidance.
        if self.num_classes is not None:
            network_inputs.append(
                training_steps.drop_labels(
                    self, labels, self.condition_dropout, training
                )
            )
        logits = backend.call_network(self.network, network_inputs, training)
        logits = ops.reshape(
            ops.cast(logits, "float32"), (batch, self.sequence_length, -1)
        )
        return {"logits": logits, "targets": tokens, "masked": masked}

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y_pred is None:
            y_pred = self(x, training=training)
        losses = keras.losses.sparse_categorical_crossentropy(
            y_pred["targets"], y_pred["logits"], from_logits=True
        )
        masked = ops.cast(y_pred["masked"], "float32")
        per_example = ops.sum(losses * masked, axis=1) / ops.sum(masked, axis=1)
        return training_steps.mean_over_examples(per_example, sample_weight)

    # === Decoding ===

    def _decode_tokens(
        self,
        tokens,
        num_steps,
        loop_seed,
        labels=None,
        temperature=1.0,
        guidance_scale=0.0,
        choice_temperature=4.5,
    ):
        """The parallel decoding loop from flat `(batch, length)` tokens,
        `[MASK]` where undecided; returns them all decided."""
        sampler = RandomSampler(temperature)
        logits_of = self._conditional_logits(labels, guidance_scale)
        undecided = ops.sum(
            ops.cast(tokens == self.mask_token, "float32"), axis=1
        )

        def body(step, tokens):
            progress = ops.cast(step + 1, "float32") / num_steps
            # 1. A token for every position, from softmax(logits / T).
            logits = logits_of(tokens)
            drawn = sampler(logits, loop_seed + ops.stack([0, step]))
            is_masked = tokens == self.mask_token
            drawn = ops.where(is_masked, drawn, tokens)
            # 2. Confidence: the drawn tokens' log-probabilities, with
            #    annealed Gumbel noise; decided tokens rank last.
            log_probs = ops.log_softmax(logits / temperature, axis=-1)
            confidence = ops.take_along_axis(
                log_probs, drawn[..., None], axis=-1
            )[..., 0]
            noise = gumbel_from_uniform(
                backend.stateless_uniform(
                    ops.shape(confidence), loop_seed + ops.stack([1, step])
                )
            )
            confidence = (
                confidence + choice_temperature * (1.0 - progress) * noise
            )
            confidence = ops.where(is_masked, confidence, _DECIDED)
            # 3. How many stay masked: floor(N gamma(progress)), at least
            #    one fewer than now and one while steps remain, none after
            #    the last.
            now = ops.sum(ops.cast(is_masked, "float32"), axis=1)
            keep = ops.floor(
                undecided * mask_ratio(self.mask_schedule, progress)
            )
            keep = ops.maximum(
                ops.minimum(keep, now - 1.0), ops.minimum(now, 1.0)
            )
            keep = ops.where(step == num_steps - 1, 0.0, keep)
            # 4. Mask the least confident again.
            ranks = ops.argsort(ops.argsort(confidence, axis=1), axis=1)
            again = ops.cast(ranks, "float32") < keep[:, None]
            return ops.where(again, self.mask_token, drawn)

        return ops.fori_loop(0, num_steps, body, tokens)

    def _decode(
        self,
        tokens,
        seed,
        labels,
        num_steps,
        temperature,
        guidance_scale,
        choice_temperature,
    ):
        choice_temperature = validate_float(
            choice_temperature, "choice_temperature", minimum=0.0
        )
        return super()._decode(
            tokens,
            seed,
            labels,
            num_steps,
            temperature,
            guidance_scale,
            choice_temperature=choice_temperature,
        )

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        num_steps=8,
        temperature=1.0,
        guidance_scale=0.0,
        choice_temperature=4.5,
    ):
        """Grids of codes decoded in `num_steps` parallel steps.

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            labels: int or int array of class ids (conditional models;
                drawn uniformly when omitted).
            num_steps: int >= 1. Network calls (twice as many rows under
                guidance).
            temperature: float > 0. Divides the logits of the token
                draws.
            guidance_scale: float `w`: logits `(1 + w) l(x, c) - w l(x)`.
            choice_temperature: float >= 0. Scale of the Gumbel noise on
                the confidences at the first step, annealed to 0.

        Returns:
            int32 `(num_samples, *code_shape)` code indices.
        """
        return self._sample_tokens(
            num_samples,
            seed,
            labels,
            num_steps=num_steps,
            temperature=temperature,
            guidance_scale=guidance_scale,
            choice_temperature=choice_temperature,
        )

    def inpaint(
        self,
        tokens,
        mask,
        *,
        seed=None,
        labels=None,
        num_steps=8,
        temperature=1.0,
        guidance_scale=0.0,
        choice_temperature=4.5,
    ):
        """Decodes the tokens where `mask == 0`, keeping the rest of
        `tokens` exactly.

        Args:
            tokens: int array `(batch, *code_shape)`.
            mask: array of 0s (decode) and 1s (keep), `code_shape` or
                `(batch, *code_shape)`.
        """
        return self._inpaint_tokens(
            tokens,
            mask,
            seed,
            labels,
            num_steps=num_steps,
            temperature=temperature,
            guidance_scale=guidance_scale,
            choice_temperature=choice_temperature,
        )
