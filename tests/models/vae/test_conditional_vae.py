import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)


@pytest.fixture(scope="module")
def labelled_digits():
    (x, y), _ = kgen.datasets.load("digits")
    return x[:128], y[:128]


def conditional_vae():
    model = kgen.models.VAE(
        kgen.networks.vae_encoder(SHAPE, 4, 8, 32, num_classes=10),
        kgen.networks.vae_decoder(SHAPE, 4, 8, 32, num_classes=10),
        latent_dim=4,
        num_classes=10,
        seed=0,
    )
    model.compile(optimizer="adam")
    return model


def test_fit_and_sample_by_class(labelled_digits):
    x, y = labelled_digits
    model = conditional_vae()
    history = model.fit(x, y, batch_size=64, epochs=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert iterations(model.optimizer) == 4
    logs = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
    assert np.isfinite(logs["kl_loss"])
    sevens = to_numpy(model.sample(3, labels=7, seed=1))
    ones = to_numpy(model.sample(3, labels=1, seed=1))
    assert sevens.shape == (3,) + SHAPE and not np.allclose(sevens, ones)
    elbo = to_numpy(model.elbo(x[:5], seed=0, labels=y[:5]))
    iwae = to_numpy(model.log_likelihood(x[:5], 20, seed=0, labels=y[:5]))
    assert elbo.shape == iwae.shape == (5,)


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.zeros(7, "int64"), "one class id per example"),
        (np.full(128, 10), r"\[0, 10\)"),
        (np.full(128, 1.5), "integer"),
    ],
)
def test_bad_labels(labelled_digits, labels, message):
    model = conditional_vae()
    with pytest.raises(ValueError, match=message):
        model.fit(labelled_digits[0], labels, verbose=0)


def test_missing_labels_and_range(labelled_digits):
    model = conditional_vae()
    with pytest.raises(ValueError, match="class labels as `y`"):
        model.fit(labelled_digits[0], verbose=0)
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\]"):
        model.fit(labelled_digits[0] * 4, labelled_digits[1], verbose=0)
    with pytest.raises(ValueError, match="labels"):
        model.sample(2, labels=[1, 2, 3])


@pytest.mark.tensorflow_only
def test_export_takes_labels(labelled_digits, tmp_path):
    import tensorflow as tf

    model = conditional_vae()
    path = kgen.export.export_saved_model(model, str(tmp_path / "cvae"))
    loaded = tf.saved_model.load(path)
    noise = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    labels = np.array([3, 1, 4], "int32")
    (served,) = loaded.signatures["sample"](
        noise=tf.constant(noise), labels=tf.constant(labels)
    ).values()
    np.testing.assert_allclose(
        served.numpy(), to_numpy(model.decode(noise, labels=labels)), atol=1e-5
    )
    encoded = loaded.signatures["encode"](
        images=tf.constant(labelled_digits[0][:3]), labels=tf.constant(labels)
    )
    assert encoded["mean"].shape == (3, 4)


def test_num_classes_flag_is_the_conditional_vae(labelled_digits):
    x, y = labelled_digits
    model = kgen.models.BetaVAE(
        kgen.networks.vae_encoder(SHAPE, 4, 8, 32, num_classes=10),
        kgen.networks.vae_decoder(SHAPE, 4, 8, 32, num_classes=10),
        latent_dim=4,
        num_classes=10,
        beta=2.0,
        seed=0,
    )
    model.compile(optimizer="adam")
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    assert iterations(model.optimizer) == 2
    twos = to_numpy(model.sample(2, labels=2, seed=0))
    threes = to_numpy(model.sample(2, labels=3, seed=0))
    assert not np.allclose(twos, threes)
    with pytest.raises(ValueError, match="pass `labels`"):
        model.encode(x[:2])


def test_unconditional_vae_refuses_labels(labelled_digits):
    x, y = labelled_digits
    model = kgen.models.VAE(
        kgen.networks.vae_encoder(SHAPE, 4, 8, 32),
        kgen.networks.vae_decoder(SHAPE, 4, 8, 32),
        latent_dim=4,
    )
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="unconditional"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="unconditional"):
        model.sample(2, labels=1)
    with pytest.raises(ValueError, match="unconditional"):
        model.elbo(x[:2], labels=y[:2])
