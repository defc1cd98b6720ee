import keras
import numpy as np
import pytest
import scipy.stats

import kgen
from kgen.watermarks import BitWatermark
from kgen.watermarks import StableSignature
from kgen.watermarks import bit_match_scores
from kgen.watermarks import key_bits
from tests.conftest import reloaded
from tests.conftest import to_numpy
from tests.conftest import weights_of

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)
# The bit watermark's training step (every attack of the suite inside the
# compiled step) runs on all three backends; StableSignature reuses the
# same step and the binomial test is NumPy, so one backend proves them.
NUM_BITS = 8


def bit_watermark(**kwargs):
    return BitWatermark(
        kgen.networks.watermark_encoder(SHAPE, NUM_BITS, filters=8),
        kgen.networks.watermark_extractor(SHAPE, NUM_BITS, filters=8),
        seed=0,
        **kwargs,
    )


def test_p_value_is_the_binomial_tail_and_the_key_a_fixed_draw():
    bits = key_bits(5, 10)
    np.testing.assert_array_equal(bits, key_bits(5, 10))
    assert set(np.unique(bits)) <= {0.0, 1.0}
    assert not np.array_equal(bits, key_bits(6, 10))
    logits = np.where(np.arange(10)[None] < np.arange(11)[:, None], 1, -1)
    logits = logits * np.where(bits > 0.5, 1, -1)  # row k: k bits right
    scores = bit_match_scores(logits, bits)
    np.testing.assert_array_equal(scores["num_matching"], np.arange(11))
    np.testing.assert_allclose(
        scores["p_value"], scipy.stats.binom.sf(np.arange(11) - 1, 10, 0.5)
    )
    for bad in (bits[:1], bits[:9], np.ones((2, 2, 10))):
        with pytest.raises(ValueError, match=r"`bits` must have shape \(10,\)"):
            bit_match_scores(logits, bad)


@pytest.mark.all_backends
def test_bit_watermark_fits_embeds_reads_and_round_trips(digits, tmp_path):
    images = digits[0][:32]
    model = bit_watermark(attack_training=True)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    before = weights_of(model)
    history = model.fit(images, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert {"bit_accuracy", "image_loss"} <= set(history.history)
    assert all(
        not np.array_equal(a, b) for a, b in zip(before, weights_of(model))
    )
    bits = key_bits(1, NUM_BITS)
    marked = to_numpy(model.embed(images[:4], bits))
    assert marked.shape == (4,) + SHAPE
    assert marked.min() >= 0.0 and marked.max() <= 1.0
    # Strength 0.1: no pixel moves further.
    assert np.abs(marked - images[:4]).max() <= 0.1 + 1e-6
    scores = model.score(marked, bits)
    assert scores["bit_accuracy"].shape == (4,)
    loaded = reloaded(model, tmp_path)
    np.testing.assert_allclose(
        to_numpy(loaded.extract(marked)), to_numpy(model.extract(marked))
    )
    assert loaded.get_config()["attack_training"] is True
    with pytest.raises(ValueError, match="`bits` must be"):
        model.embed(images[:4], np.zeros(NUM_BITS + 1))
    with pytest.raises(ValueError, match="`images`"):
        model.extract(images[:4, :4])


def test_stable_signature_fine_tunes_the_decoder_alone(tmp_path):
    decoder = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(64, activation="tanh"),
            keras.layers.Reshape(SHAPE),
        ]
    )
    extractor = bit_watermark().extractor
    signature = StableSignature(
        decoder, extractor, key=3, value_range=(-1.0, 1.0)
    )
    signature.compile(optimizer=keras.optimizers.Adam(1e-2))
    frozen = weights_of(extractor) + weights_of(signature.original_decoder)
    decoder_before = weights_of(decoder)
    latents = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    signature.fit(latents, batch_size=16, epochs=2, verbose=0)
    assert all(
        not np.array_equal(a, b)
        for a, b in zip(decoder_before, weights_of(decoder))
    )
    for a, b in zip(
        frozen,
        weights_of(extractor) + weights_of(signature.original_decoder),
    ):
        np.testing.assert_array_equal(a, b)
    images = to_numpy(decoder(latents[:5]))
    scores = signature.score(images)
    assert scores["p_value"].shape == (5,)
    assert signature.detect(images).dtype == bool
    loaded = reloaded(signature, tmp_path)
    np.testing.assert_array_equal(loaded.bits, signature.bits)
    np.testing.assert_allclose(
        loaded.score(images)["bit_accuracy"], scores["bit_accuracy"]
    )
    with pytest.raises(ValueError, match="`images` values must lie in"):
        signature.score(images * 3)
    with pytest.raises(ValueError, match="`key`"):
        StableSignature(decoder, extractor, key=-1)


def test_bit_watermark_without_attacks_draws_the_key_bits_alone():
    model = bit_watermark(attack_training=False)
    images = np.random.default_rng(0).uniform(size=(4,) + SHAPE)
    outputs = model(images.astype("float32"))
    assert tuple(outputs["logits"].shape) == (1, 4, NUM_BITS)
    # One draw (the bits) advanced the seed: the suite drew nothing.
    one_draw = keras.random.SeedGenerator(model.seed)
    keras.random.uniform((4, NUM_BITS), seed=one_draw)
    np.testing.assert_array_equal(
        to_numpy(model.seed_generator.state), to_numpy(one_draw.state)
    )


@pytest.mark.all_backends
def test_stable_signature_without_attacks_reads_the_plain_image_alone():
    # On every backend: the attack suite is not run, so nothing is drawn
    # (an unseeded draw inside JAX's compiled step would fail to trace).
    decoder = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(64), keras.layers.Reshape(SHAPE)]
    )
    signature = StableSignature(
        decoder, bit_watermark().extractor, key=3, attack_training=False
    )
    signature.compile(optimizer=keras.optimizers.Adam(1e-2))
    state = to_numpy(signature.seed_generator.state)
    latents = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    history = signature.fit(latents, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    np.testing.assert_array_equal(
        to_numpy(signature.seed_generator.state), state
    )


def test_watson_image_loss_trains_both_models_and_round_trips(digits):
    images = digits[0][:16]
    model = bit_watermark(attack_training=False, image_loss="watson_dct")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(images, batch_size=8, verbose=0)
    assert np.isfinite(history.history["image_loss"]).all()
    assert BitWatermark.from_config(model.get_config()).image_loss == (
        "watson_dct"
    )
    decoder = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(64, activation="sigmoid"),
            keras.layers.Reshape(SHAPE),
        ]
    )
    signature = StableSignature(
        decoder,
        model.extractor,
        attack_training=False,
        image_loss="watson_dct",
    )
    signature.compile(optimizer=keras.optimizers.Adam(1e-2))
    latents = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    history = signature.fit(latents, batch_size=8, epochs=2, verbose=0)
    # The decoder moved, so the distance is positive and finite.
    assert 0 < history.history["image_loss"][-1] < np.inf
    assert StableSignature.from_config(signature.get_config()).image_loss == (
        "watson_dct"
    )
    with pytest.raises(ValueError, match="`image_loss` must be one of"):
        bit_watermark(image_loss="lpips")
