import os

import keras
import numpy as np
import pytest

import kgen
from kgen.models.diffusion import text_to_image_prompts
from tests.conftest import to_numpy
from tests.conftest import weights_of
from tests.export.test_saved_model import serve
from tests.models.diffusion.guidance_checks import (
    assert_guidance_follows_its_interval,
)

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)
SAMPLING = {"num_steps": 3, "scheduler": "ddim"}
PROMPTS = ["a thick, slanted seven", "the digit 2"]


@pytest.fixture(scope="module")
def captioned_digits():
    (images, captions, _), _ = kgen.datasets.load_captioned(
        "digits", value_range=(-1.0, 1.0)
    )
    return images[:16], captions[:16]


def tiny_model(captions, condition_dropout=0.1):
    tokenizer = kgen.tokenizers.WordTokenizer.from_texts(
        list(captions) + PROMPTS
    )
    model = kgen.models.TextToImage(
        kgen.networks.unet_denoiser(
            SHAPE,
            widths=(8, 8),
            num_heads=2,
            context_shape=(tokenizer.sequence_length, 8),
        ),
        kgen.networks.text_encoder(
            tokenizer.vocabulary_size,
            tokenizer.sequence_length,
            width=8,
            num_layers=1,
            num_heads=2,
        ),
        tokenizer,
        kgen.schedulers.DDPMScheduler(num_train_timesteps=10),
        condition_dropout=condition_dropout,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


@pytest.fixture(scope="module")
def trained(captioned_digits):
    images, captions = captioned_digits
    model = tiny_model(captions)
    before = weights_of(model.text_encoder)
    model.fit(images, captions, batch_size=8, epochs=1, verbose=0)
    return model, before


def test_fit_trains_the_text_encoder(trained):
    model, before = trained
    after = weights_of(model.text_encoder)
    assert len(after) == len(before)
    # The token and position embeddings and the attention all moved.
    changed = [not np.allclose(a, b) for a, b in zip(after, before)]
    assert np.mean(changed) > 0.9, changed


def test_generate_draws_one_image_per_prompt(trained):
    model, _ = trained
    images = to_numpy(
        model.generate(PROMPTS, guidance_scale=2.0, seed=1, **SAMPLING)
    )
    assert images.shape == (2,) + SHAPE
    assert np.isfinite(images).all() and np.abs(images).max() <= 1.0
    again = model.generate(PROMPTS, guidance_scale=2.0, seed=1, **SAMPLING)
    np.testing.assert_array_equal(to_numpy(again), images)
    other = model.generate(
        PROMPTS[::-1], guidance_scale=2.0, seed=1, **SAMPLING
    )
    assert not np.allclose(to_numpy(other), images)


def test_guidance_scale_changes_the_images(trained):
    model, _ = trained
    plain = model.generate(PROMPTS, seed=1, **SAMPLING)
    guided = model.generate(PROMPTS, guidance_scale=3.0, seed=1, **SAMPLING)
    assert not np.allclose(to_numpy(plain), to_numpy(guided))


def test_one_cfg_plus_plus_step_is_cfg_at_strength_minus_one(trained):
    # One DDIM step lands on x_0 (alpha_bar' = 1), where CFG++'s weight
    # l b / b - 1 is l - 1 and clipping x_0 before or after is the same.
    model, _ = trained
    one_step = {"num_steps": 1, "scheduler": "ddim", "seed": 1}
    plus = model.generate(
        PROMPTS, guidance="cfg++", guidance_scale=0.4, **one_step
    )
    cfg = model.generate(PROMPTS, guidance_scale=-0.6, **one_step)
    plain = to_numpy(model.generate(PROMPTS, **one_step))
    # The tiny model's prompt moves its output little: compare the moves.
    moved, cfg_moved = to_numpy(plus) - plain, to_numpy(cfg) - plain
    assert np.abs(cfg_moved).max() > 1e-5
    np.testing.assert_allclose(
        moved, cfg_moved, atol=0.02 * np.abs(cfg_moved).max()
    )


def test_image_to_image_keeps_more_at_lower_strength(trained, captioned_digits):
    model, _ = trained
    images = captioned_digits[0][:2]
    distances = [
        np.abs(
            to_numpy(
                model.image_to_image(
                    images, PROMPTS, strength=strength, num_steps=10, seed=0
                )
            )
            - images
        ).mean()
        for strength in (0.1, 1.0)
    ]
    assert distances[0] < distances[1]


def test_inpaint_keeps_the_known_pixels(trained, captioned_digits):
    model, _ = trained
    images = captioned_digits[0][:2]
    mask = np.ones(SHAPE, "float32")
    mask[4:] = 0.0
    filled = to_numpy(
        model.inpaint(images, mask, prompts="a thick seven", seed=0, **SAMPLING)
    )
    np.testing.assert_allclose(filled[:, :4], images[:, :4], atol=1e-5)
    assert not np.allclose(filled[:, 4:], images[:, 4:])


@pytest.mark.parametrize("method", ["generate", "image_to_image", "inpaint"])
def test_guidance_interval_reaches_every_way_of_drawing(
    trained, captioned_digits, method
):
    """Guidance everywhere is plain guidance, nowhere is no guidance, in
    each method that draws (every noise level lies in (0, 1))."""
    model, _ = trained
    images = captioned_digits[0][:2]
    mask = np.ones(SHAPE, "float32")
    mask[4:] = 0.0
    inputs = {
        "generate": (PROMPTS,),
        "image_to_image": (images, PROMPTS),
        "inpaint": (images, mask),
    }[method]
    extra = {"prompts": PROMPTS} if method == "inpaint" else {}

    def draw(**guidance):
        call = getattr(model, method)
        return to_numpy(call(*inputs, seed=1, **SAMPLING, **extra, **guidance))

    assert_guidance_follows_its_interval(draw)
    with pytest.raises(ValueError, match="guidance_interval"):
        draw(guidance_scale=3.0, guidance_interval=(0.5, 2.0))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda m: m.generate([]), "prompts.*at least one"),
        (lambda m: m.generate(["a purple seven"]), "prompts.*purple"),
        (lambda m: m.sample(3, prompts=["a seven"] * 2), "prompts.*3"),
        (lambda m: m.sample(2, labels=[1, 2]), "labels"),
        (
            lambda m: m.image_to_image(np.zeros((1,) + SHAPE), "2", strength=0),
            "strength",
        ),
    ],
    ids=["empty", "unknown_word", "count", "labels", "strength"],
)
def test_bad_prompts_are_refused(trained, call, match):
    model, _ = trained
    with pytest.raises(ValueError, match=match):
        call(model)


