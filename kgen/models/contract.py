"""The contract as code: one name per meaning, and what each model can do.

Callers (the command line, the privacy audit, the docs) ask this module
what a model can do instead of probing its methods and signatures:

    contract.can(model, "invert")      # a sampler that runs backwards
    contract.capabilities(model)       # ("sample", "log_prob", ...)
    contract.options(model)            # {"seed", "labels", "num_steps"}

Each family declares its capabilities as the class attribute
`capabilities`; `tests/models/test_contract_signatures.py` checks that a
class declares a capability exactly when it has the capability's methods,
that every public method of every model class is named in `METHODS`, and
that every argument of those methods is a name of `VOCABULARY` (`sample`'s
keywords among them).
docs/contract.md's capability table is generated from here
(`python docs/generate.py`).
"""

import inspect

# One name per meaning across families: every argument of every public
# method of every model class, `sample`'s keywords first.
VOCABULARY = {
    "seed": "None (the model's own generator), an int or a "
    "keras.random.SeedGenerator",
    "labels": "class ids (class-conditional models)",
    "condition": "a conditioning tensor (source images, maps)",
    "prompts": "text prompts of a text-conditioned model (str or ids)",
    "num_steps": "network evaluations / Markov-chain steps",
    "scheduler": "the diffusion step rule (a name or a kgen.schedulers object)",
    "guidance_scale": "classifier-free guidance weight (or autoguidance's, "
    "with a guide)",
    "guidance_interval": "(low, high) noise levels in [0, 1] where "
    "guidance acts",
    "guide": "a smaller or less-trained model of the same kind that "
    "autoguidance steers away from",
    "guidance": "the guidance rule: 'cfg' (classifier-free, or "
    "autoguidance with a guide) or 'cfg++'",
    "classifier": "a noise-conditional classifier for classifier guidance",
    "classifier_scale": "classifier guidance weight",
    "temperature": "divides logits / scales the base noise",
    "choice_temperature": "noise on the confidences that rank parallel "
    "decoding's tokens (MaskGIT)",
    "truncation_psi": "StyleGAN truncation",
    "length": "steps of a generated sequence",
    "num_atoms": "atoms of each generated molecule (an int, or one per sample)",
    "sampler": "the token sampling rule (kgen.samplers) of token models",
    "windowed": "run the network only on the receptive field",
    "from_buffer": "start chains from the replay buffer",
    "initial": "starting states of the chains",
    "direction": "translation direction of a two-way paired model",
    "watermark": "a key written into the start noise "
    "(kgen.watermarks.FourierNoiseWatermark)",
    # The data and codes methods take (first, positionally).
    "x": "examples like the training data",
    "x1": "the examples at one end of an interpolation",
    "x2": "the examples at its other end",
    "images": "images in the data range, where the method takes images "
    "whatever the model's data (a text-to-image model's inputs, a "
    "cascade's resolutions, inpainting)",
    "low_resolution": "the low-resolution images a super-resolution model "
    "upscales",
    "samples": "the model's samples (what `sample` returns, or what a "
    "GAN's discriminator scores)",
    "tokens": "int token ids (a token model's data)",
    "prompt": "int token ids of the prompts a token model continues, one "
    "row each",
    "z": "latent codes: what `encode` returns and `decode` takes",
    "indices": "a vector-quantized model's code indices",
    "top_indices": "VQ-VAE-2's top-level code indices",
    "bottom_indices": "VQ-VAE-2's bottom-level code indices",
    "visible": "an RBM's visible units",
    "hidden": "an RBM's hidden units",
    "noise": "the start noise of a sampler, or a generator's input",
    "noisy": "the noised examples x_t a denoiser takes",
    "timesteps": "integer diffusion steps",
    "times": "continuous times in [0, 1]",
    "start_times": "the earlier time r of an average velocity",
    "end_times": "the later time t of an average velocity",
    "sigmas": "flow-matching noise levels in [0, 1]",
    "mask": "1 where a value is kept, 0 where it is drawn",
    "strength": "how far into the schedule image-to-image starts, in (0, 1]",
    # Counts and sizes.
    "num_samples": "how many examples to draw (or per example, where a "
    "method draws for each)",
    "num_importance_samples": "importance samples per example of an "
    "importance-sampled likelihood",
    "num_draws": "Monte Carlo draws per example of a stochastic bound",
    "num_points": "points on an interpolation's path",
    "num_pairs": "how many (noise, sample) couplings to draw",
    "num_chains": "parallel Markov chains",
    "num_betas": "inverse temperatures of annealed importance sampling",
    "max_new_tokens": "tokens appended to each prompt",
    "batch_size": "examples per batch",
    "chunk_size": "examples per batch of a memory-bound computation",
    "dimension": "a latent dimension's index",
    "values": "the values a latent dimension is set to",
    "property_index": "which predicted property a latent search steers",
    # Training hooks a subclass overrides (`GAN`'s and `VAE`'s steps).
    "training": "Keras' training-mode flag",
    "real": "a batch of training examples",
    "fake": "a batch of generated examples",
    "real_outputs": "the discriminator's outputs on real examples",
    "fake_outputs": "the discriminator's outputs on generated examples",
    "critic": "the discriminator a penalty differentiates",
    "adversarial": "the generator's adversarial loss term",
    "reconstruction": "the generator's reconstruction loss term",
    "target": "the examples a reconstruction is compared with",
    "outputs": "the forward pass' outputs, as `call` returns them",
    "decoder_output": "the decoder's raw output (a likelihood's parameters)",
    "kl_loss": "the KL term of a VAE's loss",
    "network": "the network a function evaluates (online or EMA copy)",
    "stage": "ProgressiveGAN's resolution stage",
    "alpha": "ProgressiveGAN's fade-in weight in [0, 1]",
    "coarse_noise": "StyleGAN's noise of the coarse styles",
    "fine_noise": "StyleGAN's noise of the fine styles",
    "crossover": "StyleGAN's layer where the fine styles take over",
    "learning_rate": "the step size of a gradient search",
    "maximize": "whether a search climbs (True) or descends",
    "prior_weight": "the weight of the prior's log-density in a search",
    "data": "examples whose mean initialises a chain's base rate",
    "base_visible_bias": "the visible bias of AIS' base RBM",
    "log_partition": "a precomputed `log Z`",
    # Loops and caches, compiled.
    "plan": "a `SamplingPlan`: solver, noise levels and guidance of a run",
    "loop_seed": "a compiled loop's seed tensor (drawn once from `seed`)",
    "use_cache": "decode with the key/value cache",
    "cache": "a key/value cache (`empty_cache`)",
    "cache_index": "the position the cache is written at",
    "prompt_length": "the length of the prompts being continued",
    # Presets and saving (Keras' and kgen's).
    "name_or_directory": "a preset's name, or a preset folder",
    "directory": "a folder to write",
    "folder": "a folder to read (a checkpoint of another library)",
    "estimator": "a fitted scikit-learn model (a model of another library)",
    "metadata": "a preset card's fields",
    "overwrite": "replace an existing folder",
    "dir_path": "Keras' asset folder (`save_assets` / `load_assets`)",
}

