from kgen.models.gan.cycle_gan import CycleGAN
from kgen.models.gan.dcgan import DCGAN
from kgen.models.gan.gan import GAN
from kgen.models.gan.pix2pix import Pix2Pix
from kgen.models.gan.progressive_gan import ProgressiveGAN
from kgen.models.gan.srgan import SRGAN
from kgen.models.gan.style_gan import StyleGAN
from kgen.models.gan.wave_gan import WaveGAN
from kgen.models.gan.wgan import WGAN
from kgen.models.gan.wgan_gp import WGANGP

__all__ = [
    "CycleGAN",
    "DCGAN",
    "GAN",
    "Pix2Pix",
    "ProgressiveGAN",
    "SRGAN",
    "StyleGAN",
    "WaveGAN",
    "WGAN",
    "WGANGP",
]
