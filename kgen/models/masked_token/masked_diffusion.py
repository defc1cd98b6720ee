import keras
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.models import training_steps
from kgen.models.data_path import images_and_labels
from kgen.models.masked_token.masked_token_model import MaskedTokenModel
from kgen.samplers.random_sampler import RandomSampler
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_int

# The smallest masking time drawn: the bound weighs each draw by `1 / t`.
_MIN_TIME = 1e-3


@keras.saving.register_keras_serializable(package="kgen")
class MaskedDiffusion(MaskedTokenModel):
    """Masked (absorbing-state) discrete diffusion over token sequences
    (MDLM): text, SMILES or codes, trained by `fit` on a bound of their
    likelihood and drawn in parallel steps.

    The forward process hides each token behind `[MASK]` independently
    with probability `t` (the linear schedule `alpha_t = 1 - t`). The
    network predicts the hidden tokens from the rest; a revealed token is
    never changed again. The negative ELBO in continuous time is a
    `1 / t`-weighted cross-entropy on the hidden tokens, here per token
    of a length-`L` sequence:

    ```
    -log p(x) / L <= E_{t ~ U(0, 1)} E_{z_t} [
        1 / (t L) sum_{i: z_t,i = MASK} -log p_theta(x_i | z_t) ]
    ```

    `fit` reports this bound in nats per token (`exp(loss)` bounds the
    perplexity), with stratified `t` across each batch to lower its
    variance. `sample` runs the reverse process over `num_steps` evenly
    spaced times: from `t` to `s < t`, each hidden token is revealed with
    probability `(t - s) / t`, its value drawn from the network's
    softmax; all are revealed at `s = 0`. Unlike `MaskGIT`'s, the
    reveals do not rank by confidence: the sampler is the model's own
    reverse process, so its bound scores what `sample` draws.

    Args:
        network: `keras.Model` `[tokens(, labels)] -> logits`, tokens
            `(batch, length)` in `[0, num_levels]` (`num_levels` is
            `[MASK]`), logits `(batch, length, num_levels)` (e.g.
            `kgen.networks.masked_token_transformer((length,),
            vocabulary_size)`).
        num_classes: int or `None`. Class-conditional: `fit(tokens,
            labels)`, `sample(n, labels=...)`.
        condition_dropout: float in `[0, 1)`. Probability of training on
            the "no class" token, which classifier-free guidance needs.
        seed: int or `None`.

    Example:

    ```python
    tokenizer = kgen.tokenizers.CharacterTokenizer.from_text(text)
    ids = ...  # (n, 64) windows of tokenizer(text)
    model = kgen.models.MaskedDiffusion(
        kgen.networks.masked_token_transformer(
            (64,), tokenizer.vocabulary_size
        ),
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(ids, epochs=10)
    nats_per_token = -model.elbo(ids[:256]) / 64
    texts = tokenizer.detokenize(model.sample(4, num_steps=64, seed=1))
    ```

    References:
        1. Sahoo et al. Simple and Effective Masked Diffusion Language
           Models. 2024. arXiv:2406.07524.
        2. Shi et al. Simplified and Generalized Masked Diffusion for
           Discrete Data (MD4). 2024. arXiv:2406.04329.
    """

    capabilities = ("sample", "elbo", "inpaint")
    default_num_steps = 64

    # === Training ===

    def _hide(self, tokens, labels, times, uniform, training):
        """The network's logits with each token hidden where `uniform <
        times` (per example), and which were hidden."""
        hidden = uniform < times[:, None]
        network_inputs = [
            ops.reshape(
                ops.where(hidden, self.mask_token, tokens),
                (-1,) + self.code_shape,
            )
        ]
        if self.num_classes is not None:
            network_inputs.append(ops.cast(labels, "int32"))
        logits = backend.call_network(self.network, network_inputs, training)
        logits = ops.reshape(
            ops.cast(logits, "float32"),
            (-1, self.sequence_length, self.num_levels),
        )
        return logits, hidden

    def call(self, inputs, training=False):
        """One training draw: the logits, targets, hidden positions and
        masking times."""
        inputs, labels = images_and_labels(inputs)
        batch = ops.shape(inputs)[0]
        tokens = ops.reshape(
            ops.cast(inputs, "int32"), (batch, self.sequence_length)
        )
        # 1. Stratified times: one uniform offset, spread over the batch.
        spread = batch_random.stratified_uniform(batch, self.seed_generator)
        times = _MIN_TIME + (1.0 - _MIN_TIME) * spread
        # 2. Labels, dropped now and then for classifier-free guidance.
        if self.num_classes is not None:
            labels = training_steps.drop_labels(
                self, labels, self.condition_dropout, training
            )
        uniform = batch_random.uniform(
            (batch, self.sequence_length), self.seed_generator
        )
        logits, hidden = self._hide(tokens, labels, times, uniform, training)
        return {
            "logits": logits,
            "targets": tokens,
            "hidden": hidden,
            "times": times,
        }

    def _bound(self, outputs):
        """Each example's bound, nats per token, from one draw."""
        losses = keras.losses.sparse_categorical_crossentropy(
            outputs["targets"], outputs["logits"], from_logits=True
        )
        hidden = ops.cast(outputs["hidden"], "float32")
        return ops.sum(losses * hidden, axis=1) / (
            outputs["times"] * self.sequence_length
        )

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y_pred is None:
            y_pred = self(x, training=training)
        return training_steps.mean_over_examples(
            self._bound(y_pred), sample_weight
        )

    def elbo(self, tokens, *, labels=None, num_draws=16, seed=None):
        """A lower bound on each sequence's log-likelihood, in nats: the
        bound `fit` trains (which it reports per token), as a Monte Carlo
        mean over `num_draws` masking times, stratified in `(0, 1)`, and
        masks (the model's `"no class"` token for a class-conditional
        model given no `labels`):

            log p(x) >= -E_t[(1 / t) sum_{i hidden at t} -log p(x_i | x_t)]

        Args:
            tokens: int array `(batch, length)` in `[0, num_levels)`.
            labels: class ids of a class-conditional model, or `None`.
            num_draws: int >= 1.
            seed: `None`, an int or a `keras.random.SeedGenerator`.

        Returns:
            `(batch,)` float32; `exp(-elbo / length)` bounds each
            sequence's perplexity.
        """
        tokens = public_inputs.check_examples(self, tokens, "tokens")
        num_draws = validate_int(num_draws, "num_draws")
        batch = len(tokens)
        tokens = ops.reshape(
            ops.convert_to_tensor(tokens, "int32"),
            (batch, self.sequence_length),
        )
        if labels is not None:
            labels = public_inputs.sample_labels(self, labels, batch, None)
        elif self.num_classes is not None:
            labels = ops.full((batch,), self.num_classes, "int32")
        seed = public_inputs.seed_source(self, seed)
        offsets = keras.random.uniform((batch,), seed=seed)
        total = 0.0
        with backend.no_grad():
            for draw in range(num_draws):
                times = ops.mod(offsets + draw / num_draws, 1.0)
                times = _MIN_TIME + (1.0 - _MIN_TIME) * times
                uniform = keras.random.uniform(
                    (batch, self.sequence_length), seed=seed
                )
                logits, hidden = self._hide(
                    tokens, labels, times, uniform, False
                )
                total = total + self._bound(
                    {
                        "logits": logits,
                        "targets": tokens,
                        "hidden": hidden,
                        "times": times,
                    }
                )
        return -total / num_draws * self.sequence_length

    # === Sampling ===

    def _decode_tokens(
        self,
        tokens,
        num_steps,
        loop_seed,
        labels=None,
        temperature=1.0,
        guidance_scale=0.0,
    ):
        """The reverse process from flat `(batch, length)` tokens, `[MASK]`
        where hidden, over `num_steps` evenly spaced times from 1 to 0."""
        sampler = RandomSampler(temperature)
        logits_of = self._conditional_logits(labels, guidance_scale)

        def body(step, tokens):
            # 1. From t to s: reveal each hidden token w.p. (t - s) / t.
            time = 1.0 - ops.cast(step, "float32") / num_steps
            reveal_probability = (1.0 / num_steps) / time
            reveal = (
                backend.stateless_uniform(
                    ops.shape(tokens), loop_seed + ops.stack([1, step])
                )
                < reveal_probability
            )
            # 2. Its value from the network's softmax(logits / T).
            drawn = sampler(logits_of(tokens), loop_seed + ops.stack([0, step]))
            hidden = tokens == self.mask_token
            return ops.where(ops.logical_and(hidden, reveal), drawn, tokens)

        return ops.fori_loop(0, num_steps, body, tokens)

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        num_steps=64,
        temperature=1.0,
        guidance_scale=0.0,
    ):
        """Sequences drawn by the reverse process in `num_steps` steps.

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            labels: int or int array of class ids (conditional models;
                drawn uniformly when omitted).
            num_steps: int >= 1. Network calls, each revealing about
                `1 / num_steps` of the tokens (twice the rows under
                guidance).
            temperature: float > 0. Divides the logits of the draws.
            guidance_scale: float `w`: logits `(1 + w) l(x, c) - w l(x)`.

        Returns:
            int32 `(num_samples, *code_shape)` token ids.
        """
        return self._sample_tokens(
            num_samples,
            seed,
            labels,
            num_steps=num_steps,
            temperature=temperature,
            guidance_scale=guidance_scale,
        )

    def inpaint(
        self,
        tokens,
        mask,
        *,
        seed=None,
        labels=None,
        num_steps=64,
        temperature=1.0,
        guidance_scale=0.0,
    ):
        """Draws the tokens where `mask == 0` by the reverse process,
        keeping the rest of `tokens` exactly (infilling).

        Args:
            tokens: int array `(batch, *code_shape)`.
            mask: array of 0s (draw) and 1s (keep), `code_shape` or
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
        )
