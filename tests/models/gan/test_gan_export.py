"""Every GAN family model exports an XLA `sample` endpoint (TF and JAX)."""

import inspect
import os

import numpy as np
import pytest

import kgen
from tests.conftest import BACKEND
from tests.conftest import to_numpy
from tests.models.gan import networks

pytestmark = pytest.mark.skipif(
    BACKEND == "torch", reason="export needs the TensorFlow or JAX backend"
)
SHAPE = networks.IMAGE_SHAPE


def conditional():
    return kgen.models.GAN(
        kgen.networks.conditional_dcgan_generator(SHAPE, 4, 10, filters=4),
        kgen.networks.conditional_dcgan_discriminator(SHAPE, 10, filters=4),
        latent_dim=4,
        num_classes=10,
    )


def unet():
    return kgen.networks.unet_generator(SHAPE, filters=4)


MODELS = {
    "wgan": lambda: kgen.models.WGAN(
        networks.generator(), networks.critic(), networks.LATENT_DIM
    ),
    "wgan_gp": lambda: kgen.models.WGANGP(
        networks.generator(), networks.critic(), networks.LATENT_DIM
    ),
    "conditional": conditional,
    "pix2pix": lambda: kgen.models.Pix2Pix(
        unet(), kgen.networks.patchgan_discriminator(SHAPE, SHAPE, filters=4)
    ),
    "cycle_gan": lambda: kgen.models.CycleGAN(
        unet(),
        unet(),
        kgen.networks.patchgan_discriminator(SHAPE, filters=4),
        kgen.networks.patchgan_discriminator(SHAPE, filters=4),
    ),
    "srgan": lambda: kgen.models.SRGAN(
        kgen.networks.srgan_generator((4, 4, 1), 2, 4, 1),
        networks.critic(),
    ),
    "style_gan": lambda: kgen.models.StyleGAN(
        kgen.networks.stylegan_mapping(4, num_layers=1),
        kgen.networks.stylegan_synthesis(SHAPE, 4, filters=4),
        networks.critic(),
        latent_dim=4,
    ),
    "progressive_gan": lambda: kgen.models.ProgressiveGAN(
        SHAPE, latent_dim=4, filters=4
    ),
}


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("name", sorted(MODELS))
def test_sample_endpoint_matches_the_model(name, tmp_path):
    import tensorflow as tf

    model = MODELS[name]()
    path = kgen.export.export_saved_model(model, os.path.join(tmp_path, name))
    endpoint = tf.saved_model.load(path).signatures["sample"]
    rng = np.random.default_rng(0)
    inputs = {}
    for spec in endpoint.structured_input_signature[1].values():
        shape = (3,) + tuple(spec.shape[1:])
        if spec.dtype == tf.int32:
            inputs[spec.name] = rng.integers(0, 10, shape).astype("int32")
        else:
            inputs[spec.name] = rng.normal(size=shape).astype("float32")
    (served,) = endpoint(**inputs).values()
    fn, _ = model.serving_endpoints()["sample"]
    arguments = inspect.signature(fn).parameters
    expected = to_numpy(fn(*[inputs[name] for name in arguments]))
    np.testing.assert_allclose(served.numpy(), expected, atol=1e-5)