# One name per meaning across families: every public method of every model
# class that Keras' `Model` does not define, and what it does. The
# capabilities' methods are described in `CAPABILITIES`.
METHODS = {
    # The contract's capabilities.
    "sample": "draws new examples",
    "translate": "maps examples of one domain to another",
    "encode": "latent codes of examples",
    "decode": "examples of latent codes",
    "log_prob": "each example's log-likelihood, in nats",
    "bits_per_dim": "the negative log-likelihood per dimension, in bits",
    "elbo": "a lower bound on each example's log-likelihood, in nats",
    "discriminate": "a discriminator's realism score of each example",
    "generate": "continues token prompts (GPT), or draws one image per text "
    "prompt (TextToImage)",
    "invert": "runs the sampler backwards, from samples to start noise",
    "inpaint": "fills the masked parts of examples",
    "image_to_image": "redraws images towards prompts",
    "energy": "each example's energy",
    "free_energy": "each example's free energy",
    # Presets, saving and serving.
    "from_preset": "a model from a preset name or folder",
    "from_diffusers": "a model from a diffusers checkpoint folder",
    "from_sklearn": "a model from a fitted scikit-learn estimator",
    "save_to_preset": "writes a preset folder",
    "save_assets": "Keras' hook: writes the model's assets",
    "load_assets": "Keras' hook: reads the model's assets",
    "serving_endpoints": "the functions `kgen export` serves",
    # Further likelihoods, each named by its unit.
    "log_likelihood": "an importance-sampled log-likelihood, in nats",
    "log_importance_weights": "`log p(x, z) - log q(z|x)` per importance "
    "sample",
    "anomaly_score": "minus an importance-sampled log-likelihood",
    "nats_per_token": "the negative log-likelihood per predicted token",
    "nats_per_sample": "the negative log-likelihood per audio sample",
    "pseudo_log_likelihood": "an RBM's exact pseudo-log-likelihood",
    "log_partition_exact": "an RBM's `log Z` by enumeration",
    "log_partition_ais": "an RBM's `log Z` by annealed importance sampling",
    "likelihood_distribution": "`p(x|z)` of a decoder's output",
    "hidden_probabilities": "`p(h = 1 | v)` of an RBM",
    "visible_probabilities": "`p(v = 1 | h)` of an RBM",
    "class_energy": "a joint energy model's energy of each class",
    # Latent spaces.
    "interpolate": "decodes points between two examples' codes",
    "latent_traversal": "decodes codes with one dimension swept",
    "reconstruct": "an RBM's one-step mean-field reconstruction",
    "optimize_latents": "a gradient search in latent space for a property",
    "predict_properties": "a property head's predictions from codes",
    "bottom_condition": "VQ-VAE-2's bottom-level condition from top codes",
    "dequantize": "continuous values of discrete data (a flow's input)",
    "base": "a flow's base distribution",
    "styles": "StyleGAN's truncated styles of noise",
    "synthesize": "StyleGAN's images of styles",
    "mix_styles": "StyleGAN's images with coarse and fine styles from two "
    "noises",
    # Diffusion and flow internals a caller may drive.
    "denoise": "the denoiser's output at a noise level",
    "denoiser_inputs": "the denoiser's inputs at a noise level",
    "guided_denoise": "the guided denoiser a sampler steps with",
    "sample_noise": "start noise of a sampler",
    "sample_times": "the descending times a few-step sample visits",
    "velocity": "a flow-matching network's velocity",
    "average_velocity": "MeanFlow's average velocity between two times",
    "consistency": "a consistency model's map to data",
    "reflow_couplings": "(noise, sample) pairs for reflow",
    "super_resolve": "a cascade's upscaled images",
    "upscale": "a super-resolution GAN's upscaled images",
    "downsample": "a cascade's low-resolution images",
    "upsample": "a cascade's images resized up",
    "encode_text": "the text encoder's embeddings of token ids",
    "empty_cache": "a zero key/value cache",
    "call_with_cache": "logits of new tokens through a key/value cache",
    "logits": "a classifier's logits (a joint energy model's)",
    "generate_loop": "the compiled token loop `generate` runs",
    "negative_samples": "samples from an energy model's chains",
    "corrupt": "a denoising autoencoder's corrupted inputs",
    # Training steps and terms a subclass overrides.
    "loss_terms": "the named terms of the training loss",
    "kl_penalty": "the weighted KL term",
    "kl_weight": "the KL weight at the current step",
    "capacity": "BetaVAE's KL capacity at the current step",
    "encoder_inputs": "an encoder's inputs",
    "decoder_inputs": "a decoder's inputs",
    "generator_inputs": "a generator's inputs",
    "discriminator_inputs": "a discriminator's inputs",
    "generator_loss": "the generator's loss",
    "discriminator_loss": "the discriminator's loss",
    "discriminator_penalty": "the discriminator's gradient penalty",
    "generator_step": "one generator update",
    "discriminator_step": "one discriminator update",
    "generator_objective": "a paired GAN's generator loss terms",
    "reconstruction_loss": "a paired GAN's reconstruction term",
    "initialize": "data-dependent initialisation of a flow",
    "set_growth": "ProgressiveGAN's stage and fade-in",
}

