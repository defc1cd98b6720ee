"""Untrained presets: an architecture and its training defaults, as data.

One entry per named architecture, and the one place its defaults live:
`kgen train NAME` reads them, `build_architecture(NAME, data_shape)` builds
and compiles the model, `GenerativeModel.from_preset(NAME)` builds it for
the preset's own dataset. Each entry says

- `class_name`: the `kgen.models` class, and `arguments` for it;
- `data_argument`: the constructor argument that takes the data's shape
  (`as_size`: its number of values instead);
- `networks`: constructor arguments built from Keras' serialized forms
  (`keras.saving.deserialize_keras_object`): a registered
  `kgen.networks` `builder` called with its `arguments` (and the data
  shape first when `shaped`), or a serialized object (a scheduler, a
  quantizer) whose `config` is its constructor's arguments; a U-Net
  that `follows_image_size` takes its `widths` and `attention_levels`
  from `kgen.presets.image_size_rule.unet_levels` when built for images
  of another height and width than the entry's `data` (its own are kept
  at that size, so the presets it rebuilds keep their weights);
- `optimizers`: `compile` arguments, as Keras optimizer configs;
- `data`: the default dataset, its shape, and how examples are prepared
  (`value_range`, `binarize` at 0.5, `layout`: `image` keeps
  `(height, width, channels)`, `grid` drops the channel, `vector`
  flattens);
- `captioned` (optional): trains on `(images, captions)` of
  `kgen.datasets.load_captioned`; the tokenizer is built from the
  captions, and the text encoder and the denoiser's context are sized
  from it;
- `training`: `epochs` and `batch_size` sized for 2 CPU cores on digits;
- `sampling` (optional): `sample` arguments for the pictures `kgen train`
  writes;
- `rebuilds` (optional): the shipped presets trained on this architecture
  (their recipes build it here; `tests/presets/test_architectures.py`
  checks that its weights are shaped as theirs);
- `trained_by` (optional): the script that trains an architecture which
  `kgen train` does not (a text model); `kgen train` names it instead.

An optimizer config with `exclude_vectors_from_weight_decay` leaves the
model's vectors (biases, normalisation scales and offsets) out of its
weight decay, as GPT-2 and nanoGPT do.

An override of `build_architecture` goes to the constructor and to every
network that takes it, or to those networks alone when the constructor's
entry does not name it (`widths`, `attention_levels`).
"""

import copy

import numpy as np

from kgen import networks
from kgen import schedulers
from kgen.presets import image_size_rule
from kgen.presets.architecture_parts import DIGITS
from kgen.presets.architecture_parts import adam
from kgen.presets.architecture_parts import network
from kgen.presets.architecture_parts import serialized
from kgen.presets.untrained_architectures import UNTRAINED_ARCHITECTURES
from kgen.utils.preset_error import PresetError

