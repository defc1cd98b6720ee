from kgen.models.vae.autoencoder import Autoencoder
from kgen.models.vae.beta_vae import BetaVAE
from kgen.models.vae.denoising_autoencoder import DenoisingAutoencoder
from kgen.models.vae.hierarchical_vae import HierarchicalVAE
from kgen.models.vae.kl_autoencoder import KLAutoencoder
from kgen.models.vae.sequence_vae import SequenceVAE
from kgen.models.vae.vae import VAE
from kgen.models.vae.vae_gan import VAEGAN
from kgen.models.vae.vq_vae import VQVAE
from kgen.models.vae.vq_vae2 import VQVAE2

__all__ = [
    "Autoencoder",
    "BetaVAE",
    "DenoisingAutoencoder",
    "KLAutoencoder",
    "HierarchicalVAE",
    "SequenceVAE",
    "VAE",
    "VAEGAN",
    "VQVAE",
    "VQVAE2",
]
