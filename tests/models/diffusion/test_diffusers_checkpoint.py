"""A diffusers DDPM pipeline folder becomes a kgen `DiffusionModel`."""

import json

import keras
import numpy as np
import pytest

import kgen
from kgen.models.diffusion import diffusers_checkpoint
from kgen.utils.unreadable_file_error import UnreadableFileError
from tests.conftest import to_numpy
from tests.networks.test_diffusers_autoencoder import (
    CONFIGS as AUTOENCODER_CONFIGS,
)
from tests.networks.test_diffusers_autoencoder import random_autoencoder
from tests.networks.test_diffusers_dit import CONFIGS as DIT_CONFIGS
from tests.networks.test_diffusers_dit import random_dit
from tests.networks.test_diffusers_unet import CONFIGS
from tests.networks.test_diffusers_unet import random_unet

# What differs between backends is the network, proven on every backend
# in tests/networks/test_diffusers_unet.py; this is the folder's reading.
pytestmark = pytest.mark.torch_only


@pytest.fixture
def pipeline_folder(tmp_path):
    import diffusers
    import torch

    unet = random_unet(CONFIGS["attention_deep"])
    scheduler = diffusers.DDPMScheduler(
        num_train_timesteps=50,
        beta_schedule="squaredcos_cap_v2",
        prediction_type="v_prediction",
    )
    diffusers.DDPMPipeline(unet, scheduler).save_pretrained(tmp_path)
    return tmp_path, unet, scheduler, torch


def test_a_pipeline_folder_loads_with_its_unet_and_scheduler(pipeline_folder):
    folder, unet, scheduler, torch = pipeline_folder
    model = kgen.models.DiffusionModel.from_diffusers(folder)
    assert model.scheduler.prediction_type == "v_prediction"
    np.testing.assert_allclose(
        model.scheduler.alphas_cumprod,
        scheduler.alphas_cumprod.numpy(),
        rtol=1e-6,
        atol=1e-10,  # diffusers' float32 product, kgen's float64 one
    )
    noisy = np.random.default_rng(1).normal(size=(3, 8, 8, 3))
    noisy = noisy.astype("float32")
    with torch.no_grad():
        expected = unet(torch.tensor(noisy.transpose(0, 3, 1, 2)), 7).sample
    np.testing.assert_allclose(
        to_numpy(model.denoise(noisy, 7)),
        expected.numpy().transpose(0, 2, 3, 1),
        atol=1e-4,
    )
    samples = to_numpy(model.sample(2, num_steps=3, seed=0))
    assert samples.shape == (2, 8, 8, 3) and np.isfinite(samples).all()
    # Saved as any kgen model, it loads back the same.
    model.save(folder / "imported.keras")
    reloaded = keras.saving.load_model(folder / "imported.keras")
    np.testing.assert_array_equal(
        to_numpy(reloaded.denoise(noisy, 7)), to_numpy(model.denoise(noisy, 7))
    )
    # The U-Net's own folder loads alone, on kgen's DDPM schedule.
    alone = kgen.models.DiffusionModel.from_diffusers(folder / "unet")
    np.testing.assert_array_equal(
        to_numpy(alone.denoise(noisy, 7)), to_numpy(model.denoise(noisy, 7))
    )


def test_a_fine_tuned_model_goes_back_to_diffusers(pipeline_folder, tmp_path):
    import diffusers

    folder, _, _, torch = pipeline_folder
    model = kgen.models.DiffusionModel.from_diffusers(folder)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    images = np.random.default_rng(2).uniform(-1, 1, (8, 8, 8, 3))
    model.fit(images.astype("float32"), batch_size=4, epochs=1, verbose=0)
    out = tmp_path / "fine_tuned"
    diffusers_checkpoint.to_diffusers(model, out)
    pipeline = diffusers.DDPMPipeline.from_pretrained(out)
    assert pipeline.scheduler.config.prediction_type == "v_prediction"
    assert pipeline.scheduler.config.beta_schedule == "squaredcos_cap_v2"
    noisy = np.random.default_rng(3).normal(size=(2, 8, 8, 3))
    noisy = noisy.astype("float32")
    with torch.no_grad():
        theirs = pipeline.unet(torch.tensor(noisy.transpose(0, 3, 1, 2)), 9)
    np.testing.assert_allclose(
        to_numpy(model.denoise(noisy, 9)),
        theirs.sample.numpy().transpose(0, 2, 3, 1),
        atol=1e-4,
    )
    # A scheduler no pipeline expresses: refused before anything is
    # written, and an earlier export stays whole.
    stochastic = kgen.models.DiffusionModel(
        model.denoiser, scheduler=kgen.schedulers.DDIMScheduler(eta=0.5)
    )
    with pytest.raises(ValueError, match="eta=0"):
        diffusers_checkpoint.to_diffusers(stochastic, out)
    assert diffusers.DDPMPipeline.from_pretrained(out) is not None
    # A model on kgen's own U-Net has no diffusers counterpart.
    own = kgen.models.DiffusionModel(
        kgen.networks.unet_denoiser((8, 8, 3), widths=(8,), attention_levels=())
    )
    with pytest.raises(ValueError, match="DiffusersUNet"):
        diffusers_checkpoint.to_diffusers(own, tmp_path / "own")
    assert not (tmp_path / "own").exists()


