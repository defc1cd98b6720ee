import keras
import numpy as np
import pytest

import kgen
from kgen.watermarks import TextWatermarkDetector
from kgen.watermarks import green_list_table

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

VOCABULARY = 16


def test_green_lists_hold_gamma_of_the_vocabulary_and_depend_on_the_key():
    table = green_list_table(VOCABULARY, 0.25, 7)
    assert table.shape == (VOCABULARY, VOCABULARY)
    np.testing.assert_array_equal(table.sum(axis=1), 4)
    # Each previous token has its own list, and another key other lists.
    assert len({row.tobytes() for row in table}) > VOCABULARY // 2
    assert not np.array_equal(table, green_list_table(VOCABULARY, 0.25, 8))


def test_z_score_follows_its_formula():
    detector = TextWatermarkDetector(VOCABULARY, gamma=0.25, key=7)
    table = green_list_table(VOCABULARY, 0.25, 7)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, VOCABULARY, (3, 101))
    scores = detector.score(tokens)
    green = table[tokens[:, :-1], tokens[:, 1:]].sum(axis=1)
    expected = (green - 25.0) / np.sqrt(100 * 0.25 * 0.75)
    np.testing.assert_allclose(scores["z_score"], expected)
    assert (scores["num_scored"] == 100).all()
    assert ((0 < scores["p_value"]) & (scores["p_value"] < 1)).all()


def test_all_green_text_is_detected_and_random_text_is_not():
    detector = TextWatermarkDetector(VOCABULARY, gamma=0.25, key=7)
    table = green_list_table(VOCABULARY, 0.25, 7)
    rng = np.random.default_rng(1)
    tokens = [0]
    for _ in range(100):
        tokens.append(int(rng.choice(np.flatnonzero(table[tokens[-1]]))))
    assert detector.detect(np.array(tokens))[0]
    random_text = rng.integers(0, VOCABULARY, (200, 101))
    # One-sided z > 4 under the null: about 3e-5 per sequence.
    assert detector.detect(random_text).sum() == 0


@pytest.fixture(scope="module")
def tiny_gpt():
    return kgen.models.GPT(
        VOCABULARY, 32, num_layers=1, num_heads=2, hidden_dim=16, seed=0
    )


def test_gpt_generates_watermarked_text_the_detector_finds(tiny_gpt):
    sampler = kgen.samplers.WatermarkedSampler(
        VOCABULARY, sampler="random", gamma=0.25, delta=4.0, key=7
    )
    prompt = np.zeros((8, 1), "int32")
    marked = tiny_gpt.generate(prompt, 31, sampler=sampler, seed=0)
    plain = tiny_gpt.generate(prompt, 31, sampler="random", seed=0)
    detector = TextWatermarkDetector(VOCABULARY, gamma=0.25, key=7)
    marked_z = detector.score(marked)["z_score"]
    plain_z = detector.score(plain)["z_score"]
    # An untrained GPT's logits are near-flat, so delta = 4 makes most
    # drawn tokens green: z near sqrt(T (1 - gamma) / gamma) = 9.6.
    assert marked_z.min() > 4.0, marked_z
    assert plain_z.max() < 4.0, plain_z


def test_greedy_watermark_keeps_greedy_where_delta_is_zero(tiny_gpt):
    sampler = kgen.samplers.WatermarkedSampler(
        VOCABULARY, sampler="greedy", delta=0.0
    )
    prompt = np.arange(4, dtype="int32")[:, None]
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(
            tiny_gpt.generate(prompt, 8, sampler=sampler)
        ),
        keras.ops.convert_to_numpy(tiny_gpt.generate(prompt, 8)),
    )


def test_sampler_serializes_with_its_rule():
    sampler = kgen.samplers.WatermarkedSampler(
        VOCABULARY, sampler=kgen.samplers.TopKSampler(3), gamma=0.5, key=2
    )
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(sampler)
    )
    assert isinstance(restored.sampler, kgen.samplers.TopKSampler)
    assert restored.get_config() == sampler.get_config()


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"vocabulary_size": 1}, "vocabulary_size"),
        ({"vocabulary_size": 10_000}, "vocabulary_size"),
        ({"gamma": 0.0}, "gamma"),
        ({"gamma": 1.0}, "gamma"),
        ({"key": -1}, "key"),
        ({"delta": -1.0}, "delta"),
    ],
)
def test_bad_sampler_arguments_are_named(arguments, match):
    arguments = dict({"vocabulary_size": VOCABULARY}, **arguments)
    with pytest.raises(ValueError, match=match):
        kgen.samplers.WatermarkedSampler(**arguments)


@pytest.mark.parametrize(
    "tokens, match",
    [
        (np.zeros((2, 1), "int32"), "at least 2"),
        (np.full((1, 5), VOCABULARY), "must lie in"),
        (np.zeros((1, 5), "float32"), "integer"),
    ],
)
def test_bad_tokens_are_refused(tokens, match):
    detector = TextWatermarkDetector(VOCABULARY)
    with pytest.raises(ValueError, match=match):
        detector.score(tokens)


def test_a_sampler_for_another_vocabulary_is_refused(tiny_gpt):
    sampler = kgen.samplers.WatermarkedSampler(VOCABULARY + 1)
    with pytest.raises(ValueError, match="vocabulary_size"):
        tiny_gpt.generate(np.zeros((1, 1), "int32"), 2, sampler=sampler)
