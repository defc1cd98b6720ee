"""A Stable Diffusion pipeline folder made by diffusers (a random tiny
U-Net, autoencoder and CLIP text encoder, a BPE learned here) becomes a
`LatentTextToImage` whose prompt embeddings, denoiser and whole DDIM run
equal the pipeline's, which fine-tunes through `fit` with LoRA, and which
refuses a folder it cannot read whole, naming what."""

import json
import shutil

import keras
import numpy as np
import pytest

import kgen
from kgen.utils.unreadable_file_error import UnreadableFileError
from tests.conftest import to_numpy
from tests.tokenizers.test_clip_tokenizer import CORPUS
from tests.tokenizers.test_clip_tokenizer import learned_bpe

CONTEXT_LENGTH = 16
PROMPTS = ["a photo of a cat", "an astronaut riding a horse on mars"]


def jittered(model, scale=0.1):
    import torch

    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(scale * torch.randn_like(parameter))
    return model.eval()


def tiny_pipeline():
    """diffusers' `StableDiffusionPipeline` of random tiny parts, with
    Stable Diffusion's DDIM scheduler."""
    torch = pytest.importorskip("torch")
    diffusers = pytest.importorskip("diffusers")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    unet = diffusers.UNet2DConditionModel(
        sample_size=8,
        block_out_channels=(8, 16),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=12,
        attention_head_dim=2,
        norm_num_groups=4,
    )
    vae = diffusers.AutoencoderKL(
        latent_channels=4,
        block_out_channels=(8, 16),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        norm_num_groups=4,
        sample_size=16,
        scaling_factor=0.5,
    )
    vocabulary, merges = learned_bpe(CORPUS)
    end = vocabulary["<|endoftext|>"]
    text_encoder = transformers.CLIPTextModel(
        transformers.CLIPTextConfig(
            vocab_size=len(vocabulary),
            hidden_size=12,
            intermediate_size=24,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=CONTEXT_LENGTH,
            bos_token_id=vocabulary["<|startoftext|>"],
            eos_token_id=end,
            pad_token_id=end,
        )
    )
    tokenizer = transformers.CLIPTokenizer(
        vocab=vocabulary, merges=merges, model_max_length=CONTEXT_LENGTH
    )
    scheduler = diffusers.DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
    )
    pipeline = diffusers.StableDiffusionPipeline(
        vae=jittered(vae),
        text_encoder=jittered(text_encoder),
        tokenizer=tokenizer,
        unet=jittered(unet),
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    # The pipeline moves the config's `steps_offset` to 1 as it is built,
    # as in every Stable Diffusion folder.
    assert pipeline.scheduler.config.steps_offset == 1
    return pipeline


@pytest.fixture(scope="module")
def pipeline_folder(tmp_path_factory):
    pipeline = tiny_pipeline()
    folder = tmp_path_factory.mktemp("stable_diffusion") / "pipeline"
    pipeline.save_pretrained(folder)
    return pipeline, folder


@pytest.mark.all_backends
def test_the_pipelines_parts_and_ddim_run_equal_diffusers(pipeline_folder):
    import torch

    pipeline, folder = pipeline_folder
    model = kgen.models.LatentTextToImage.from_diffusers(folder)
    assert model.latent_scale == 0.5
    assert model.data_shape == (16, 16, 3)
    assert model.sample_shape == (8, 8, 4)
    assert not model.text_encoder.trainable

    tokens = model.tokenizer.tokenize(PROMPTS)
    with torch.no_grad():
        embeddings, unconditional = pipeline.encode_prompt(
            PROMPTS, "cpu", 1, True, [""] * len(PROMPTS)
        )
    np.testing.assert_allclose(
        to_numpy(model.encode_text(tokens)), embeddings.numpy(), atol=1e-4
    )
    np.testing.assert_allclose(
        to_numpy(model.encode_text(model.tokenizer.tokenize(["", ""]))),
        unconditional.numpy(),
        atol=1e-4,
    )

    noise = np.random.default_rng(0).normal(size=(2, 8, 8, 4))
    noise = noise.astype("float32")
    for diffusers_scale in (1.0, 3.0):
        with torch.no_grad():
            latents = pipeline(
                PROMPTS,
                latents=torch.tensor(noise.transpose(0, 3, 1, 2)),
                num_inference_steps=5,
                guidance_scale=diffusers_scale,
                output_type="latent",
            ).images
            images = pipeline.vae.decode(latents / 0.5).sample
        # kgen's guidance weight w is diffusers' scale less one.
        generate = model.serving_endpoints(
            model.scheduler, 5, guidance_scale=diffusers_scale - 1.0
        )["generate"][0]
        # Latents of some 25 in size; images of about 1.
        np.testing.assert_allclose(
            to_numpy(generate(noise, tokens)),
            images.numpy().transpose(0, 2, 3, 1),
            atol=1e-4,
        )


@pytest.mark.torch_only
def test_the_imported_model_fine_tunes_with_lora_and_round_trips(
    pipeline_folder, tmp_path
):
    _, folder = pipeline_folder
    model = kgen.models.LatentTextToImage.from_diffusers(folder)
    images = np.random.default_rng(1).uniform(-1, 1, (4, 16, 16, 3))
    images = images.astype("float32")
    captions = ["a photo of a cat", "a red mat", "a horse", "the cats"]
    frozen = [w.copy() for w in model.text_encoder.get_weights()]
    frozen += [w.copy() for w in model.autoencoder.get_weights()]
    base = [w.copy() for w in model.denoiser.get_weights()]

    kgen.lora.enable_lora(model, rank=2, seed=0)
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    assert 0 < trainable < 0.05 * model.count_params()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(images, captions, batch_size=2, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    # Only the adapters moved: the text encoder and autoencoder are
    # frozen, and so is the U-Net under its adapters.
    after = model.text_encoder.get_weights() + model.autoencoder.get_weights()
    for before, now in zip(frozen, after):
        np.testing.assert_array_equal(before, now)
    adapted = model.generate(["a cat"], num_steps=3, seed=0)
    kgen.lora.merge_lora(model)
    np.testing.assert_allclose(
        to_numpy(model.generate(["a cat"], num_steps=3, seed=0)),
        to_numpy(adapted),
        atol=1e-5,
    )
    assert not all(
        np.array_equal(a, b) for a, b in zip(base, model.denoiser.get_weights())
    )

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.tokenizer, kgen.tokenizers.ClipTokenizer)
    np.testing.assert_array_equal(
        to_numpy(loaded.generate(["a cat"], num_steps=3, seed=0)),
        to_numpy(model.generate(["a cat"], num_steps=3, seed=0)),
    )

    # Image to image and inpainting go through the latents; inpainting
    # gives the known pixels back exactly.
    redrawn = model.image_to_image(
        images[:2], ["a cat", "a horse"], strength=0.5, num_steps=4, seed=0
    )
    assert tuple(redrawn.shape) == (2, 16, 16, 3)
    mask = np.ones((2, 16, 16, 3), "float32")
    mask[:, 4:12, 4:12] = 0
    filled = to_numpy(
        model.inpaint(images[:2], mask, prompts="a cat", num_steps=4, seed=0)
    )
    np.testing.assert_array_equal(filled * mask, images[:2] * mask)


@pytest.mark.tensorflow_only
def test_a_folder_kgen_cannot_read_whole_is_named(pipeline_folder, tmp_path):
    _, folder = pipeline_folder

    def copy(name):
        target = tmp_path / name
        shutil.copytree(folder, target)
        return target

    def edit(path, **changes):
        config = json.loads(path.read_text())
        config.update(changes)
        path.write_text(json.dumps(config))

    upscaler = copy("upscaler")
    edit(upscaler / "model_index.json", low_res_scheduler=["diffusers", "X"])
    with pytest.raises(UnreadableFileError, match="unknown.*low_res"):
        kgen.models.LatentTextToImage.from_diffusers(upscaler)

    headless = copy("headless")
    edit(headless / "model_index.json", text_encoder=[None, None])
    with pytest.raises(UnreadableFileError, match="missing.*text_encoder"):
        kgen.models.LatentTextToImage.from_diffusers(headless)

    longer = copy("longer")
    edit(longer / "tokenizer" / "tokenizer_config.json", model_max_length=77)
    with pytest.raises(UnreadableFileError, match="pads to 77"):
        kgen.models.LatentTextToImage.from_diffusers(longer)

    rescaled = copy("rescaled")
    edit(
        rescaled / "scheduler" / "scheduler_config.json",
        rescale_betas_zero_snr=True,
    )
    with pytest.raises(UnreadableFileError, match="rescale_betas_zero_snr"):
        kgen.models.LatentTextToImage.from_diffusers(rescaled)

    wider = copy("wider")
    edit(wider / "unet" / "config.json", block_out_channels=[8, 32])
    with pytest.raises(UnreadableFileError, match="parameters"):
        kgen.models.LatentTextToImage.from_diffusers(wider)

    nameless = copy("nameless")
    (nameless / "text_encoder" / "config.json").write_text("null")
    with pytest.raises(UnreadableFileError, match="JSON object"):
        kgen.models.LatentTextToImage.from_diffusers(nameless)

    # A concept token added to CLIP's vocabulary (textual inversion), and
    # ids the text encoder has no row for.
    tokenizer_file = "tokenizer/tokenizer.json"
    concept = copy("concept")
    tokenizer = json.loads((concept / tokenizer_file).read_text())
    tokenizer["added_tokens"].append({"id": 10**4, "content": "<cat-toy>"})
    (concept / tokenizer_file).write_text(json.dumps(tokenizer))
    with pytest.raises(UnreadableFileError, match="cat-toy"):
        kgen.models.LatentTextToImage.from_diffusers(concept)
    beyond = copy("beyond")
    tokenizer = json.loads((beyond / tokenizer_file).read_text())
    tokenizer["model"]["vocab"]["a</w>"] = 10**6
    (beyond / tokenizer_file).write_text(json.dumps(tokenizer))
    with pytest.raises(UnreadableFileError, match="embeds"):
        kgen.models.LatentTextToImage.from_diffusers(beyond)

    # CLIP's tokenizer has no TensorFlow ops: string captions in a
    # tf.data pipeline are refused, naming what to give instead.
    import tensorflow as tf

    model = kgen.models.LatentTextToImage.from_diffusers(folder)
    model.compile(optimizer="adam")
    images = np.zeros((2, 16, 16, 3), "float32")
    dataset = tf.data.Dataset.from_tensor_slices(
        (images, ["a cat", "a dog"])
    ).batch(2)
    with pytest.raises(ValueError, match="no TensorFlow ops"):
        model.fit(dataset, epochs=1, verbose=0)


@pytest.mark.torch_only
def test_a_written_pipeline_loads_in_diffusers_and_draws_the_same(
    pipeline_folder, tmp_path
):
    import diffusers
    import torch

    from kgen.models.diffusion import diffusers_checkpoint

    _, folder = pipeline_folder
    model = kgen.models.LatentTextToImage.from_diffusers(folder)
    written = tmp_path / "written"
    diffusers_checkpoint.to_diffusers(model, written)
    pipeline = diffusers.StableDiffusionPipeline.from_pretrained(written)
    assert pipeline.scheduler.config.steps_offset == 1
    # kgen reads back what it wrote, tensor for tensor.
    again = kgen.models.LatentTextToImage.from_diffusers(written)
    for ours, theirs in zip(model.weights, again.weights):
        np.testing.assert_array_equal(to_numpy(ours), to_numpy(theirs))
    tokens = model.tokenizer.tokenize(PROMPTS)
    np.testing.assert_array_equal(again.tokenizer.tokenize(PROMPTS), tokens)
    noise = np.random.default_rng(2).normal(size=(2, 8, 8, 4))
    noise = noise.astype("float32")
    with torch.no_grad():
        latents = pipeline(
            PROMPTS,
            latents=torch.tensor(noise.transpose(0, 3, 1, 2)),
            num_inference_steps=4,
            guidance_scale=2.0,
            output_type="latent",
        ).images
        images = pipeline.vae.decode(latents / 0.5).sample
    generate = model.serving_endpoints(model.scheduler, 4, guidance_scale=1.0)
    np.testing.assert_allclose(
        to_numpy(generate["generate"][0](noise, tokens)),
        images.numpy().transpose(0, 2, 3, 1),
        atol=1e-4,
    )