def test_a_long_prompt_is_truncated_with_a_warning(trained):
    model, _ = trained
    length = model.tokenizer.sequence_length
    long_prompt = " ".join(["seven"] * (length + 2))
    with pytest.warns(UserWarning, match="sequence_length"):
        tokens = text_to_image_prompts.tokenize(model, [long_prompt])
    assert tokens.shape == (1, length)


def test_guidance_needs_caption_dropout(captioned_digits):
    model = tiny_model(captioned_digits[1], condition_dropout=0.0)
    with pytest.raises(ValueError, match="guidance_scale.*condition_dropout"):
        model.generate(PROMPTS, guidance_scale=1.0, **SAMPLING)


@pytest.mark.parametrize(
    "captions, match",
    [(None, "captions.*`y`"), ("drop", "y.*one caption per image")],
)
def test_fit_refuses_missing_or_miscounted_captions(
    captioned_digits, captions, match
):
    images, all_captions = captioned_digits
    if captions == "drop":
        captions = all_captions[:-1]
    model = tiny_model(all_captions)
    with pytest.raises(ValueError, match=match):
        model.fit(images, captions, epochs=1, verbose=0)


def test_fit_tokenizes_string_datasets_in_the_graph(captioned_digits):
    import tensorflow as tf

    images, captions = captioned_digits
    model = tiny_model(captions)
    dataset = tf.data.Dataset.from_tensor_slices((images, captions)).batch(8)
    history = model.fit(dataset, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


# The tokenizing graph is TensorFlow's around the exported `generate` on
# every backend; the contract harness checks that `generate` on each
# (`EXPORT_ENDPOINTS`).
@pytest.mark.tensorflow_only
def test_exported_string_signature_matches_generate(trained, tmp_path):
    model, _ = trained
    endpoints = model.serving_endpoints(num_steps=3, guidance_scale=2.0)
    path = kgen.export.export_saved_model(
        model, str(tmp_path / "t2i"), endpoints=endpoints
    )
    seed = 5
    # `generate` draws its start noise so; the DDIM run adds none.
    noise = to_numpy(
        keras.random.normal((2,) + SHAPE, seed=keras.random.SeedGenerator(seed))
    )
    served = serve(
        path, "generate_text", {"noise": noise, "prompts": np.array(PROMPTS)}
    )
    (images,) = served.values()
    expected = model.generate(
        PROMPTS, guidance_scale=2.0, seed=seed, **SAMPLING
    )
    np.testing.assert_allclose(images, to_numpy(expected), atol=1e-4)
    assert os.path.isdir(path)


@pytest.mark.parametrize("name", ["TextToImage", "LatentTextToImage"])
def test_invert_runs_on_the_empty_prompt(name):
    # The prompts of given samples are not known: DDIM runs backwards on
    # the empty prompt, as guidance's unconditional branch does (it
    # raised for want of a context before).
    from tests.models.contract_cases import CASES

    model = CASES[name]().model
    samples = model.sample(2, num_steps=3, scheduler="ddim", seed=0)
    noise = to_numpy(model.invert(samples, num_steps=3))
    assert noise.shape == (2,) + model.sample_shape
    assert np.isfinite(noise).all()
    # The empty prompt's inversion is the conditional one for "".
    again = model.serving_endpoints("ddim", 3)["generate"][0](
        noise, model.tokenizer.tokenize(["", ""])
    )
    assert np.isfinite(to_numpy(again)).all()