ARCHITECTURES = {
    "dcgan": {
        "family": "gan",
        "description": "DCGAN (Radford et al. 2015): strided convolutions, "
        "sized from the image shape.",
        "class_name": "DCGAN",
        "arguments": {"latent_dim": 32, "filters": 32},
        "data_argument": "image_shape",
        "networks": {},
        "optimizers": {
            "g_optimizer": adam(2e-4, beta_1=0.5),
            "d_optimizer": adam(2e-4, beta_1=0.5),
        },
        "data": dict(DIGITS, value_range=[-1, 1], layout="image"),
        "training": {"epochs": 100, "batch_size": 64},
    },
    "vae": {
        "family": "vae",
        "description": "Convolutional VAE (Kingma & Welling 2014) with a "
        "Bernoulli decoder.",
        "class_name": "VAE",
        "arguments": {"latent_dim": 8},
        "networks": {
            "encoder": network(networks.vae_encoder, latent_dim=8),
            "decoder": network(networks.vae_decoder, latent_dim=8),
        },
        "optimizers": {"optimizer": adam(1e-3)},
        "data": dict(DIGITS, value_range=[0, 1], layout="image"),
        "training": {"epochs": 50, "batch_size": 64},
    },
    "ddpm": {
        "family": "diffusion",
        "description": "DDPM (Ho et al. 2020): a small U-Net on a 200-step "
        "linear schedule.",
        "class_name": "DiffusionModel",
        "arguments": {},
        "networks": {
            "denoiser": network(
                networks.unet_denoiser, widths=[32, 64], follows_image_size=True
            ),
            "scheduler": serialized(
                schedulers.DDPMScheduler, num_train_timesteps=200, beta_end=0.1
            ),
        },
        "optimizers": {"optimizer": adam(1e-3)},
        "data": dict(DIGITS, value_range=[-1, 1], layout="image"),
        "training": {"epochs": 50, "batch_size": 64},
        "sampling": {"scheduler": "ddim", "num_steps": 20},
    },
    "flow_matching": {
        "family": "diffusion",
        "description": "Flow matching (rectified flow, Lipman et al. "
        "2023; Liu et al. 2023): a small U-Net regressing the straight "
        "path's velocity, sampled by Euler steps.",
        "class_name": "FlowMatching",
        "arguments": {},
        "networks": {
            "denoiser": network(
                networks.unet_denoiser,
                widths=[32, 64],
                timestep_dtype="float32",
                follows_image_size=True,
            ),
            "scheduler": serialized(schedulers.FlowMatchEulerScheduler),
        },
        "optimizers": {"optimizer": adam(1e-3)},
        "data": dict(DIGITS, value_range=[-1, 1], layout="image"),
        "training": {"epochs": 50, "batch_size": 64},
        "sampling": {"scheduler": "euler", "num_steps": 20},
    },
    "text_to_image": {
        "family": "diffusion",
        "description": "Text-to-image diffusion: a text encoder trained "
        "jointly with a cross-attention U-Net on captioned images "
        "(kgen.datasets.load_captioned), classifier-free guidance.",
        "class_name": "TextToImage",
        "arguments": {"condition_dropout": 0.1},
        "captioned": True,
        "networks": {
            "denoiser": network(
                networks.unet_denoiser, widths=[32, 64], follows_image_size=True
            ),
            "text_encoder": network(
                networks.text_encoder,
                width=32,
                num_layers=2,
                num_heads=4,
                shaped=False,
            ),
            "scheduler": serialized(
                schedulers.DDPMScheduler, beta_schedule="cosine"
            ),
        },
        "optimizers": {"optimizer": adam(1e-3)},
        "data": dict(DIGITS, value_range=[-1, 1], layout="image"),
        "training": {"epochs": 100, "batch_size": 64},
        "sampling": {"scheduler": "ddim", "num_steps": 20},
    },
    "real_nvp": {
        "family": "flow",
        "description": "RealNVP (Dinh et al. 2017): checkerboard affine "
        "couplings on dequantised 17-level digits.",
        "class_name": "RealNVP",
        "arguments": {"num_couplings": 6, "hidden_dim": 64, "num_bins": 17},
        "data_argument": "event_shape",
        "networks": {},
        "optimizers": {"optimizer": adam(1e-3)},
        "data": dict(DIGITS, value_range=[0, 1], layout="image"),
        "training": {"epochs": 50, "batch_size": 64},
    },
    "pixel_cnn": {
        "family": "autoregressive",
        "description": "Gated PixelCNN (van den Oord et al. 2016) on "
        "binarised images.",
        "class_name": "PixelCNN",
        "arguments": {"num_levels": 2, "filters": 32, "num_layers": 4},
        "data_argument": "grid_shape",
        "networks": {},
        "optimizers": {"optimizer": adam(3e-3)},
        "data": dict(
            DIGITS,
            shape=[8, 8],
            value_range=[0, 1],
            binarize=True,
            layout="grid",
        ),
        "training": {"epochs": 30, "batch_size": 64},
    },
    "rbm": {
        "family": "energy",
        "description": "Bernoulli RBM (Hinton 2002) trained by CD-1 on "
        "binarised images.",
        "class_name": "RBM",
        "arguments": {"num_hidden": 64},
        "data_argument": "num_visible",
        "as_size": True,
        "networks": {},
        "optimizers": {
            "optimizer": {
                "class_name": "SGD",
                "config": {"learning_rate": 0.05, "momentum": 0.5},
            }
        },
        "data": dict(
            DIGITS,
            shape=[64],
            value_range=[0, 1],
            binarize=True,
            layout="vector",
        ),
        "training": {"epochs": 50, "batch_size": 32},
    },
    **UNTRAINED_ARCHITECTURES,
}


def _class_conditional(name, description, num_classes=10):
    """Entry `name` with `num_classes` given to its constructor and to
    every network it builds: the same class, conditioned on a label."""
    entry = copy.deepcopy(ARCHITECTURES[name])
    entry.pop("rebuilds", None)  # its presets are unconditional
    entry["description"] = description
    entry["arguments"]["num_classes"] = num_classes
    for network_entry in entry["networks"].values():
        if "builder" in network_entry:
            network_entry["arguments"]["num_classes"] = num_classes
    return entry


ARCHITECTURES["conditional_dcgan"] = _class_conditional(
    "dcgan",
    "Class-conditional DCGAN (Mirza & Osindero 2014; Miyato & Koyama "
    "2018): the label embedded in the generator, a projection "
    "discriminator.",
)
ARCHITECTURES["conditional_vae"] = _class_conditional(
    "vae",
    "Class-conditional VAE (Sohn et al. 2015): the label fed to the "
    "encoder and the decoder, the prior shared.",
)


def list_architectures():
    """Names of the untrained presets, sorted."""
    return sorted(ARCHITECTURES)


def architecture(name):
    """A copy of the table entry `name`; `PresetError` if unknown."""
    if name not in ARCHITECTURES:
        raise PresetError(
            f"Unknown architecture preset {name!r}; expected one of "
            f"{list_architectures()}."
        )
    return copy.deepcopy(ARCHITECTURES[name])


