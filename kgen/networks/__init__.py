"""Network builders sized from the data shape."""

from kgen.networks.audio_classifier import audio_classifier
from kgen.networks.classifier import classifier_features
from kgen.networks.classifier import image_classifier
from kgen.networks.classifier_training import fit_image_classifier
from kgen.networks.clip_text_encoder import ClipTextEncoder
from kgen.networks.dcgan import conditional_dcgan_discriminator
from kgen.networks.dcgan import conditional_dcgan_generator
from kgen.networks.dcgan import dcgan_discriminator
from kgen.networks.dcgan import dcgan_generator
from kgen.networks.diffusers_conditional_unet import DiffusersConditionalUNet
from kgen.networks.diffusers_decoder import DiffusersDecoder
from kgen.networks.diffusers_dit import DiffusersDiT
from kgen.networks.diffusers_encoder import DiffusersEncoder
from kgen.networks.diffusers_unet import DiffusersUNet
from kgen.networks.diffusers_weights import diffusers_weights
from kgen.networks.diffusers_weights import load_diffusers_weights
from kgen.networks.dit_denoiser import DIT_SIZES
from kgen.networks.dit_denoiser import dit_denoiser
from kgen.networks.egnn import egnn
from kgen.networks.image_to_image import patchgan_discriminator
from kgen.networks.image_to_image import srgan_generator
from kgen.networks.image_to_image import unet_generator
from kgen.networks.kl_autoencoder import kl_autoencoder_networks
from kgen.networks.masked_token_transformer import masked_token_transformer
from kgen.networks.mlp import mlp_discriminator
from kgen.networks.mlp import mlp_generator
from kgen.networks.pixel_cnn import pixel_cnn_network
from kgen.networks.progressive_discriminator import ProgressiveDiscriminator
from kgen.networks.progressive_generator import ProgressiveGenerator
from kgen.networks.style_decoder import style_decoder
from kgen.networks.stylegan import stylegan_mapping
from kgen.networks.stylegan import stylegan_synthesis
from kgen.networks.text_encoder import text_encoder
from kgen.networks.unet_denoiser import mlp_denoiser
from kgen.networks.unet_denoiser import unet_denoiser
from kgen.networks.vae import vae_decoder
from kgen.networks.vae import vae_encoder
from kgen.networks.vae import vae_features
from kgen.networks.video_denoiser import video_unet_denoiser
from kgen.networks.vqvae import vqvae2_networks
from kgen.networks.vqvae import vqvae_decoder
from kgen.networks.vqvae import vqvae_encoder
from kgen.networks.watermark import watermark_encoder
from kgen.networks.watermark import watermark_extractor
from kgen.networks.wavegan import wavegan_discriminator
from kgen.networks.wavegan import wavegan_generator

__all__ = [
    "audio_classifier",
    "DIT_SIZES",
    "ProgressiveDiscriminator",
    "ProgressiveGenerator",
    "classifier_features",
    "conditional_dcgan_discriminator",
    "conditional_dcgan_generator",
    "dcgan_discriminator",
    "dcgan_generator",
    "ClipTextEncoder",
    "DiffusersConditionalUNet",
    "DiffusersDecoder",
    "DiffusersDiT",
    "DiffusersEncoder",
    "DiffusersUNet",
    "diffusers_weights",
    "dit_denoiser",
    "egnn",
    "fit_image_classifier",
    "image_classifier",
    "kl_autoencoder_networks",
    "load_diffusers_weights",
    "masked_token_transformer",
    "mlp_denoiser",
    "mlp_discriminator",
    "mlp_generator",
    "patchgan_discriminator",
    "pixel_cnn_network",
    "srgan_generator",
    "style_decoder",
    "stylegan_mapping",
    "stylegan_synthesis",
    "text_encoder",
    "unet_denoiser",
    "video_unet_denoiser",
    "unet_generator",
    "vae_decoder",
    "vae_encoder",
    "vae_features",
    "vqvae_decoder",
    "vqvae_encoder",
    "watermark_encoder",
    "watermark_extractor",
    "vqvae2_networks",
    "wavegan_discriminator",
    "wavegan_generator",
]
