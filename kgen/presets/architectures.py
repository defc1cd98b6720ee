"""Untrained presets: an architecture and its training defaults, as data.

One entry per named architecture, and the one place its defaults live:
`kgen train NAME` reads them, `build_architecture(NAME, data_shape)` builds
and compiles the model, `GenerativeModel.from_preset(NAME)` builds it for
the preset's own dataset. Each entry says

- `class_name`: the `kgen.models` class, and `arguments` for it;
- `data_argument`: the constructor argument that takes the data's shape
  (`as_size`: its number of values instead);
- `networks`: constructor arguments built by a `kgen.networks` (or
  `kgen.schedulers`) function, from the data shape when `shaped`;
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

from kgen.presets.preset_error import PresetError


def _adam(learning_rate, beta_1=0.9, beta_2=0.999, ema_momentum=None):
    config = {"learning_rate": learning_rate, "beta_1": beta_1}
    if beta_2 != 0.999:
        config["beta_2"] = beta_2
    if ema_momentum is not None:
        # The weights an epoch ends with are the moving average's.
        config.update(use_ema=True, ema_momentum=ema_momentum)
    return {"class_name": "Adam", "config": config}


def _adamw_warmup_cosine(
    learning_rate,
    min_learning_rate,
    warmup_steps,
    steps,
    beta_2,
    weight_decay,
    global_clipnorm,
):
    """nanoGPT's optimizer: AdamW from 0 to `learning_rate` over
    `warmup_steps`, then a cosine to `min_learning_rate` at `steps`; no
    weight decay on vectors."""
    schedule = {
        "module": "keras.optimizers.schedules",
        "class_name": "CosineDecay",
        "config": {
            "initial_learning_rate": 0.0,
            "warmup_target": learning_rate,
            "warmup_steps": warmup_steps,
            "decay_steps": steps - warmup_steps,
            "alpha": min_learning_rate / learning_rate,
        },
        "registered_name": None,
    }
    config = {
        "learning_rate": schedule,
        "beta_2": beta_2,
        "epsilon": 1e-8,
        "weight_decay": weight_decay,
        "global_clipnorm": global_clipnorm,
    }
    return {
        "class_name": "AdamW",
        "config": config,
        "exclude_vectors_from_weight_decay": True,
    }


DIGITS = {"dataset": "digits", "shape": [8, 8, 1]}
MNIST = {"dataset": "mnist", "shape": [28, 28, 1]}


def _mnist_unet(widths, timestep_dtype="int32"):
    """The class-conditional U-Net of the MNIST diffusion presets:
    attention at the lowest resolution."""
    return {
        "function": "networks.unet_denoiser",
        "shaped": True,
        "arguments": {
            "widths": widths,
            "attention_levels": [len(widths) - 1],
            "num_classes": 10,
            "timestep_dtype": timestep_dtype,
        },
    }


def _mnist_dcgan(dropout_rate=0.3):
    """The MNIST GANs' DCGAN networks (32 filters, 64-d latent)."""
    return {
        "generator": {
            "function": "networks.dcgan_generator",
            "shaped": True,
            "arguments": {"latent_dim": 64, "filters": 32},
        },
        "discriminator": {
            "function": "networks.dcgan_discriminator",
            "shaped": True,
            "arguments": {"filters": 32, "dropout_rate": dropout_rate},
        },
    }


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
            "g_optimizer": _adam(2e-4, beta_1=0.5),
            "d_optimizer": _adam(2e-4, beta_1=0.5),
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
            "encoder": {
                "function": "networks.vae_encoder",
                "shaped": True,
                "arguments": {"latent_dim": 8},
            },
            "decoder": {
                "function": "networks.vae_decoder",
                "shaped": True,
                "arguments": {"latent_dim": 8},
            },
        },
        "optimizers": {"optimizer": _adam(1e-3)},
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
            "denoiser": {
                "function": "networks.unet_denoiser",
                "shaped": True,
                "arguments": {"widths": [32, 64]},
            },
            "scheduler": {
                "function": "schedulers.DDPMScheduler",
                "shaped": False,
                "arguments": {"num_train_timesteps": 200, "beta_end": 0.1},
            },
        },
        "optimizers": {"optimizer": _adam(1e-3)},
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
            "denoiser": {
                "function": "networks.unet_denoiser",
                "shaped": True,
                "arguments": {"widths": [32, 64], "timestep_dtype": "float32"},
            },
            "scheduler": {
                "function": "schedulers.FlowMatchEulerScheduler",
                "shaped": False,
                "arguments": {},
            },
        },
        "optimizers": {"optimizer": _adam(1e-3)},
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
            "denoiser": {
                "function": "networks.unet_denoiser",
                "shaped": True,
                "arguments": {"widths": [32, 64]},
            },
            "text_encoder": {
                "function": "networks.text_encoder",
                "shaped": False,
                "arguments": {"width": 32, "num_layers": 2, "num_heads": 4},
            },
            "scheduler": {
                "function": "schedulers.DDPMScheduler",
                "shaped": False,
                "arguments": {"beta_schedule": "cosine"},
            },
        },
        "optimizers": {"optimizer": _adam(1e-3)},
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
        "optimizers": {"optimizer": _adam(1e-3)},
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
        "optimizers": {"optimizer": _adam(3e-3)},
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
    # === The shipped MNIST presets' architectures (`rebuilds`) ===
    "ddpm_mnist_untrained": {
        "family": "diffusion",
        "description": "Class-conditional DDPM (Ho et al. 2020) of the "
        "ddpm_mnist preset: a U-Net of widths 64, 128, 128 with attention "
        "at the lowest resolution, the 1,000-step linear schedule, epsilon "
        "target, label dropout 0.1, Adam with EMA weights (0.9995).",
        "class_name": "DiffusionModel",
        "arguments": {
            "num_classes": 10,
            "condition_dropout": 0.1,
            "prediction_type": "epsilon",
        },
        "networks": {"denoiser": _mnist_unet([64, 128, 128])},
        "optimizers": {"optimizer": _adam(2e-4, ema_momentum=0.9995)},
        "data": dict(MNIST, value_range=[-1, 1], layout="image"),
        "training": {"epochs": 72, "batch_size": 128},
        "sampling": {"scheduler": "ddim", "num_steps": 50},
        "rebuilds": ["ddpm_mnist"],
    },
    "ddpm_mnist_small_untrained": {
        "family": "diffusion",
        "description": "ddpm_mnist_untrained at a CPU budget "
        "(`recipes/ddpm_mnist.py --size cpu`): widths 32, 64, 64, v "
        "target, Adam 5e-4 with EMA weights (0.995).",
        "class_name": "DiffusionModel",
        "arguments": {
            "num_classes": 10,
            "condition_dropout": 0.1,
            "prediction_type": "v_prediction",
        },
        "networks": {"denoiser": _mnist_unet([32, 64, 64])},
        "optimizers": {"optimizer": _adam(5e-4, ema_momentum=0.995)},
        "data": dict(MNIST, value_range=[-1, 1], layout="image"),
        "training": {"epochs": 3, "batch_size": 64},
        "sampling": {"scheduler": "ddim", "num_steps": 50},
    },
    "flow_matching_mnist_untrained": {
        "family": "diffusion",
        "description": "Class-conditional rectified flow (Lipman et al. "
        "2023; Liu et al. 2023) of the flow_matching_mnist and "
        "flow_matching_fashion_mnist presets: a U-Net of widths 16, 32, 32 "
        "with float timesteps, logit-normal time sampling, label dropout "
        "0.1, Adam 5e-4 with EMA weights (0.995); the presets trained 2,400 "
        "and 3,200 steps.",
        "class_name": "FlowMatching",
        "arguments": {"num_classes": 10},
        "networks": {"denoiser": _mnist_unet([16, 32, 32], "float32")},
        "optimizers": {"optimizer": _adam(5e-4, ema_momentum=0.995)},
        "data": dict(MNIST, value_range=[-1, 1], layout="image"),
        "training": {"epochs": 3, "batch_size": 64},
        "sampling": {"scheduler": "euler", "num_steps": 10},
        "rebuilds": ["flow_matching_mnist", "flow_matching_fashion_mnist"],
    },
    "dcgan_mnist_untrained": {
        "family": "gan",
        "description": "GAN of the dcgan_mnist preset: DCGAN networks of "
        "32 filters, a 64-dimensional latent, the non-saturating loss, "
        "Adam 2e-4 (beta_1 0.5).",
        "class_name": "GAN",
        "arguments": {"latent_dim": 64},
        "networks": _mnist_dcgan(),
        "optimizers": {
            "g_optimizer": _adam(2e-4, beta_1=0.5),
            "d_optimizer": _adam(2e-4, beta_1=0.5),
        },
        "data": dict(MNIST, value_range=[-1, 1], layout="image"),
        "training": {"epochs": 8, "batch_size": 64},
        "rebuilds": ["dcgan_mnist"],
    },
    "wgan_gp_mnist_untrained": {
        "family": "gan",
        "description": "WGAN-GP (Gulrajani et al. 2017) of the "
        "wgan_gp_mnist preset: DCGAN networks of 32 filters (a critic "
        "without dropout), a 64-dimensional latent, gradient penalty 10, "
        "2 critic steps per generator step, Adam 1e-4 (beta_1 0, beta_2 "
        "0.9).",
        "class_name": "WGANGP",
        "arguments": {"latent_dim": 64, "n_critic": 2},
        "networks": _mnist_dcgan(dropout_rate=0.0),
        "optimizers": {
            "g_optimizer": _adam(1e-4, beta_1=0.0, beta_2=0.9),
            "d_optimizer": _adam(1e-4, beta_1=0.0, beta_2=0.9),
        },
        "data": dict(MNIST, value_range=[-1, 1], layout="image"),
        "training": {"epochs": 8, "batch_size": 64},
        "rebuilds": ["wgan_gp_mnist"],
    },
    "glow_mnist_untrained": {
        "family": "flow",
        "description": "Glow (Kingma & Dhariwal 2018) of the glow_mnist "
        "preset: 2 levels of 4 steps, 64-wide coupling networks, on "
        "uniformly dequantised 8-bit images.",
        "class_name": "Glow",
        "arguments": {
            "num_levels": 2,
            "num_steps": 4,
            "hidden_dim": 64,
            "num_bins": 256,
        },
        "data_argument": "event_shape",
        "networks": {},
        "optimizers": {"optimizer": _adam(1e-3)},
        "data": dict(MNIST, value_range=[0, 1], layout="image"),
        "training": {"epochs": 6, "batch_size": 64},
        "sampling": {"temperature": 0.7},
        "rebuilds": ["glow_mnist"],
    },
    "real_nvp_mnist_untrained": {
        "family": "flow",
        "description": "RealNVP (Dinh et al. 2017) for MNIST "
        "(`recipes/flow_mnist.py realnvp`): 6 checkerboard couplings, "
        "32-wide, on uniformly dequantised 8-bit images.",
        "class_name": "RealNVP",
        "arguments": {"num_couplings": 6, "hidden_dim": 32, "num_bins": 256},
        "data_argument": "event_shape",
        "networks": {},
        "optimizers": {"optimizer": _adam(1e-3)},
        "data": dict(MNIST, value_range=[0, 1], layout="image"),
        "training": {"epochs": 6, "batch_size": 64},
        "sampling": {"temperature": 0.7},
    },
    "neural_spline_flow_mnist_untrained": {
        "family": "flow",
        "description": "Neural spline flow (Durkan et al. 2019) for MNIST: "
        "real_nvp_mnist_untrained's layout and conditioners with 8-bin "
        "rational-quadratic spline couplings.",
        "class_name": "NeuralSplineFlow",
        "arguments": {
            "num_couplings": 6,
            "num_spline_bins": 8,
            "hidden_dim": 32,
            "num_bins": 256,
        },
        "data_argument": "event_shape",
        "networks": {},
        "optimizers": {"optimizer": _adam(1e-3)},
        "data": dict(MNIST, value_range=[0, 1], layout="image"),
        "training": {"epochs": 6, "batch_size": 64},
        "sampling": {"temperature": 0.7},
    },
    "vae_mnist_untrained": {
        "family": "vae",
        "description": "Convolutional VAE of the vae_mnist preset: a "
        "32-dimensional latent, 256-wide dense layers, a Bernoulli "
        "decoder; its recipe binarises the images dynamically "
        "(kgen.datasets.DynamicBinarization).",
        "class_name": "VAE",
        "arguments": {"latent_dim": 32},
        "networks": {
            "encoder": {
                "function": "networks.vae_encoder",
                "shaped": True,
                "arguments": {"latent_dim": 32, "hidden_dim": 256},
            },
            "decoder": {
                "function": "networks.vae_decoder",
                "shaped": True,
                "arguments": {"latent_dim": 32, "hidden_dim": 256},
            },
        },
        "optimizers": {"optimizer": _adam(1e-3)},
        "data": dict(MNIST, value_range=[0, 1], layout="image"),
        "training": {"epochs": 24, "batch_size": 100},
        "rebuilds": ["vae_mnist"],
    },
    "hierarchical_vae_mnist_untrained": {
        "family": "vae",
        "description": "Two-level hierarchical VAE of the "
        "hierarchical_vae_mnist preset: vae_mnist_untrained's encoder "
        "read at its last hidden layer (kgen.networks.vae_features), "
        "latents 32 and 16, a decoder that also sees z2 (hidden width "
        "243, so the two models' sizes agree to 0.1%).",
        "class_name": "HierarchicalVAE",
        "arguments": {
            "latent_dims": [32, 16],
            "hidden_dim": 128,
            "decoder_skip": True,
        },
        "networks": {
            "encoder": {
                "function": "networks.vae_features",
                "shaped": True,
                "arguments": {"hidden_dim": 256},
            },
            "decoder": {
                "function": "networks.vae_decoder",
                "shaped": True,
                "arguments": {"latent_dim": 48, "hidden_dim": 243},
            },
        },
        "optimizers": {"optimizer": _adam(1e-3)},
        "data": dict(MNIST, value_range=[0, 1], layout="image"),
        "training": {"epochs": 16, "batch_size": 100},
        "rebuilds": ["hierarchical_vae_mnist"],
    },
    "pixel_cnn_mnist_untrained": {
        "family": "autoregressive",
        "description": "Gated PixelCNN (van den Oord et al. 2016) of the "
        "pixel_cnn_mnist preset: 8 gated layers of 32 filters on binary "
        "grids; its recipe binarises the images dynamically.",
        "class_name": "PixelCNN",
        "arguments": {
            "num_levels": 2,
            "filters": 32,
            "num_layers": 8,
            "architecture": "gated",
        },
        "data_argument": "grid_shape",
        "networks": {},
        "optimizers": {"optimizer": _adam(1e-3)},
        "data": dict(
            MNIST,
            shape=[28, 28],
            value_range=[0, 1],
            binarize=True,
            layout="grid",
        ),
        "training": {"epochs": 4, "batch_size": 64},
        "rebuilds": ["pixel_cnn_mnist"],
    },
    "rbm_mnist_untrained": {
        "family": "energy",
        "description": "Bernoulli RBM of the rbm_mnist preset: 500 hidden "
        "units, persistent contrastive divergence with as many chains as "
        "the batch (20), plain SGD 0.05, on images thresholded at 0.5.",
        "class_name": "RBM",
        "arguments": {
            "num_hidden": 500,
            "persistent": True,
            "num_persistent_chains": 20,
        },
        "data_argument": "num_visible",
        "as_size": True,
        "networks": {},
        "optimizers": {
            "optimizer": {
                "class_name": "SGD",
                "config": {"learning_rate": 0.05},
            }
        },
        "data": dict(
            MNIST,
            shape=[784],
            value_range=[0, 1],
            binarize=True,
            layout="vector",
        ),
        "training": {"epochs": 10, "batch_size": 20},
        "rebuilds": ["rbm_mnist"],
    },
    # The VQ-VAE of the vqvae_*_mnist presets and the priors over its codes,
    # trained in stages by benchmarks/mask_git_mnist.py; a preset is the
    # VQ-VAE with one prior (`kgen.models.VQVAE(..., prior=)`).
    "vqvae_mnist_untrained": {
        "family": "vae",
        "description": "VQ-VAE (van den Oord et al. 2017) of the "
        "vqvae_pixel_cnn_mnist and vqvae_mask_git_mnist presets: one "
        "halving to a 14x14 grid of 16-dimensional vectors, 32 filters, 64 "
        "codes updated by moving averages (dead codes restarted).",
        "class_name": "VQVAE",
        "arguments": {},
        "networks": {
            "encoder": {
                "function": "networks.vqvae_encoder",
                "shaped": True,
                "arguments": {
                    "embedding_dim": 16,
                    "filters": 32,
                    "max_steps": 1,
                },
            },
            "decoder": {
                "function": "networks.vqvae_decoder",
                "shaped": True,
                "arguments": {
                    "embedding_dim": 16,
                    "filters": 32,
                    "max_steps": 1,
                },
            },
            "quantizer": {
                "function": "layers.VectorQuantizer",
                "shaped": False,
                "arguments": {
                    "num_embeddings": 64,
                    "embedding_dim": 16,
                    "use_ema": True,
                    "dead_code_threshold": 1.0,
                    "seed": 0,
                },
            },
        },
        "optimizers": {"optimizer": _adam(2e-3)},
        "data": dict(MNIST, value_range=[0, 1], layout="image"),
        "training": {"epochs": 3, "batch_size": 128},
        "trained_by": "python -m benchmarks.mask_git_mnist --stage vqvae",
    },
    "pixel_cnn_mnist_codes_untrained": {
        "family": "autoregressive",
        "description": "Class-conditional PixelCNN prior over "
        "vqvae_mnist_untrained's 14x14 grids of 64 codes (the "
        "vqvae_pixel_cnn_mnist preset's): 5 layers of 64 filters.",
        "class_name": "PixelCNN",
        "arguments": {
            "num_levels": 64,
            "filters": 64,
            "num_layers": 5,
            "num_classes": 10,
        },
        "data_argument": "grid_shape",
        "networks": {},
        "optimizers": {"optimizer": _adam(1e-3)},
        "data": {"dataset": "mnist codes", "shape": [14, 14], "layout": "grid"},
        "training": {"epochs": 3, "batch_size": 128},
        "trained_by": "python -m benchmarks.mask_git_mnist --stage prior "
        "--kind pixel_cnn",
    },
    "mask_git_mnist_codes_untrained": {
        "family": "masked_token",
        "description": "Class-conditional MaskGIT (Chang et al. 2022) prior "
        "over vqvae_mnist_untrained's 14x14 grids of 64 codes (the "
        "vqvae_mask_git_mnist preset's): a transformer of 4 layers, 4 "
        "heads, 96 wide, the cosine mask schedule.",
        "class_name": "MaskGIT",
        "arguments": {"num_classes": 10},
        "networks": {
            "network": {
                "function": "networks.masked_token_transformer",
                "shaped": True,
                "arguments": {
                    "num_levels": 64,
                    "width": 96,
                    "num_layers": 4,
                    "num_heads": 4,
                    "num_classes": 10,
                },
            },
        },
        "optimizers": {"optimizer": _adam(1e-3)},
        "data": {"dataset": "mnist codes", "shape": [14, 14], "layout": "grid"},
        "training": {"epochs": 3, "batch_size": 128},
        "trained_by": "python -m benchmarks.mask_git_mnist --stage prior "
        "--kind mask_git",
    },
    "gpt_shakespeare_untrained": {
        "family": "autoregressive",
        "description": "Character GPT of the gpt_shakespeare preset, "
        "nanoGPT's configuration for a CPU: 4 layers, 4 heads, 128 wide, a "
        "64-character context, dropout 0; AdamW (beta_2 0.99, weight decay "
        "0.1 but on vectors, gradients clipped to norm 1) warming up to 1e-3 "
        "over 100 steps, then a cosine to 1e-4 at step 2,000, on batches of "
        "12 random 65-character windows.",
        "class_name": "GPT",
        "arguments": {
            "vocabulary_size": 65,
            "sequence_length": 64,
            "num_layers": 4,
            "num_heads": 4,
            "hidden_dim": 128,
        },
        "networks": {},
        "optimizers": {
            "optimizer": _adamw_warmup_cosine(
                1e-3,
                min_learning_rate=1e-4,
                warmup_steps=100,
                steps=2000,
                beta_2=0.99,
                weight_decay=0.1,
                global_clipnorm=1.0,
            )
        },
        "data": {
            "dataset": "tiny shakespeare",
            "shape": [64],
            "layout": "tokens",
        },
        "training": {"epochs": 1, "steps": 2000, "batch_size": 12},
        "trained_by": "recipes/gpt_shakespeare.py",
        "rebuilds": ["gpt_shakespeare"],
    },
}


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

    import kgen

    entry = architecture(name)
    shape = tuple(entry["data"]["shape"] if data_shape is None else data_shape)
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
    for argument, network in entry["networks"].items():
        module, function = network["function"].split(".")
        function = getattr(getattr(kgen, module), function)
        network_arguments = dict(network["arguments"])
        network_arguments.update(extra.get(argument, {}))
        for key, value in overrides.items():
            if key in network_arguments:
                network_arguments[key] = value
                network_only.add(key)
        if network["shaped"]:
            arguments[argument] = function(shape, **network_arguments)
        else:
            arguments[argument] = function(**network_arguments)
    for key, value in overrides.items():
        if key in entry["arguments"] or key not in network_only:
            arguments[key] = value
    model_class = getattr(kgen.models, entry["class_name"])
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


def _tokenizer(entry, captions):
    from kgen import datasets
    from kgen import tokenizers

    if captions is None:
        (_, captions, _), _ = datasets.load_captioned(entry["data"]["dataset"])
    return tokenizers.WordTokenizer.from_texts(captions)
