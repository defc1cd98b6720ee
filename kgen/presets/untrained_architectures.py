"""The shipped presets' architectures, untrained: each entry `rebuilds`
the presets trained on it (their recipes build it through
`kgen.presets.build_architecture`); see `architectures.py` for the keys."""

from kgen import layers
from kgen import networks
from kgen.presets.architecture_parts import MNIST
from kgen.presets.architecture_parts import adam
from kgen.presets.architecture_parts import adamw_warmup_cosine
from kgen.presets.architecture_parts import mnist_dcgan
from kgen.presets.architecture_parts import mnist_unet
from kgen.presets.architecture_parts import network
from kgen.presets.architecture_parts import serialized

UNTRAINED_ARCHITECTURES = {
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
        "networks": {"denoiser": mnist_unet([64, 128, 128])},
        "optimizers": {"optimizer": adam(2e-4, ema_momentum=0.9995)},
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
        "networks": {"denoiser": mnist_unet([32, 64, 64])},
        "optimizers": {"optimizer": adam(5e-4, ema_momentum=0.995)},
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
        "networks": {"denoiser": mnist_unet([16, 32, 32], "float32")},
        "optimizers": {"optimizer": adam(5e-4, ema_momentum=0.995)},
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
        "networks": mnist_dcgan(),
        "optimizers": {
            "g_optimizer": adam(2e-4, beta_1=0.5),
            "d_optimizer": adam(2e-4, beta_1=0.5),
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
        "networks": mnist_dcgan(dropout_rate=0.0),
        "optimizers": {
            "g_optimizer": adam(1e-4, beta_1=0.0, beta_2=0.9),
            "d_optimizer": adam(1e-4, beta_1=0.0, beta_2=0.9),
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
        "optimizers": {"optimizer": adam(1e-3)},
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
        "optimizers": {"optimizer": adam(1e-3)},
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
        "optimizers": {"optimizer": adam(1e-3)},
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
            "encoder": network(
                networks.vae_encoder, latent_dim=32, hidden_dim=256
            ),
            "decoder": network(
                networks.vae_decoder, latent_dim=32, hidden_dim=256
            ),
        },
        "optimizers": {"optimizer": adam(1e-3)},
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
            "encoder": network(networks.vae_features, hidden_dim=256),
            "decoder": network(
                networks.vae_decoder, latent_dim=48, hidden_dim=243
            ),
        },
        "optimizers": {"optimizer": adam(1e-3)},
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
        "optimizers": {"optimizer": adam(1e-3)},
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
            "encoder": network(
                networks.vqvae_encoder,
                embedding_dim=16,
                filters=32,
                max_steps=1,
            ),
            "decoder": network(
                networks.vqvae_decoder,
                embedding_dim=16,
                filters=32,
                max_steps=1,
            ),
            "quantizer": serialized(
                layers.VectorQuantizer,
                num_embeddings=64,
                embedding_dim=16,
                use_ema=True,
                dead_code_threshold=1.0,
                seed=0,
            ),
        },
        "optimizers": {"optimizer": adam(2e-3)},
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
        "optimizers": {"optimizer": adam(1e-3)},
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
            "network": network(
                networks.masked_token_transformer,
                num_levels=64,
                width=96,
                num_layers=4,
                num_heads=4,
                num_classes=10,
            ),
        },
        "optimizers": {"optimizer": adam(1e-3)},
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
        "optimizers": {"optimizer": adamw_warmup_cosine(steps=2000)},
        "data": {
            "dataset": "tiny shakespeare",
            "shape": [64],
            "layout": "tokens",
        },
        "training": {"epochs": 1, "steps": 2000, "batch_size": 12},
        "trained_by": "recipes/gpt_shakespeare.py",
        "rebuilds": ["gpt_shakespeare"],
    },
    "gpt_moses_untrained": {
        "family": "autoregressive",
        "description": "SMILES GPT of the gpt_moses preset: 4 layers, 4 "
        "heads, 128 wide, conditioned on 3 QED terciles, every sample "
        "started at [BOS]; AdamW (beta_2 0.99, weight decay 0.1 but on "
        "vectors, gradients clipped to norm 1) warming up to 1e-3 over 100 "
        "steps, then a cosine to 1e-4 at step 2,500, on batches of 128 "
        "molecules of similar length.",
        "class_name": "GPT",
        "arguments": {
            "vocabulary_size": 27,
            "sequence_length": 56,
            "num_layers": 4,
            "num_heads": 4,
            "hidden_dim": 128,
            "num_classes": 3,
            "start_id": 1,
        },
        "networks": {},
        "optimizers": {"optimizer": adamw_warmup_cosine(steps=2500)},
        "data": {"dataset": "moses", "shape": [56], "layout": "tokens"},
        "training": {"epochs": 1, "steps": 2500, "batch_size": 128},
        "trained_by": "recipes/gpt_moses.py",
        "rebuilds": ["gpt_moses"],
    },
    "gpt_peptides_untrained": {
        "family": "autoregressive",
        "description": "Peptide GPT of the gpt_peptides preset: 3 layers, "
        "4 heads, 96 wide, dropout 0.1, over the 20 amino acids, "
        "conditioned on the antimicrobial label, every sample started at "
        "[BOS]; AdamW (beta_2 0.99, weight decay 0.1 but on vectors, "
        "gradients clipped to norm 1) warming up to 1e-3 over 100 steps, "
        "then a cosine to 1e-4 at step 3,000, on batches of 64 peptides.",
        "class_name": "GPT",
        "arguments": {
            "vocabulary_size": 23,
            "sequence_length": 52,
            "num_layers": 3,
            "num_heads": 4,
            "hidden_dim": 96,
            "dropout": 0.1,
            "num_classes": 2,
            "start_id": 1,
        },
        "networks": {},
        "optimizers": {"optimizer": adamw_warmup_cosine(steps=3000)},
        "data": {"dataset": "peptides", "shape": [52], "layout": "tokens"},
        "training": {"epochs": 48, "steps": 2976, "batch_size": 64},
        "trained_by": "recipes/gpt_peptides.py",
        "rebuilds": ["gpt_peptides"],
    },
}
