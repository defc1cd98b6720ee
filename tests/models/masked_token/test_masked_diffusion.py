import keras
import numpy as np
import pytest
from keras import ops

import kgen
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

LENGTH = 8
PROBABILITIES = np.array([0.5, 0.3, 0.15, 0.05], "float32")


@keras.saving.register_keras_serializable(package="kgen_tests")
class FixedLogits(keras.layers.Layer):
    """Every position's logits are `log p`: the exact model of tokens drawn
    independently from `p`, whatever is revealed."""

    def __init__(self, probabilities, **kwargs):
        super().__init__(**kwargs)
        self.probabilities = list(probabilities)

    def call(self, tokens):
        log_p = ops.log(ops.convert_to_tensor(self.probabilities))
        return ops.zeros(ops.shape(tokens) + (1,)) + log_p

    def get_config(self):
        return dict(super().get_config(), probabilities=self.probabilities)


def independent_model():
    tokens = keras.Input((LENGTH,), dtype="int32")
    logits = FixedLogits(PROBABILITIES)(tokens)
    return kgen.models.MaskedDiffusion(keras.Model(tokens, logits), seed=0)


def independent_tokens(count, seed=0):
    rng = np.random.default_rng(seed)
    return rng.choice(4, size=(count, LENGTH), p=PROBABILITIES).astype("int32")


def test_the_bound_of_the_exact_model_is_the_cross_entropy():
    """Tokens independent of each other: each hidden one costs -log p(x_i)
    and is hidden w.p. t, so the 1/t-weighted bound is the data's
    cross-entropy under p, the exact likelihood per token."""
    model = independent_model()
    tokens = independent_tokens(512)
    exact = -np.log(PROBABILITIES[tokens]).mean(axis=1)
    bound = -to_numpy(model.elbo(tokens, num_draws=64, seed=1)) / LENGTH
    assert bound.shape == (512,)
    np.testing.assert_allclose(bound.mean(), exact.mean(), rtol=0.02)
    # The training loss is the same bound, with stratified times.
    losses = [
        float(model.compute_loss(tokens, y_pred=model(tokens, training=True)))
        for _ in range(16)
    ]
    np.testing.assert_allclose(np.mean(losses), exact.mean(), rtol=0.03)


def test_the_reverse_process_draws_from_the_model():
    model = independent_model()
    for num_steps in (1, 5):
        samples = to_numpy(model.sample(2000, num_steps=num_steps, seed=2))
        assert samples.shape == (2000, LENGTH) and samples.dtype == np.int32
        frequencies = np.bincount(samples.ravel(), minlength=5) / samples.size
        # Every token revealed (no [MASK] left), each from p.
        np.testing.assert_allclose(frequencies[:4], PROBABILITIES, atol=0.01)
        assert frequencies[4] == 0


def small_model(num_classes=None):
    network = kgen.networks.masked_token_transformer(
        (LENGTH,),
        4,
        width=16,
        num_layers=1,
        num_heads=2,
        num_classes=num_classes,
    )
    model = kgen.models.MaskedDiffusion(
        network, num_classes=num_classes, seed=0
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    return model


def constant_sequences(count=1024, seed=0):
    """Sequences of one repeated token: each token is known from any
    other, so a fitted model's bound falls far below log 4."""
    rng = np.random.default_rng(seed)
    return np.repeat(rng.integers(0, 4, (count, 1)), LENGTH, 1).astype("int32")


def test_fit_lowers_the_bound_and_samples_follow_the_data():
    tokens = constant_sequences()
    model = small_model()
    before = -float(to_numpy(model.elbo(tokens[:256], seed=0)).mean()) / LENGTH
    model.fit(tokens, epochs=6, batch_size=64, verbose=0)
    after = -float(to_numpy(model.elbo(tokens[:256], seed=0)).mean()) / LENGTH
    assert before > 1.0 and after < 0.6 * before
    samples = to_numpy(model.sample(64, num_steps=LENGTH, seed=1))
    constant = (samples == samples[:, :1]).all(axis=1).mean()
    assert constant > 0.5
    # Infilling keeps the known tokens and follows them.
    mask = np.zeros(LENGTH, "int32")
    mask[0] = 1
    filled = to_numpy(model.inpaint(tokens[:64], mask, num_steps=4, seed=3))
    np.testing.assert_array_equal(filled[:, 0], tokens[:64, 0])
    assert (filled == tokens[:64, :1]).mean() > 0.6


def test_guidance_draws_the_requested_class():
    labels = np.arange(512) % 4
    tokens = np.repeat(labels[:, None], LENGTH, 1).astype("int32")
    model = small_model(num_classes=4)
    model.fit(tokens, labels, epochs=4, batch_size=64, verbose=0)
    wanted = np.arange(32) % 4
    for scale in (0.0, 2.0):
        samples = to_numpy(
            model.sample(
                32, labels=wanted, num_steps=4, guidance_scale=scale, seed=0
            )
        )
        assert (samples == wanted[:, None]).mean() > 0.7


def test_bad_arguments_are_named():
    model = independent_model()
    with pytest.raises(ValueError, match="num_steps"):
        model.sample(2, num_steps=0)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(2, temperature=0.0)
    with pytest.raises(ValueError, match="num_draws"):
        model.elbo(independent_tokens(2), num_draws=0)
    with pytest.raises(ValueError, match="tokens"):
        model.elbo(np.full((2, LENGTH), 7))
    with pytest.raises(ValueError, match="mask"):
        model.inpaint(independent_tokens(2), np.zeros(3))
