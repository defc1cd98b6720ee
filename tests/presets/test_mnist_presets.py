"""The MNIST and Fashion-MNIST presets re-measure their headline metrics.

Each test loads a shipped preset, measures its headline metric on a fixed
subset with the card's own settings and seeds, and finds the card's value
within a stated tolerance: exactly reproducible on the backend that wrote
the card, and within the estimator's noise on the others (their random
streams differ). The RBM's AIS estimate is checked on JAX only: on this
model its seed moves log Z by tens of nats (see the model card), far more
than its reported standard error, so another backend's random stream gives
another value.

The cards measured by sampling are `release` tests, run before a release
and not in CI, whose time they would outgrow: CI holds each preset's
samples to its stored reference (tests/presets/test_presets.py), and each
metric to its oracle (tests/metrics). The exact likelihoods stay `large`.
"""

import functools

import keras
import numpy as np
import pytest
from keras import ops

import kgen

# Each test runs on whichever backend it is given (and skips where its card
# was drawn from another backend's random stream), not only under the
# TensorFlow leg of tests/conftest.py's backend matrix.
pytestmark = pytest.mark.all_backends

# Over 100 images the IWAE bound with K = 5000 moved by ~0.1 nats between
# random streams; AIS with the card's seed on the card's backend (JAX)
# reproduces its value to float error.
VAE_TOLERANCE_NATS = 0.5
RBM_TOLERANCE_NATS = 0.5
# FID of the same samples on the same backend: the Inception features are
# deterministic, so only float error remains.
FID_TOLERANCE = 0.05


# The FID tests run on one xdist worker, which computes each dataset's
# statistics once: under a lock shared between workers, the other worker
# sat idle while the first ran Inception (vqvae_mask_git_mnist's test
# took 143 s in the large run, about 15 s of it sampling and scoring).
FID_GROUP = pytest.mark.xdist_group("fid_inception")


@functools.cache
def real_statistics(dataset):
    """`(mean, covariance, count)` of the FID-Inception features of the
    first 1,000 test images of `dataset`, which every FID card scores
    against, computed once a run (a minute of Inception on one core).

    One set serves every value range: Inception reads the pixels as
    0..255 whatever range they are given in. Computed from [0, 1] and
    from [-1, 1], the two sets differ by at most 1.2e-7 and move
    dcgan_mnist's FID by 3e-7 (43.2784933 against 43.2784930).
    """
    _, (x_test, _) = kgen.datasets.load(dataset)
    metric = kgen.metrics.FrechetInceptionDistance(value_range=(0, 1))
    metric.set_reference(x_test[:1000])
    return metric.reference_statistics()


def on_the_cards_backend(name):
    """Skips unless this is the backend whose random stream drew the
    card's samples (the others draw other samples from the same seed)."""
    backend = kgen.presets.preset_metadata(name)["training"]["backend"]
    if keras.backend.backend() != backend:
        pytest.skip(f"{name}'s card was measured on {backend}")


@pytest.mark.release
@pytest.mark.parametrize("name", ["vae_mnist", "hierarchical_vae_mnist"])
def test_vae_preset_reaches_its_iwae_nll(name):
    card = kgen.presets.preset_metadata(name)
    metric = card["metrics"]["test_nll_iwae_nats"]
    model = kgen.presets.load_preset(name)
    _, (x_test, _) = kgen.datasets.load("mnist")
    # The card's `subset`: its first test images, binarised as the card's
    # 500 are, drawn as one batch seeded 0 (10 images take a quarter of
    # the 50 the card also records).
    subset = metric["subset"]
    log_likelihood = kgen.metrics.iwae_log_likelihood(
        model,
        kgen.datasets.binarize(x_test, seed=123)[: subset["num_examples"]],
        5000,
        batch_size=subset["batch_size"],
    )
    nll = float(-log_likelihood.mean())
    assert abs(nll - subset["value"]) <= VAE_TOLERANCE_NATS, (nll, subset)


@pytest.mark.large
def test_pixel_cnn_preset_reaches_its_exact_nll():
    # Exact likelihood, no sampling: every backend computes the same value.
    metric = kgen.presets.preset_metadata("pixel_cnn_mnist")["metrics"][
        "test_nll_nats"
    ]
    model = kgen.presets.load_preset("pixel_cnn_mnist")
    _, (x_test, _) = kgen.datasets.load("mnist")
    test = kgen.datasets.binarize(x_test[..., 0], seed=123)[:100]
    test = test.astype("int32")
    nll = kgen.metrics.negative_log_likelihood(model, test)
    assert abs(float(nll.mean()) - metric["first_100"]) <= 1e-3, (
        float(nll.mean()),
        metric,
    )


