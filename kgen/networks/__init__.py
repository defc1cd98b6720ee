"""Network builders sized from the data shape."""

from kgen.networks.classifier import classifier_features
from kgen.networks.classifier import image_classifier
from kgen.networks.dcgan import dcgan_discriminator
from kgen.networks.dcgan import dcgan_generator
from kgen.networks.vae import vae_decoder
from kgen.networks.vae import vae_encoder

__all__ = [
    "classifier_features",
    "dcgan_discriminator",
    "dcgan_generator",
    "image_classifier",
    "vae_decoder",
    "vae_encoder",
]
