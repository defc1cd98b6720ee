"""Network builders sized from the data shape."""

from kgen.networks.dcgan import dcgan_discriminator
from kgen.networks.dcgan import dcgan_generator
from kgen.networks.vae import vae_decoder
from kgen.networks.vae import vae_encoder

__all__ = [
    "dcgan_discriminator",
    "dcgan_generator",
    "vae_decoder",
    "vae_encoder",
]