# capability -> (the methods a model with it has, what it does).
CAPABILITIES = {
    "sample": (("sample",), "draws new examples: `sample(num_samples)`"),
    "translate": (
        ("translate",),
        "maps examples of one domain to another: `translate(x)`",
    ),
    "encode": (
        ("encode", "decode"),
        "latent codes of examples and back: `encode(x)`, `decode(z)`",
    ),
    "log_prob": (
        ("log_prob",),
        "the log-likelihood of each example, in nats: `log_prob(x)`",
    ),
    "bits_per_dim": (
        ("bits_per_dim",),
        "the negative log-likelihood per dimension, in bits: `bits_per_dim(x)`",
    ),
    "elbo": (
        ("elbo",),
        "a lower bound on each example's log-likelihood, in nats (a VAE's "
        "evidence bound, a diffusion model's variational bound): `elbo(x)`",
    ),
    "discriminate": (
        ("discriminate",),
        "a GAN discriminator's realism score of each example (higher: more "
        "like the training data): `discriminate(x)`",
    ),
    "generate": (
        ("generate",),
        "continues or answers a prompt: `generate(prompt, ...)`",
    ),
    "invert": (
        ("invert",),
        "runs the sampler backwards, from samples to their start noise: "
        "`invert(samples)`",
    ),
    "inpaint": (
        ("inpaint",),
        "fills the masked parts of examples: `inpaint(x, mask)`",
    ),
    "image_to_image": (
        ("image_to_image",),
        "redraws images towards a prompt: `image_to_image(images, prompts)`",
    ),
    "energy": (("energy",), "each example's energy: `energy(x)`"),
    "free_energy": (
        ("free_energy",),
        "each example's free energy, hidden units summed out: `free_energy(x)`",
    ),
}


