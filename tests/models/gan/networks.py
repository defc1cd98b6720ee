"""Small networks and checks shared by the GAN tests."""

import keras

import kgen

IMAGE_SHAPE = (8, 8, 1)
LATENT_DIM = 8


def generator():
    return kgen.networks.dcgan_generator(IMAGE_SHAPE, LATENT_DIM, filters=8)


def critic(**kwargs):
    return kgen.networks.dcgan_discriminator(IMAGE_SHAPE, filters=8, **kwargs)


def adam():
    return keras.optimizers.Adam(1e-3, beta_1=0.5)
