"""VAE: trains by `compute_loss` alone on TensorFlow, JAX and torch."""

import os

import keras
import numpy as np
import pytest
from keras import ops

import kgen
from tests.conftest import BACKEND
from tests.conftest import iterations
from tests.conftest import to_numpy
from tests.distributions.tfp_reference import tfp_distributions

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

IMAGE_SHAPE = (8, 8, 1)
LATENT_DIM = 4


def small_vae(**kwargs):
    model = kgen.models.VAE(
        encoder=kgen.networks.vae_encoder(
            IMAGE_SHAPE, LATENT_DIM, filters=8, hidden_dim=32
        ),
        decoder=kgen.networks.vae_decoder(
            IMAGE_SHAPE, LATENT_DIM, filters=8, hidden_dim=32
        ),
        latent_dim=LATENT_DIM,
        seed=5,
        **kwargs,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


@pytest.mark.all_backends
def test_fit_reports_the_three_losses(digits):
    model = small_vae()
    history = model.fit(digits[0], batch_size=64, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "reconstruction_loss", "kl_loss"}
    logs = {k: v[-1] for k, v in history.history.items()}
    assert all(np.isfinite(v) for v in logs.values())
    # loss = reconstruction + beta * KL with beta = 1 (epoch means).
    np.testing.assert_allclose(
        logs["loss"], logs["reconstruction_loss"] + logs["kl_loss"], rtol=1e-4
    )
    assert iterations(model.optimizer) == 4
    assert history.history["loss"][-1] < history.history["loss"][0]
    if BACKEND == "jax":
        assert model.jit_compile is True


@pytest.mark.tensorflow_only  # TFP as the reference
def test_loss_terms_equal_tfp(digits):
    tfd = tfp_distributions()
    model = small_vae()
    x = digits[0][:16]
    outputs = model(x)
    reconstruction_loss, kl_loss = model.loss_terms(x, outputs)
    likelihood = tfd.Independent(
        tfd.Bernoulli(logits=outputs["decoder_output"], dtype="float32"), 3
    )
    posterior = tfd.Independent(
        tfd.Normal(outputs["posterior_mean"], outputs["posterior_scale"]), 1
    )
    prior = tfd.Independent(tfd.Normal(np.zeros(LATENT_DIM, "float32"), 1.0), 1)
    np.testing.assert_allclose(
        to_numpy(reconstruction_loss),
        -likelihood.log_prob(x).numpy(),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        to_numpy(kl_loss),
        tfd.kl_divergence(posterior, prior).numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.tensorflow_only  # TFP as the reference
def test_tfp_prior_trains():
    tfd = tfp_distributions()
    (x, _), _ = kgen.datasets.load("digits")
    model = small_vae(prior=tfd.Normal(0.0, 1.0))
    history = model.fit(x[:256], batch_size=64, epochs=3, verbose=0)
    assert np.isfinite(history.history["kl_loss"][-1])
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert to_numpy(model.sample(3, seed=0)).shape == (3,) + IMAGE_SHAPE


def test_beta_zero_is_an_autoencoder_loss(digits):
    model = small_vae(beta=0.0)
    x = digits[0][:32]
    outputs = model(x)
    reconstruction_loss, _ = model.loss_terms(x, outputs)
    loss = model.compute_loss(x=x, y_pred=outputs)
    np.testing.assert_allclose(
        to_numpy(loss), to_numpy(ops.mean(reconstruction_loss)), rtol=1e-6
    )


def test_gaussian_likelihood_learns_its_scale(digits):
    model = small_vae(likelihood="gaussian")
    model.fit(digits[0], batch_size=32, epochs=2, verbose=0)
    # The pixel noise of digits is far below the initial scale of 1.
    assert float(to_numpy(model.log_scale)) < 0.0


def test_encode_decode_sample_shapes(digits):
    model = small_vae()
    posterior = model.encode(digits[0][:3])
    assert tuple(ops.shape(posterior.mean())) == (3, LATENT_DIM)
    images = to_numpy(model.decode(posterior.mean()))
    assert images.shape == (3,) + IMAGE_SHAPE
    assert images.min() >= 0.0 and images.max() <= 1.0
    samples = to_numpy(model.sample(7, seed=1))
    assert samples.shape == (7,) + IMAGE_SHAPE
    np.testing.assert_array_equal(samples, to_numpy(model.sample(7, seed=1)))
    assert to_numpy(model.elbo(digits[0][:3], seed=0)).shape == (3,)


def test_evaluate_and_keras_round_trip(digits, tmp_path):
    model = small_vae(likelihood="gaussian", beta=0.5)
    model.fit(digits[0], batch_size=64, epochs=1, verbose=0)
    logs = model.evaluate(digits[0], batch_size=64, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "reconstruction_loss", "kl_loss"}
    path = os.path.join(tmp_path, "vae.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is kgen.models.VAE
    assert restored.beta == 0.5 and restored.likelihood == "gaussian"
    np.testing.assert_array_equal(
        to_numpy(model.sample(4, seed=9)), to_numpy(restored.sample(4, seed=9))
    )
    restored.fit(digits[0], batch_size=64, epochs=1, verbose=0)
    assert iterations(restored.optimizer) == 4


def test_kgen_prior_round_trips(tmp_path):
    prior = kgen.distributions.Independent(
        kgen.distributions.Normal(
            np.zeros(LATENT_DIM, "float32"), np.full(LATENT_DIM, 2.0, "float32")
        ),
        1,
    )
    model = small_vae(prior=prior)
    path = os.path.join(tmp_path, "vae.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_array_equal(
        to_numpy(restored.prior.distribution.scale), np.full(LATENT_DIM, 2.0)
    )


@pytest.mark.parametrize(
    "data, message",
    [
        (np.zeros((16, 64), "float32"), "rank 4"),
        (np.zeros((16, 28, 28, 1), "float32"), r"shape \(8, 8, 1\)"),
        (np.full((16, 8, 8, 1), np.inf, "float32"), "non-finite"),
        (np.full((16, 8, 8, 1), None), "real numbers"),
        (np.full((16, 8, 8, 1), 3.0, "float32"), r"\[0.0, 1.0\]"),
    ],
)
def test_bad_data_raises_before_any_step(data, message):
    model = small_vae()
    with pytest.raises(ValueError, match=message):
        model.fit(data, batch_size=8, epochs=1, verbose=0)
    assert not model.optimizer.built or iterations(model.optimizer) == 0


@pytest.mark.parametrize(
    "argument, value",
    [("latent_dim", -1), ("likelihood", "poisson"), ("beta", -0.1)],
)
def test_bad_hyper_parameters(argument, value):
    arguments = dict(
        encoder=kgen.networks.vae_encoder(IMAGE_SHAPE, 4),
        decoder=kgen.networks.vae_decoder(IMAGE_SHAPE, 4),
        latent_dim=4,
    )
    arguments[argument] = value
    with pytest.raises(ValueError, match=argument):
        kgen.models.VAE(**arguments)


@pytest.mark.tensorflow_only  # a TFP prior
def test_saving_with_a_foreign_prior_explains_why_not(tmp_path):
    tfd = tfp_distributions()
    model = small_vae(prior=tfd.Normal(0.0, 1.0))
    with pytest.raises(ValueError, match="`prior` .* cannot be saved"):
        model.save(os.path.join(tmp_path, "vae.keras"))


@pytest.fixture(scope="module")
def trained_vae():
    (x_train, _), (x_test, _) = kgen.datasets.load("digits")
    keras.utils.set_random_seed(0)
    model = small_vae()
    model.fit(x_train, batch_size=64, epochs=15, verbose=0)
    return model, x_test


def test_iwae_bound_is_above_the_elbo_and_rises_with_k(trained_vae):
    model, x_test = trained_vae
    elbo = np.mean(
        [to_numpy(model.elbo(x_test, seed=s)).mean() for s in range(5)]
    )
    bounds = [
        to_numpy(model.log_likelihood(x_test, k, seed=1, chunk_size=16)).mean()
        for k in (1, 10, 100)
    ]
    # K = 1 is an ELBO estimate; more samples tighten the bound.
    assert bounds[0] == pytest.approx(elbo, abs=0.3)
    assert elbo < bounds[1] < bounds[2]


def test_the_iwae_bound_keeps_no_autograd_graph_across_its_chunks():
    # An autograd graph kept per chunk on torch grew to 24 GB at K = 5,000
    # (the vae_mnist card's re-measurement).
    model = small_vae()
    x = np.zeros((2,) + model.data_shape, "float32")
    bound = model.log_likelihood(x, 4, seed=0, chunk_size=2)
    assert not getattr(bound, "requires_grad", False)


def test_anomaly_interpolation_and_traversal(trained_vae):
    model, x_test = trained_vae
    scores = to_numpy(model.anomaly_score(x_test[:8], seed=0))
    noise = np.random.default_rng(0).uniform(size=(8, 8, 8, 1))
    noise_scores = to_numpy(
        model.anomaly_score(noise.astype("float32"), seed=0)
    )
    assert scores.shape == (8,) and noise_scores.mean() > scores.mean()
    path = to_numpy(model.interpolate(x_test[:2], x_test[2:4], num_points=5))
    assert path.shape == (2, 5, 8, 8, 1)
    np.testing.assert_allclose(
        path[:, 0],
        to_numpy(model.decode(model.encode(x_test[:2]).mean())),
        atol=1e-5,
    )
    traversal = to_numpy(
        model.latent_traversal(x_test[:3], dimension=1, values=[-2.0, 0, 2.0])
    )
    assert traversal.shape == (3, 3, 8, 8, 1)
    assert not np.allclose(traversal[:, 0], traversal[:, 2])
    with pytest.raises(ValueError, match="dimension"):
        model.latent_traversal(x_test[:1], dimension=LATENT_DIM, values=[0])


def test_discretized_logistic_likelihood_is_a_discrete_nll(digits):
    # Digits have 17 grey levels; scaled to [0, 1] they fall between 8-bit
    # bins, so snap them to the 256-level grid first.
    x = np.round(digits[0] * 255.0) / 255.0
    model = small_vae(likelihood="discretized_logistic")
    history = model.fit(x, batch_size=64, epochs=3, verbose=0)
    losses = history.history["reconstruction_loss"]
    assert losses[-1] < losses[0]
    assert min(losses) > 0.0  # -log of a probability mass
    bits = to_numpy(kgen.metrics.bits_per_dim(-model.elbo(x, seed=0), 64))
    assert np.all(bits > 0) and np.all(np.isfinite(bits))
