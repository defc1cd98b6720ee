"""The contract as code: one name per meaning, and what each model can do.

Callers (the command line, the privacy audit, the docs) ask this module
what a model can do instead of probing its methods and signatures:

    contract.can(model, "invert")      # a sampler that runs backwards
    contract.capabilities(model)       # ("sample", "log_prob", ...)
    contract.options(model)            # {"seed", "labels", "num_steps"}

Each family declares its capabilities as the class attribute
`capabilities`; `tests/models/test_contract_signatures.py` checks that a
class declares a capability exactly when it has the capability's methods,
and that every `sample` keyword is a name of `VOCABULARY`.
docs/contract.md's capability table is generated from here
(`python docs/generate.py`).
"""

import inspect

# One name per meaning across families: every keyword of every `sample`.
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
    "sampler": "the token sampling rule (kgen.samplers) of token models",
    "windowed": "run the network only on the receptive field",
    "from_buffer": "start chains from the replay buffer",
    "initial": "starting states of the chains",
    "direction": "translation direction of a two-way paired model",
    "watermark": "a key written into the start noise "
    "(kgen.watermarks.FourierNoiseWatermark)",
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