@pytest.mark.release
@pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="the card's AIS estimate was drawn from JAX's random stream",
)
def test_rbm_preset_reaches_its_ais_log_likelihood():
    card = kgen.presets.preset_metadata("rbm_mnist")
    metric = card["metrics"]["test_log_likelihood_nats"]
    model = kgen.presets.load_preset("rbm_mnist")
    (x_train, _), (x_test, _) = kgen.datasets.load("mnist")
    prepare = kgen.presets.prepare_data
    x_train = prepare("rbm_mnist_untrained", x_train)
    x_test = prepare("rbm_mnist_untrained", x_test)
    log_z, _ = model.log_partition_ais(
        num_chains=300, num_betas=14500, data=x_train, seed=0
    )
    log_p = ops.convert_to_numpy(model.log_prob(x_test, log_partition=log_z))
    assert abs(float(np.mean(log_p)) - metric["value"]) <= (
        RBM_TOLERANCE_NATS
    ), (float(np.mean(log_p)), metric)


@pytest.mark.release
@FID_GROUP
@pytest.mark.parametrize("name", ["dcgan_mnist", "wgan_gp_mnist"])
def test_gan_preset_reaches_its_fid_and_covers_every_class(name):
    on_the_cards_backend(name)
    metrics = kgen.presets.preset_metadata(name)["metrics"]
    model = kgen.presets.load_preset(name)
    samples = model.sample(1000, seed=1)
    # The FID of the first 200 of the card's 1,000 samples, which its
    # `subset` records: Inception on a fifth of the images.
    subset = metrics["fid_inception"]["subset"]
    fid = kgen.metrics.fid_of_images(
        samples[: subset["num_samples"]],
        real_statistics("mnist"),
        value_range=(-1, 1),
    )
    assert abs(fid - subset["value"]) <= FID_TOLERANCE
    classifier = kgen.presets.load_preset("mnist_classifier")
    labels = kgen.metrics.predicted_labels(samples, classifier, (-1, 1))
    fractions = np.bincount(labels, minlength=10)
    fractions = fractions / 1000
    np.testing.assert_allclose(
        fractions, metrics["max_class_fraction"]["class_fractions"]
    )
    # The bar: all 10 classes present, none above 20%.
    assert fractions.min() > 0 and fractions.max() <= 0.2, fractions


@pytest.mark.release
@FID_GROUP
@pytest.mark.parametrize(
    "name, fid_key, accuracy_key",
    [
        ("ddpm_mnist", "fid_inception_ddim50", "label_accuracy_ddim50"),
        ("flow_matching_mnist", "fid_inception", "label_accuracy"),
        ("consistency_mnist", "fid_inception", "label_accuracy"),
        ("mean_flow_mnist", "fid_inception", "label_accuracy"),
        ("vqvae_mask_git_mnist", "fid_inception", "label_accuracy"),
        ("vqvae_pixel_cnn_mnist", "fid_inception", "label_accuracy"),
        ("flow_matching_fashion_mnist", "fid_inception", "label_accuracy"),
    ],
)
def test_class_conditional_preset_reaches_its_fid_and_label_accuracy(
    name, fid_key, accuracy_key
):
    on_the_cards_backend(name)
    card = kgen.presets.preset_metadata(name)
    fid_metric = card["metrics"][fid_key]
    accuracy_metric = card["metrics"][accuracy_key]
    model = kgen.presets.load_preset(name)
    value_range = tuple(card["data"]["value_range"])
    dataset = card["data"]["dataset"]  # mnist or fashion_mnist
    n = fid_metric["subset"]["num_samples"]
    fid, accuracy = kgen.metrics.fid_and_label_accuracy(
        model,
        n,
        real_statistics(dataset),
        kgen.presets.load_preset(f"{dataset}_classifier"),
        seed=1,
        sample_arguments=card["sample_arguments"],
        value_range=value_range,
    )
    assert abs(fid - fid_metric["subset"]["value"]) <= FID_TOLERANCE
    assert abs(accuracy - accuracy_metric["subset"]["value"]) <= 1 / n


@pytest.mark.large
@pytest.mark.parametrize("name", ["glow_mnist"])
def test_flow_preset_reaches_its_bits_per_dim(name):
    on_the_cards_backend(name)  # the dequantisation noise is drawn
    metric = kgen.presets.preset_metadata(name)["metrics"]["test_bits_per_dim"]
    model = kgen.presets.load_preset(name)
    _, (x_test, _) = kgen.datasets.load("mnist")
    bits = ops.convert_to_numpy(model.bits_per_dim(x_test[:1000], seed=1))
    assert abs(float(np.mean(bits)) - metric["value"]) <= 1e-4
