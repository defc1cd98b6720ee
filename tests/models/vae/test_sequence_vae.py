import os

import keras
import numpy as np
import pytest

import kgen
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run tiny models
# cheapest; the contract harness runs the class on all three, and what
# exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

START = 1
LENGTH = 6


def sequence_vae(**kwargs):
    arguments = dict(
        latent_dim=4,
        num_layers=1,
        num_heads=2,
        hidden_dim=16,
        encoder_layers=1,
        seed=0,
    )
    arguments.update(kwargs)
    model = kgen.models.SequenceVAE(8, LENGTH, START, **arguments)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


def four_sequences(copies=16):
    """Four sequences that share their start, so only the latent code
    tells the decoder which one to write."""
    rows = np.array(
        [
            [START, 2, 3, 4, 5, 6],
            [START, 7, 6, 5, 4, 3],
            [START, 2, 2, 7, 7, 0],
            [START, 5, 0, 5, 0, 5],
        ],
        "int32",
    )
    return np.tile(rows, (copies, 1)), rows


@pytest.fixture(scope="module")
def trained():
    """A model trained on the four sequences, predicting their second
    token (scaled to [0, 1]) as a property from the code."""
    keras.utils.set_random_seed(0)
    x, rows = four_sequences(copies=8)
    properties = x[:, 1:2].astype("float32") / 7.0
    model = sequence_vae(beta=0.1, beta_warmup_steps=10, num_properties=1)
    history = model.fit(x, properties, batch_size=16, epochs=50, verbose=0)
    assert history.history["property_loss"][-1] < 0.05
    return model, rows


def test_the_latent_code_carries_the_sequence(trained):
    model, rows = trained
    codes = model.encode(rows).mean()
    np.testing.assert_array_equal(to_numpy(model.decode(codes)), rows)
    # The ELBO of a training sequence is near its exact reconstruction
    # (4 equally likely sequences: log 4 nats of code).
    elbo = to_numpy(model.elbo(rows, seed=0))
    assert (elbo < 0).all() and (elbo > -6.0).all()


def test_the_reconstruction_term_is_the_decoders_log_likelihood(trained):
    model, rows = trained
    posterior = model.encode(rows)
    latent = posterior.sample(seed=keras.random.SeedGenerator(0))
    outputs = {
        "logits": model.decoder({"tokens": rows, "condition": latent}),
        "posterior_mean": posterior.distribution.loc,
        "posterior_scale": posterior.distribution.scale,
    }
    reconstruction, _ = model.loss_terms(
        keras.ops.convert_to_tensor(rows), outputs
    )
    exact = model.decoder.log_prob(rows, condition=latent)
    np.testing.assert_allclose(
        to_numpy(reconstruction), -to_numpy(exact), rtol=1e-5
    )


def test_samples_start_at_start_id_and_follow_the_seed(trained):
    model, _ = trained
    first = to_numpy(model.sample(8, seed=3))
    assert first.shape == (8, LENGTH) and (first[:, 0] == START).all()
    np.testing.assert_array_equal(first, to_numpy(model.sample(8, seed=3)))
    assert not np.array_equal(first, to_numpy(model.sample(8, seed=4)))


def test_the_kl_weight_grows_over_its_warmup():
    x, _ = four_sequences(copies=2)
    model = sequence_vae(beta=0.5, beta_warmup_steps=4)
    history = model.fit(x, batch_size=2, epochs=1, verbose=0)
    # Four steps: weights 0, 1/8, 2/8, 3/8 (read before each step), then
    # the full beta.
    np.testing.assert_allclose(history.history["kl_weight"], [0.1875])
    np.testing.assert_allclose(to_numpy(model.kl_weight()), 0.5)


def test_latent_optimisation_climbs_the_property_it_was_trained_on(trained):
    model, rows = trained
    start = model.encode(rows).mean()
    climbed = model.optimize_latents(start, num_steps=20, prior_weight=0.0)
    before = to_numpy(model.predict_properties(start))[:, 0]
    after = to_numpy(model.predict_properties(climbed))[:, 0]
    assert (after > before).all()
    lowered = model.optimize_latents(
        start, num_steps=20, prior_weight=0.0, maximize=False
    )
    assert (to_numpy(model.predict_properties(lowered))[:, 0] < before).all()


def test_bad_input_gets_clear_errors():
    model = sequence_vae()
    x, _ = four_sequences(copies=1)
    with pytest.raises(ValueError, match="exactly 6 tokens"):
        model.fit(x[:, :5], batch_size=4, verbose=0)
    shifted = x.copy()
    shifted[2, 0] = 3
    with pytest.raises(ValueError, match="row 2 starts at 3"):
        model.fit(shifted, batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="num_properties=None"):
        model.fit(x, np.zeros((4, 1), "float32"), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="num_properties"):
        model.optimize_latents(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="`z`"):
        model.decode(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="start_id"):
        kgen.models.SequenceVAE(8, LENGTH, 8)
    with_properties = sequence_vae(num_properties=2)
    with pytest.raises(ValueError, match="y"):
        with_properties.fit(
            x, np.zeros((4, 3), "float32"), batch_size=4, verbose=0
        )


@pytest.mark.tensorflow_only
def test_decode_and_encode_export(tmp_path):
    from tests.export.test_saved_model import serve

    model = sequence_vae()
    version_path = kgen.export.export_saved_model(
        model, os.path.join(tmp_path, "sequence_vae")
    )
    latent = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    inputs = {"latent": latent, "seed": np.array([4, 2], "int32")}
    served = serve(version_path, "decode", inputs)
    np.testing.assert_array_equal(
        next(iter(served.values())), to_numpy(model.decode(latent))
    )
    rows = four_sequences(copies=1)[1]
    served = serve(version_path, "encode", {"tokens": rows})
    np.testing.assert_allclose(
        served["mean"], to_numpy(model.encode(rows).mean()), atol=1e-5
    )