def test_lora_over_a_checkpoint_saves_alone_and_merges_back_to_diffusers(
    pipeline_folder, tmp_path
):
    import diffusers

    folder, _, _, torch = pipeline_folder
    model = kgen.models.DiffusionModel.from_diffusers(folder)
    kgen.lora.enable_lora(model, rank=2, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    images = np.random.default_rng(2).uniform(-1, 1, (8, 8, 8, 3))
    model.fit(images.astype("float32"), batch_size=4, epochs=2, verbose=0)
    noisy = np.random.default_rng(3).normal(size=(2, 8, 8, 3))
    noisy = noisy.astype("float32")
    adapted = to_numpy(model.denoise(noisy, 9))

    # 1. The adapter alone names the folder; loading it imports the
    # checkpoint again and puts the adapter on it.
    adapter = kgen.presets.save_lora_adapter(
        model, tmp_path / "adapter", str(folder)
    )
    loaded = kgen.presets.load_preset(adapter)
    np.testing.assert_array_equal(to_numpy(loaded.denoise(noisy, 9)), adapted)
    # 2. Merged, it goes back to diffusers with the adapters folded in.
    merged = kgen.lora.merge_lora(model)
    np.testing.assert_allclose(
        to_numpy(merged.denoise(noisy, 9)), adapted, atol=1e-5
    )
    diffusers_checkpoint.to_diffusers(merged, tmp_path / "merged")
    pipeline = diffusers.DDPMPipeline.from_pretrained(tmp_path / "merged")
    with torch.no_grad():
        theirs = pipeline.unet(torch.tensor(noisy.transpose(0, 3, 1, 2)), 9)
    np.testing.assert_allclose(
        theirs.sample.numpy().transpose(0, 2, 3, 1), adapted, atol=1e-4
    )
    # 3. A base folder that no longer reads is `load_preset`'s one error,
    # naming the base's file.
    config_file = folder / "unet" / "config.json"
    config = json.loads(config_file.read_text())
    config_file.write_text(json.dumps(dict(config, layers_per_block=99)))
    with pytest.raises(kgen.presets.PresetError, match="layers_per_block"):
        kgen.presets.load_preset(adapter)
    (folder / "unet" / "config.json").unlink()
    with pytest.raises(kgen.presets.PresetError, match=str(folder)):
        kgen.presets.load_preset(adapter)


def test_a_dit_pipeline_becomes_a_latent_model_and_goes_back(tmp_path):
    import diffusers
    import torch

    dit = random_dit(DIT_CONFIGS["learned_variance"])
    vae = random_autoencoder(AUTOENCODER_CONFIGS["two_levels"])
    scheduler = diffusers.DDIMScheduler(num_train_timesteps=50)
    diffusers.DiTPipeline(dit, vae, scheduler).save_pretrained(tmp_path / "dit")
    model = kgen.models.LatentDiffusion.from_diffusers(tmp_path / "dit")
    assert model.num_classes == 10
    assert model.latent_scale == pytest.approx(vae.config.scaling_factor)

    # 1. The denoiser is the transformer's noise half, as DiTPipeline
    # splits it; the "no class" label is the checkpoint's own.
    latents = np.random.default_rng(4).normal(size=(2, 8, 8, 4))
    latents = latents.astype("float32")
    timesteps = np.array([5, 40], "int32")
    labels = np.array([3, 10], "int32")
    with torch.no_grad():
        theirs = dit(
            torch.tensor(latents.transpose(0, 3, 1, 2)),
            torch.tensor(timesteps),
            torch.tensor(labels),
        ).sample.numpy()
    ours = to_numpy(model.denoiser([latents, timesteps, labels]))
    np.testing.assert_allclose(
        ours, theirs[:, :4].transpose(0, 2, 3, 1), atol=1e-4
    )
    # 2. Latents decode as the pipeline decodes them.
    with torch.no_grad():
        images = vae.decode(
            torch.tensor(latents.transpose(0, 3, 1, 2))
            / vae.config.scaling_factor
        ).sample.numpy()
    np.testing.assert_allclose(
        to_numpy(model.decode(latents)),
        images.transpose(0, 2, 3, 1),
        atol=1e-4,
    )
    samples = to_numpy(model.sample(2, labels=[1, 2], num_steps=3, seed=0))
    assert samples.shape == (2, 16, 16, 3) and np.isfinite(samples).all()
    with pytest.raises(ValueError, match="LatentDiffusion.from_diffusers"):
        kgen.models.DiffusionModel.from_diffusers(tmp_path / "dit")

    # 3. Back to diffusers: the pipeline loads with the same numbers.
    diffusers_checkpoint.to_diffusers(model, tmp_path / "back")
    pipeline = diffusers.DiTPipeline.from_pretrained(tmp_path / "back")
    assert pipeline.vae.config.scaling_factor == pytest.approx(
        model.latent_scale
    )
    with torch.no_grad():
        again = pipeline.transformer(
            torch.tensor(latents.transpose(0, 3, 1, 2)),
            torch.tensor(timesteps),
            torch.tensor(labels),
        ).sample.numpy()
    np.testing.assert_array_equal(again, theirs)


def test_every_scheduler_option_that_changes_sampling_crosses(tmp_path):
    import diffusers

    unet = random_unet(CONFIGS["attention_deep"])
    ddim = diffusers.DDIMScheduler(
        num_train_timesteps=40,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        timestep_spacing="trailing",
        steps_offset=1,
    )
    diffusers.DDIMPipeline(unet, ddim).save_pretrained(tmp_path / "in")
    model = kgen.models.DiffusionModel.from_diffusers(tmp_path / "in")
    config = model.scheduler.get_config()
    assert type(model.scheduler).__name__ == "DDIMScheduler"
    assert not config["clip_sample"] and not config["set_alpha_to_one"]
    assert config["timestep_spacing"] == "trailing"
    assert config["steps_offset"] == 1
    np.testing.assert_allclose(
        model.scheduler.alphas_cumprod, ddim.alphas_cumprod.numpy(), 1e-6
    )
    diffusers_checkpoint.to_diffusers(model, tmp_path / "out")
    back = diffusers.DDPMPipeline.from_pretrained(tmp_path / "out").scheduler
    assert type(back).__name__ == "DDIMScheduler"
    for key in (
        "clip_sample",
        "set_alpha_to_one",
        "timestep_spacing",
        "steps_offset",
    ):
        assert back.config[key] == ddim.config[key], key
    # What kgen's schedulers have no counterpart for is refused by name.
    for kind, option in (
        ("DDIMScheduler", {"thresholding": True}),
        ("DDIMScheduler", {"rescale_betas_zero_snr": True}),
        ("DDPMScheduler", {"steps_offset": 1}),
    ):
        with pytest.raises(ValueError, match=next(iter(option))):
            diffusers_checkpoint.scheduler_of(
                dict(ddim.config, _class_name=kind, **option)
            )
    with pytest.raises(ValueError, match="learned_range"):
        diffusers_checkpoint.scheduler_of(
            {"_class_name": "DDPMScheduler", "variance_type": "learned_range"}
        )


def test_a_class_conditional_unet_draws_its_classes_and_learns_no_class(
    tmp_path,
):
    import diffusers
    import torch

    unet = random_unet(CONFIGS["class_conditional"])
    scheduler = diffusers.DDPMScheduler(num_train_timesteps=20)
    diffusers.DDPMPipeline(unet, scheduler).save_pretrained(tmp_path / "in")
    model = kgen.models.DiffusionModel.from_diffusers(tmp_path / "in")
    assert model.num_classes == 5
    noisy = np.random.default_rng(1).normal(size=(3, 8, 8, 3))
    noisy = noisy.astype("float32")
    labels = np.array([0, 2, 4], "int32")

    def assert_denoises_as(reference):
        with torch.no_grad():
            expected = reference(
                torch.tensor(noisy.transpose(0, 3, 1, 2)),
                7,
                class_labels=torch.tensor(labels),
            ).sample
        np.testing.assert_allclose(
            to_numpy(model.denoise(noisy, 7, labels)),
            expected.numpy().transpose(0, 2, 3, 1),
            atol=1e-4,
        )

    assert_denoises_as(unet)
    # "No class" is the time embedding alone until it is trained.
    table = model.denoiser.get_layer("class_embedding").embeddings
    assert not to_numpy(table)[5].any()
    assert to_numpy(model.sample(2, labels=[1, 3], num_steps=2)).shape == (
        2,
        8,
        8,
        3,
    )
    # Fine-tuned with classes dropped to "no class" half the time, that
    # row learns, and guidance reads it.
    model.condition_dropout = 0.5
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    images = np.random.default_rng(2).uniform(-1, 1, (16, 8, 8, 3))
    model.fit(
        images.astype("float32"),
        np.arange(16) % 5,
        batch_size=8,
        epochs=1,
        verbose=0,
    )
    assert to_numpy(table)[5].any()
    guided = model.sample(2, labels=[1, 3], num_steps=2, guidance_scale=2.0)
    assert np.isfinite(to_numpy(guided)).all()
    # Written back, diffusers reads its five classes; the row stays here.
    diffusers_checkpoint.to_diffusers(model, tmp_path / "out")
    pipeline = diffusers.DDPMPipeline.from_pretrained(tmp_path / "out")
    assert pipeline.unet.config.num_class_embeds == 5
    assert_denoises_as(pipeline.unet)


def test_what_kgen_cannot_import_is_named(pipeline_folder, tmp_path):
    folder, *_ = pipeline_folder
    config_file = folder / "unet" / "config.json"
    config = json.loads(config_file.read_text())
    config_file.write_text(json.dumps(dict(config, out_channels=6)))
    with pytest.raises(ValueError, match="learned variance"):
        kgen.models.DiffusionModel.from_diffusers(folder)
    config_file.write_text(json.dumps(config))
    scheduler_file = folder / "scheduler" / "scheduler_config.json"
    scheduler = json.loads(scheduler_file.read_text())
    scheduler_file.write_text(
        json.dumps(dict(scheduler, beta_schedule="sigmoid"))
    )
    with pytest.raises(ValueError, match="sigmoid"):
        kgen.models.DiffusionModel.from_diffusers(folder)
    scheduler_file.write_text(json.dumps(scheduler))
    index_file = folder / "model_index.json"
    index = json.loads(index_file.read_text())
    index_file.write_text(
        json.dumps(dict(index, _class_name="LDMPipeline", vqvae=["x", "y"]))
    )
    with pytest.raises(ValueError, match="LDMPipeline"):
        kgen.models.DiffusionModel.from_diffusers(folder)
    (folder / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="safetensors"):
        kgen.models.DiffusionModel.from_diffusers(folder / "unet")


def test_a_folder_from_a_stranger_is_checked_before_it_is_built(
    pipeline_folder,
):
    folder, *_ = pipeline_folder
    config_file = folder / "unet" / "config.json"
    config = json.loads(config_file.read_text())

    def refused(match, **changes):
        config_file.write_text(json.dumps(dict(config, **changes)))
        with pytest.raises(UnreadableFileError, match=match) as error:
            kgen.models.DiffusionModel.from_diffusers(folder)
        # The message names the file or the folder it came from.
        assert str(folder) in str(error.value)

    # A network of 40 GB asked for by a config of a few hundred bytes
    # is counted, not allocated, and refused by the weights' size.
    refused(
        "parameters, more than the",
        block_out_channels=[4096, 8192],
        norm_num_groups=32,
    )
    refused("`layers_per_block` must be an int in", layers_per_block=10**9)
    refused("`norm_eps` must be a number", norm_eps="small")
    refused("its config is not one kgen can build", up_block_types=5)
    config_file.write_text(json.dumps(config))
    scheduler_file = folder / "scheduler" / "scheduler_config.json"
    scheduler = json.loads(scheduler_file.read_text())
    for changes in ({"num_train_timesteps": 10**12}, {"beta_end": "x"}):
        scheduler_file.write_text(json.dumps(dict(scheduler, **changes)))
        with pytest.raises(UnreadableFileError, match="scheduler_config"):
            kgen.models.DiffusionModel.from_diffusers(folder)
    scheduler_file.write_text(json.dumps(scheduler))
    # Any JSON where the pipeline's class is named, a list here.
    index_file = folder / "model_index.json"
    index = json.loads(index_file.read_text())
    index_file.write_text(json.dumps(dict(index, _class_name=["x"])))
    with pytest.raises(UnreadableFileError, match="holds a \\['x'\\]"):
        kgen.models.DiffusionModel.from_diffusers(folder)