def prepare_data(name, x):
    """Examples of an image dataset `x` in `[0, 1]`, as the preset trains
    on them: scaled to its `value_range`, binarised, reshaped."""
    data = architecture(name)["data"]
    x = np.asarray(x, "float32")
    if data.get("binarize"):
        x = (x > 0.5).astype("float32")
    low, high = data["value_range"]
    x = low + (high - low) * x
    if data["layout"] == "grid":
        if x.ndim != 4 or x.shape[-1] != 1:
            raise ValueError(
                f"Preset {name!r} trains on one-channel images; received "
                f"examples of shape {x.shape[1:]}."
            )
        x = x[..., 0]
    elif data["layout"] == "vector":
        x = x.reshape(len(x), -1)
    return x


def build_architecture(
    name,
    data_shape=None,
    seed=None,
    learning_rate=None,
    captions=None,
    compile=True,
    **overrides,
):
    """The preset `name`'s model for data of `data_shape`, compiled.

    Args:
        name: str, from `list_architectures()`.
        data_shape: shape of one prepared example (`prepare_data`), or
            `None` for the preset's own dataset.
        seed: int or `None`, the model's seed.
        learning_rate: float or `None` (the preset's), for every optimizer.
        captions: the training captions of a `captioned` preset, which
            its tokenizer is built from; `None` for the train captions of
            the preset's own dataset.
        compile: bool. `False` leaves the model uncompiled, to load
            trained weights saved without optimizer state into.
        **overrides: constructor arguments to change (e.g. `latent_dim`),
            also given to the networks that take them; an argument that
            only networks take (`widths`) goes to them alone.
    """
    import keras

    from kgen import models

    entry = architecture(name)
    shape = tuple(entry["data"]["shape"] if data_shape is None else data_shape)
    own_size = tuple(entry["data"]["shape"][:2])
    arguments = dict(entry["arguments"])
    network_only = set()
    if "data_argument" in entry:
        value = int(np.prod(shape)) if entry.get("as_size") else shape
        arguments[entry["data_argument"]] = value
    extra = {}
    if entry.get("captioned"):
        tokenizer = _tokenizer(entry, captions)
        arguments["tokenizer"] = tokenizer
        width = entry["networks"]["text_encoder"]["arguments"]["width"]
        extra = {
            "denoiser": {"context_shape": (tokenizer.sequence_length, width)},
            "text_encoder": {
                "vocabulary_size": tokenizer.vocabulary_size,
                "sequence_length": tokenizer.sequence_length,
            },
        }
    for argument, part in entry["networks"].items():
        # A builder's call arguments, or a serialized object's config.
        key = "arguments" if "builder" in part else "config"
        network_arguments = dict(part[key])
        network_arguments.update(extra.get(argument, {}))
        if part.get("follows_image_size") and shape[:2] != own_size:
            network_arguments.update(_sized_levels(shape, part, overrides))
        for option, value in overrides.items():
            if option in network_arguments:
                network_arguments[option] = value
                network_only.add(option)
        if key == "config":
            arguments[argument] = keras.saving.deserialize_keras_object(
                dict(part, config=network_arguments)
            )
            continue
        function = keras.saving.deserialize_keras_object(part["builder"])
        if part["shaped"]:
            arguments[argument] = function(shape, **network_arguments)
        else:
            arguments[argument] = function(**network_arguments)
    for key, value in overrides.items():
        if key in entry["arguments"] or key not in network_only:
            arguments[key] = value
    model_class = getattr(models, entry["class_name"])
    model = model_class(seed=seed, **arguments)
    if not compile:
        return model
    optimizers = {}
    for key, optimizer in entry["optimizers"].items():
        exclude_vectors = optimizer.pop(
            "exclude_vectors_from_weight_decay", False
        )
        if learning_rate is not None:
            optimizer["config"]["learning_rate"] = learning_rate
        optimizers[key] = keras.optimizers.get(optimizer)
        if exclude_vectors:
            optimizers[key].exclude_from_weight_decay(
                var_list=[
                    v for v in model.trainable_variables if len(v.shape) < 2
                ]
            )
    model.compile(**optimizers)
    return model


def _sized_levels(shape, network, overrides):
    """A U-Net's levels for images of `shape` (`image_size_rule`), its
    attention placed for the `widths` an override gives."""
    sized = image_size_rule.unet_levels(shape, network["arguments"]["widths"])
    if "widths" in overrides:
        sized["attention_levels"] = image_size_rule.attention_levels(
            shape, len(overrides["widths"])
        )
    return sized


def _tokenizer(entry, captions):
    from kgen import datasets
    from kgen import tokenizers

    if captions is None:
        (_, captions, _), _ = datasets.load_captioned(entry["data"]["dataset"])
    return tokenizers.WordTokenizer.from_texts(captions)
