from kgen.models.gan.dcgan import DCGAN
from kgen.models.gan.gan import GAN

__all__ = ["DCGAN", "GAN"]