def capabilities(model):
    """The capabilities a model (or model class) declares, in
    `CAPABILITIES`' order."""
    cls = model if isinstance(model, type) else type(model)
    declared = set(getattr(cls, "capabilities", ()))
    return tuple(name for name in CAPABILITIES if name in declared)


def can(model, capability):
    """Whether `model` has `capability` (a key of `CAPABILITIES`)."""
    if capability not in CAPABILITIES:
        raise ValueError(
            f"Unknown capability {capability!r}; expected one of "
            f"{sorted(CAPABILITIES)}."
        )
    return capability in capabilities(model)


def options(model, method="sample"):
    """The names of the arguments `model.<method>` takes after its first
    (the data, or `num_samples`): for `sample`, names of `VOCABULARY`.
    Read from the signature here, and only here."""
    parameters = list(
        inspect.signature(getattr(model, method)).parameters.values()
    )
    if parameters and parameters[0].name == "self":
        parameters = parameters[1:]
    named = (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )
    return {p.name for p in parameters[1:] if p.kind in named}


def check_sample_arguments(model, arguments, argument):
    """`ValueError` naming `argument` unless `arguments` (a dict of
    defaults for `model.sample`, such as a preset card's) names only
    arguments `model.sample` takes, `seed` excepted: a default seed would
    make every call draw the same samples."""
    if not isinstance(arguments, dict):
        raise ValueError(
            f"`{argument}` must be a dict of `sample` arguments; received "
            f"{type(arguments).__name__}."
        )
    accepted = set()
    if callable(getattr(model, "sample", None)):
        accepted = options(model) - {"seed"}
    unknown = sorted(set(arguments) - accepted)
    if unknown:
        raise ValueError(
            f"`{argument}` names {unknown}, which {type(model).__name__}"
            f".sample does not take (it takes {sorted(accepted)})."
        )
