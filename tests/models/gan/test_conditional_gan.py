import keras
import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import to_numpy
from tests.models.gan import networks

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

NUM_CLASSES = 10


def conditional_gan(**kwargs):
    model = kgen.models.GAN(
        kgen.networks.conditional_dcgan_generator(
            networks.IMAGE_SHAPE, networks.LATENT_DIM, NUM_CLASSES, filters=8
        ),
        kgen.networks.conditional_dcgan_discriminator(
            networks.IMAGE_SHAPE, NUM_CLASSES, filters=8
        ),
        latent_dim=networks.LATENT_DIM,
        num_classes=NUM_CLASSES,
        seed=2,
        **kwargs,
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    return model


@pytest.fixture(scope="module")
def labelled_digits():
    (x, y), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    return x[:128], y[:128]


def test_fit_with_labels_and_sample_by_class(labelled_digits):
    x, y = labelled_digits
    model = conditional_gan()
    history = model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["g_loss"][-1])
    assert iterations(model.g_optimizer) == 2
    assert iterations(model.d_optimizer) == 2
    sevens = to_numpy(model.sample(5, labels=7, seed=0))
    assert sevens.shape == (5,) + networks.IMAGE_SHAPE
    mixed = to_numpy(model.sample(3, labels=[0, 1, 2], seed=0))
    # Same noise, different labels: different images.
    assert not np.allclose(mixed[0], mixed[1])
    logs = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
    assert np.isfinite(logs["d_loss"])


def test_wasserstein_gradient_penalty_with_labels(labelled_digits):
    x, y = labelled_digits
    model = conditional_gan(loss="wasserstein", r1_gamma=1.0, d_steps=2)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    assert iterations(model.d_optimizer) == 4


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.zeros(5, "int64"), "one class id per example"),
        (np.full(128, 10), r"\[0, 10\)"),
        (np.full(128, -1), r"\[0, 10\)"),
        (np.full(128, 0.5), "integer"),
    ],
)
def test_bad_labels(labelled_digits, labels, message):
    model = conditional_gan()
    with pytest.raises(ValueError, match=message):
        model.fit(labelled_digits[0], labels, epochs=1, verbose=0)
    assert iterations(model.d_optimizer) == 0


def test_sample_label_errors_and_missing_labels(labelled_digits):
    model = conditional_gan()
    with pytest.raises(ValueError, match="labels"):
        model.sample(3, labels=[1, 2])
    with pytest.raises(ValueError, match="class labels as `y`"):
        model.fit(labelled_digits[0], epochs=1, verbose=0)


def test_generator_ema_through_the_optimizer(digits_symmetric):
    model = kgen.models.GAN(
        networks.generator(), networks.critic(), networks.LATENT_DIM
    )
    model.compile(
        g_optimizer=keras.optimizers.Adam(1e-2, use_ema=True, ema_momentum=0.5),
        d_optimizer=networks.adam(),
    )
    before = [to_numpy(v) for v in model.generator.trainable_variables]
    model.fit(digits_symmetric, batch_size=64, epochs=1, verbose=0)
    averages = [
        to_numpy(v) for v in model.g_optimizer._model_variables_moving_average
    ]
    after = [to_numpy(v) for v in model.generator.trainable_variables]
    # fit() ends by writing the moving average into the generator.
    for average, weight, start in zip(averages, after, before):
        np.testing.assert_allclose(weight, average)
    assert any(not np.allclose(a, b) for a, b in zip(after, before))


def test_num_classes_flag_is_the_conditional_gan(labelled_digits):
    """`DCGAN(num_classes=...)` is a conditional GAN with built networks."""
    x, y = labelled_digits
    model = kgen.models.DCGAN(
        networks.IMAGE_SHAPE, latent_dim=8, filters=8, num_classes=10, seed=1
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    assert iterations(model.g_optimizer) == 2
    twos = to_numpy(model.sample(2, labels=2, seed=0))
    threes = to_numpy(model.sample(2, labels=3, seed=0))
    assert not np.allclose(twos, threes)
    assert model.get_config()["num_classes"] == 10


def test_networks_must_take_labels_when_conditional():
    with pytest.raises(ValueError, match="`generator` must take"):
        kgen.models.GAN(
            networks.generator(), networks.critic(), 8, num_classes=10
        )


def test_unconditional_gan_refuses_labels(labelled_digits):
    x, y = labelled_digits
    model = kgen.models.GAN(
        networks.generator(), networks.critic(), networks.LATENT_DIM
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    with pytest.raises(ValueError, match="unconditional"):
        model.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="unconditional"):
        model.sample(2, labels=1)
    assert iterations(model.d_optimizer) == 0
