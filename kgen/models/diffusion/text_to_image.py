import keras
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.models.conditioning import Conditioning
from kgen.models.diffusion import diffusion_sampling
from kgen.models.diffusion import text_to_image_prompts
from kgen.models.diffusion import text_to_image_sampling
from kgen.models.diffusion.denoising_diffusion import DenoisingDiffusion
from kgen.models.diffusion.guidance import Guidance
from kgen.tokenizers.clip_tokenizer import ClipTokenizer
from kgen.tokenizers.word_tokenizer import WordTokenizer
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_int
from kgen.utils.mixed_precision import to_float32


@keras.saving.register_keras_serializable(package="kgen")
class TextToImage(DenoisingDiffusion):
    """A text-conditioned diffusion model: prompt in, image out.

    A text encoder (trained jointly, as Latent Diffusion's `BERTEmbedder`)
    turns a tokenized caption into token embeddings; the denoiser attends
    to them (cross-attention) at every attention block. Training is
    `DiffusionModel`'s loss with the caption as the condition, replaced by
    the empty caption (all padding) with probability `condition_dropout`
    so that classifier-free guidance has an unconditional model:

    ```
    c = text_encoder(tokenize(caption)),  c_0 = text_encoder(tokenize(""))
    loss = E ||target(x_0, eps, t) - denoiser(x_t, t, c)||**2
    guided = (1 + w) denoiser(x_t, t, c) - w denoiser(x_t, t, c_0)
    ```

    `fit(images, captions)` takes captions as str (tokenized here, on the
    host) or as token ids, from arrays, `validation_data=(images,
    captions)`, a `tf.data.Dataset` (string captions are tokenized in
    TensorFlow ops) or a generator of `(images, captions)` batches.

    Prompts are read by `tokenizer` (see `WordTokenizer`): a word outside
    its vocabulary raises, a prompt longer than its `sequence_length` is
    truncated with a warning.

    Args:
        denoiser: `keras.Model` `[x_t, timesteps, context] -> output`
            shaped like `x_t`, e.g. `kgen.networks.unet_denoiser(shape,
            context_shape=(sequence_length, width))`.
        text_encoder: `keras.Model` `(batch, sequence_length)` int ids ->
            `(batch, sequence_length, width)`, e.g.
            `kgen.networks.text_encoder`.
        tokenizer: a `kgen.tokenizers.WordTokenizer` (serialized with the
            model).
        scheduler, prediction_type, seed: see `DiffusionModel`.
        condition_dropout: float in `[0, 1)`. Probability of training on
            the empty caption; classifier-free guidance needs it > 0.

    Example:

    ```python
    (x, captions, _), _ = kgen.datasets.load_captioned(
        "digits", value_range=(-1, 1)
    )
    tokenizer = kgen.tokenizers.WordTokenizer.from_texts(captions)
    model = kgen.models.TextToImage(
        kgen.networks.unet_denoiser(
            (8, 8, 1), context_shape=(tokenizer.sequence_length, 64)
        ),
        kgen.networks.text_encoder(
            tokenizer.vocabulary_size, tokenizer.sequence_length, 64
        ),
        tokenizer,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x, captions, epochs=1)
    images = model.generate(
        ["a thick seven"] * 4, num_steps=50, guidance_scale=3.0
    )
    ```

    References:
        1. Rombach et al. High-Resolution Image Synthesis with Latent
           Diffusion Models. 2022. arXiv:2112.10752.
        2. Ho & Salimans. Classifier-Free Diffusion Guidance. 2022.
           arXiv:2207.12598.
        3. Meng et al. SDEdit: Guided Image Synthesis and Editing with
           Stochastic Differential Equations. 2022. arXiv:2108.01073.
    """

    capabilities = ("sample", "generate", "invert", "inpaint", "image_to_image")

    # Its prompts ride in the inputs as tokens, not as labels.
    conditioning = Conditioning()
    _denoiser_condition = "context"
    # `{name: endpoint}`: the endpoints `kgen.export` also serves with
    # string prompts, tokenized in the graph by the model's `tokenizer`.
    text_endpoints = {"generate_text": "generate"}

    def __init__(
        self,
        denoiser,
        text_encoder,
        tokenizer,
        scheduler=None,
        prediction_type=None,
        condition_dropout=0.1,
        seed=None,
        **kwargs,
    ):
        if not isinstance(tokenizer, (WordTokenizer, ClipTokenizer)):
            raise ValueError(
                "`tokenizer` must be a kgen.tokenizers.WordTokenizer or "
                f"ClipTokenizer; received {type(tokenizer).__name__}."
            )
        if (
            not isinstance(text_encoder, keras.Model)
            or len(text_encoder.outputs or ()) != 1
        ):
            raise ValueError(
                "`text_encoder` must be a functional keras.Model "
                "`(batch, sequence_length) ids -> (batch, sequence_length, "
                f"width)`; received {text_encoder!r}."
            )
        encoded = tuple(text_encoder.outputs[0].shape[1:])
        expected = (tokenizer.sequence_length,)
        if tuple(text_encoder.inputs[0].shape[1:]) != expected:
            raise ValueError(
                f"`text_encoder` must take {expected} token ids, the "
                f"tokenizer's `sequence_length`; it takes "
                f"{tuple(text_encoder.inputs[0].shape[1:])}."
            )
        super().__init__(
            denoiser,
            scheduler=scheduler,
            prediction_type=prediction_type,
            condition_dropout=condition_dropout,
            seed=seed,
            **kwargs,
        )
        context = tuple(denoiser.inputs[2].shape[1:])
        if context != encoded:
            raise ValueError(
                f"`denoiser`'s context input {context} must match "
                f"`text_encoder`'s output {encoded}."
            )
        self.text_encoder = text_encoder
        self.tokenizer = tokenizer
        if denoiser.built and text_encoder.built:
            self.built = True

    # === Prompts ===

    def encode_text(self, tokens):
        """The text encoder's `(n, sequence_length, width)` embeddings."""
        return to_float32(
            self.text_encoder(
                ops.convert_to_tensor(tokens, "int32"), training=False
            )
        )

    # === Training ===

    def _prepare_data(self, x, y, x_argument, y_argument):
        """`{"images": x, "tokens": ids}`: the one path of arrays, datasets
        and generators (see `GenerativeModel._prepare_data`)."""
        return text_to_image_prompts.prepare_data(
            self, x, y, x_argument, y_argument
        )

    def call(self, inputs, training=False):
        """One training draw: `{"prediction", "target"}` for a batch."""
        images = inputs["images"]
        tokens = ops.cast(inputs["tokens"], "int32")
        batch = ops.shape(images)[0]
        timesteps = ops.cast(
            batch_random.randint(
                (batch,), 0, self.num_train_timesteps, self.seed_generator
            ),
            "int32",
        )
        noise = batch_random.normal(ops.shape(images), self.seed_generator)
        noisy = self.scheduler.add_noise(images, noise, timesteps)
        if training and self.condition_dropout > 0:
            dropped = (
                batch_random.uniform((batch,), self.seed_generator)
                < self.condition_dropout
            )
            tokens = ops.where(
                dropped[:, None],
                text_to_image_prompts.empty_tokens(self, tokens),
                tokens,
            )
        context = self.text_encoder(tokens, training=training)
        prediction = to_float32(
            backend.call_network(
                self.denoiser, [noisy, timesteps, context], training
            )
        )
        target = self.scheduler.training_target(images, noise, timesteps)
        return {"prediction": prediction, "target": target}

    # === Sampling ===

    def denoiser_inputs(self, noisy, timesteps, labels=None, condition=None):
        # `condition`: the text encoder's embeddings of the prompts; none
        # (`invert`, where the prompts are not known) is the empty
        # prompt's.
        if condition is None:
            tokens = ops.zeros(
                (ops.shape(noisy)[0], self.tokenizer.sequence_length), "int32"
            )
            condition = self.encode_text(
                text_to_image_prompts.empty_tokens(self, tokens)
            )
        return [noisy, timesteps, condition]

    def guided_denoise(self, plan, labels=None, condition=None):
        """`(x_t, t) -> output` of the prompts whose token ids are
        `condition`, under `plan`'s guidance: towards them by
        classifier-free guidance (CFG++ over the plan's DDIM steps with
        `rule="cfg++"`), or away from a weaker `guide`'s output for the
        same prompts (autoguidance). The prompts are encoded once,
        outside the sampling loop."""
        return text_to_image_sampling.guided_denoise(self, plan, condition)

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        prompts=None,
        num_steps=None,
        scheduler="ddpm",
        guidance_scale=0.0,
        guidance_interval=None,
        guidance="cfg",
    ):
        """Draws images for prompts by a reverse diffusion from noise.

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            labels: refused: a TextToImage model conditions on `prompts`.
            prompts: `None` (the empty prompt: unconditional samples), one
                str for every sample, or `num_samples` str or token-id
                rows.
            num_steps, scheduler: see `DiffusionModel.sample`.
            guidance_scale: float `w` of classifier-free guidance.
            guidance_interval: `(low, high)` in [0, 1], or `None`: guide
                only the steps whose noise level `sqrt(1 - alpha_bar_t)`
                lies in it (see `DiffusionModel.sample`).
            guidance: `"cfg"` or `"cfg++"` (with `scheduler="ddim"` and a
                strength in (0, 1]; see `DiffusionModel.sample`).

        Returns:
            `(num_samples,) + sample_shape` images in `[-1, 1]`.
        """
        num_samples = public_inputs.check_num_samples(num_samples)
        public_inputs.refuse_labels(self, labels)
        tokens = text_to_image_prompts.tokenize(
            self, "" if prompts is None else prompts, num_samples
        )
        plan = text_to_image_sampling.sampling_plan(
            self,
            scheduler,
            num_steps,
            Guidance(guidance_scale, guidance_interval, guidance),
        )
        return diffusion_sampling.generate(
            self, num_samples, plan, seed, condition=tokens
        )

    def generate(
        self,
        prompts,
        *,
        num_steps=50,
        guidance_scale=0.0,
        guidance_interval=None,
        scheduler="ddim",
        seed=None,
        guidance="cfg",
    ):
        """One image per prompt: `sample(len(prompts), prompts=prompts)`
        with a 50-step DDIM run by default.

        Args:
            prompts: a str or a non-empty list or array of str.
            num_steps: int. Network evaluations (twice that many rows are
                denoised with guidance).
            guidance_scale: float `w`; `(1 + w) eps(x_t, c) - w eps(x_t)`.
            guidance_interval: `(low, high)` noise levels in [0, 1] that
                guidance is limited to, or `None` (see `sample`).
            scheduler: a step-rule name or scheduler.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            guidance: `"cfg"` or `"cfg++"` (see `sample`).
        """
        tokens = text_to_image_prompts.tokenize(self, prompts)
        return self.sample(
            len(tokens),
            seed=seed,
            prompts=tokens,
            num_steps=num_steps,
            scheduler=scheduler,
            guidance_scale=guidance_scale,
            guidance_interval=guidance_interval,
            guidance=guidance,
        )

    def image_to_image(
        self,
        images,
        prompts,
        *,
        strength=0.8,
        num_steps=50,
        guidance_scale=0.0,
        guidance_interval=None,
        scheduler="ddim",
        seed=None,
    ):
        """Redraws `images` towards `prompts` (SDEdit): noises them to the
        step a fraction `strength` of the way into the schedule and runs
        the reverse diffusion from there.

        Args:
            images: `(n,) + sample_shape` in `[-1, 1]`.
            prompts: one str or `n` prompts.
            strength: float in `(0, 1]`. 1 ignores the images (a full
                run from noise); small values keep them nearly intact.
            num_steps: int. Steps of the full schedule; about `strength *
                num_steps` of them run.
            guidance_scale, guidance_interval, scheduler, seed: see
                `generate`.
        """
        strength = text_to_image_sampling.check_strength(strength)
        plan = text_to_image_sampling.sampling_plan(
            self,
            scheduler,
            validate_int(num_steps, "num_steps"),
            Guidance(guidance_scale, guidance_interval),
        )
        return text_to_image_sampling.image_to_image(
            self, images, prompts, strength, plan, seed
        )

    def inpaint(
        self,
        images,
        mask,
        *,
        prompts=None,
        seed=None,
        num_steps=None,
        scheduler="ddpm",
        guidance_scale=0.0,
        guidance_interval=None,
    ):
        """Fills the region where `mask == 0` to match `prompts`, keeping
        the rest of `images` (see `DiffusionModel.inpaint`)."""
        plan = text_to_image_sampling.sampling_plan(
            self,
            scheduler,
            num_steps,
            Guidance(guidance_scale, guidance_interval),
        )
        return text_to_image_sampling.inpaint(
            self, images, mask, prompts, plan, seed
        )

    # === Export ===

    def serving_endpoints(
        self, scheduler="ddim", num_steps=50, guidance_scale=0.0
    ):
        """`generate` (noise and prompt token ids -> images by a
        deterministic run of `num_steps`) and `encode_text` (token ids ->
        embeddings). `kgen.export` adds `generate_text`, which takes the
        prompts as strings and tokenizes them inside the graph."""
        return text_to_image_sampling.serving_endpoints(
            self, scheduler, num_steps, guidance_scale
        )
