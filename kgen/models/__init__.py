"""Generative model families, each a `keras.Model` trained by `fit`."""

from kgen.models import retired_classes
from kgen.models.autoregressive import GPT
from kgen.models.autoregressive import PixelCNN
from kgen.models.autoregressive import WaveNet
from kgen.models.diffusion import CascadedDiffusion
from kgen.models.diffusion import ConsistencyModel
from kgen.models.diffusion import DiffusionModel
from kgen.models.diffusion import EquivariantDiffusion
from kgen.models.diffusion import FlowMatching
from kgen.models.diffusion import LatentDiffusion
from kgen.models.diffusion import LatentTextToImage
from kgen.models.diffusion import MeanFlow
from kgen.models.diffusion import ShortcutModel
from kgen.models.diffusion import TextToImage
from kgen.models.energy import RBM
from kgen.models.energy import EnergyModel
from kgen.models.energy import JointEnergyModel
from kgen.models.flow import MAF
from kgen.models.flow import FlowModel
from kgen.models.flow import Glow
from kgen.models.flow import NeuralSplineFlow
from kgen.models.flow import RealNVP
from kgen.models.gan import DCGAN
from kgen.models.gan import GAN
from kgen.models.gan import SRGAN
from kgen.models.gan import WGAN
from kgen.models.gan import WGANGP
from kgen.models.gan import CycleGAN
from kgen.models.gan import Pix2Pix
from kgen.models.gan import ProgressiveGAN
from kgen.models.gan import StyleGAN
from kgen.models.gan import WaveGAN
from kgen.models.generative_model import GenerativeModel
from kgen.models.load_model import load_model
from kgen.models.masked_token import MaskedDiffusion
from kgen.models.masked_token import MaskGIT
from kgen.models.sample_chunks import sample_in_chunks
from kgen.models.vae import VAE
from kgen.models.vae import VAEGAN
from kgen.models.vae import VQVAE
from kgen.models.vae import VQVAE2
from kgen.models.vae import Autoencoder
from kgen.models.vae import BetaVAE
from kgen.models.vae import DenoisingAutoencoder
from kgen.models.vae import HierarchicalVAE
from kgen.models.vae import KLAutoencoder
from kgen.models.vae import SequenceVAE

__all__ = [
    "Autoencoder",
    "BetaVAE",
    "CascadedDiffusion",
    "ConsistencyModel",
    "DenoisingAutoencoder",
    "DiffusionModel",
    "EquivariantDiffusion",
    "FlowMatching",
    "EnergyModel",
    "FlowModel",
    "GPT",
    "LatentDiffusion",
    "LatentTextToImage",
    "load_model",
    "MeanFlow",
    "DCGAN",
    "GAN",
    "Pix2Pix",
    "RBM",
    "PixelCNN",
    "ProgressiveGAN",
    "RealNVP",
    "sample_in_chunks",
    "ShortcutModel",
    "SRGAN",
    "StyleGAN",
    "TextToImage",
    "WGAN",
    "WGANGP",
    "WaveGAN",
    "CycleGAN",
    "GenerativeModel",
    "Glow",
    "HierarchicalVAE",
    "JointEnergyModel",
    "KLAutoencoder",
    "SequenceVAE",
    "MAF",
    "MaskGIT",
    "MaskedDiffusion",
    "NeuralSplineFlow",
    "VAE",
    "VAEGAN",
    "VQVAE",
    "VQVAE2",
    "WaveNet",
]

retired_classes.register_retired_classes()


def __getattr__(name):
    # PEP 562: the retired class names still build their family's model.
    if name in retired_classes.RETIRED_CLASSES:
        return retired_classes.retired_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
