"""`kgen finetune`: LoRA over a shipped preset on a user's photographs, an
adapter preset out, training going on from it, and clear refusals."""

import json
import os

import keras
import numpy as np
import pytest

import kgen
from kgen import cli
from tests.cli.photographs import write_photographs

pytestmark = pytest.mark.torch_only

BASE = "flow_matching_mnist"


@pytest.fixture(scope="module")
def photographs(tmp_path_factory):
    """Six colour JPEGs of 40x30 (height x width): another size and
    another number of channels than the base's 28x28x1."""
    folder = tmp_path_factory.mktemp("subject")
    return write_photographs(folder, 6, (40, 30, 3))


def finetune(*arguments):
    return cli.main(["finetune", *map(str, arguments)])


def test_a_subject_trains_an_adapter_that_loads_on_its_base(
    photographs, tmp_path, capsys
):
    out = tmp_path / "run"
    code = finetune(
        BASE,
        "--data",
        photographs,
        "--label",
        3,
        "--prior-preservation",
        2,
        "--lora-rank",
        4,
        "--batch-size",
        4,
        "--out",
        out,
    )
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "finetune.json").read_text())
    # The six photographs and the base's two prior samples of class 3.
    assert summary["examples"] == 8
    assert summary["base"] == BASE
    assert 0 < summary["trainable_parameters"] < summary["base_parameters"]
    assert np.isfinite(summary["losses"]["loss"]).all()
    assert (out / "samples.png").is_file()
    base = kgen.presets.load_preset(BASE)
    assert summary["base_sha256"] == kgen.lora.base_weights_sha256(base)

    adapted = kgen.presets.load_preset(out / "adapter")
    assert kgen.lora.lora_settings(adapted)["rank"] == 4

    # Training goes on from the adapter; the new one names the same base.
    more = tmp_path / "more"
    code = finetune(
        out / "adapter", "--data", photographs, "--label", 3, "--out", more
    )
    assert code == 0, capsys.readouterr().err
    config = json.loads((more / "adapter" / "adapter_config.json").read_text())
    assert config["base"] == BASE
    assert config["rank"] == 4
    # Its adapters are its own: an option that would shape new ones is
    # refused, not ignored.
    code = finetune(
        out / "adapter",
        "--data",
        photographs,
        "--label",
        3,
        "--lora-rank",
        16,
        "--out",
        tmp_path / "refused",
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "is a LoRA adapter (rank 4" in err and "drop --lora-rank" in err
    assert not (tmp_path / "refused").exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--lora-rank", 0], "--lora-rank must be in [1, 4096]"),
        (["--label", 10], "--label must be in [0, 9]"),
        (["--learning-rate", 0], "--learning-rate must be positive"),
        (["--learning-rate", "inf"], "--learning-rate must be positive"),
        (["--max-examples", 0], "--max-examples must be in [1,"),
        (["--target-layers", "nothing"], "pattern 'nothing' matches no"),
        ([], "BASE is class-conditional (10 classes): give --label"),
    ],
)
def test_bad_options_are_one_clear_line(
    photographs, tmp_path, capsys, arguments, message
):
    out = tmp_path / "run"
    if "--label" not in arguments and arguments:
        arguments = [*arguments, "--label", 0]
    code = finetune(BASE, "--data", photographs, *arguments, "--out", out)
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not os.path.exists(out / "adapter")


def test_a_gan_adapts_both_networks_with_their_two_optimizers(
    photographs, tmp_path, capsys
):
    out = tmp_path / "run"
    code = finetune(
        "dcgan_mnist",
        "--data",
        photographs,
        "--target-layers",
        "*conv*",
        "--batch-size",
        3,
        "--out",
        out,
    )
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "finetune.json").read_text())
    assert set(summary["losses"]) == {"d_loss", "g_loss"}
    assert all(np.isfinite(v).all() for v in summary["losses"].values())
    base = kgen.presets.load_preset("dcgan_mnist")
    adapted = kgen.presets.load_preset(out / "adapter")
    # Adapters on both networks, and the generator draws otherwise now.
    layers = sorted(kgen.lora.lora_layers(adapted))
    assert {path.split("/")[0] for path in layers} == {
        "generator",
        "discriminator",
    }
    drawn = keras.ops.convert_to_numpy(adapted.sample(2, seed=0))
    assert not np.allclose(
        drawn, keras.ops.convert_to_numpy(base.sample(2, seed=0))
    )


def test_what_finetune_cannot_train_is_refused(
    photographs, tmp_path, capsys, monkeypatch
):
    from kgen.cli import finetune as command
    from tests.models import contract_cases

    out = tmp_path / "run"
    # A paired model (no preset ships one): its pairs are not images.
    paired = contract_cases.pix2pix().model
    with monkeypatch.context() as patch:
        patch.setattr(command, "_load_base", lambda base: (paired, base))
        assert finetune("pix2pix", "--data", photographs, "--out", out) == 2
    assert "trains on pairs of images" in capsys.readouterr().err
    code = finetune(
        BASE, "--dataset", "mnist", "--prior-preservation", 2, "--out", out
    )
    assert code == 2
    assert "--prior-preservation takes --data" in capsys.readouterr().err
    assert not out.exists()


def test_a_stable_diffusion_folder_learns_a_subject_under_its_prompt(
    photographs, tmp_path, capsys
):
    # DreamBooth on a (tiny, random) Stable Diffusion pipeline: the
    # photographs under the instance prompt, prior samples drawn for the
    # class prompt; the adapter loads over the folder it names.
    from tests.models.diffusion.test_stable_diffusion_checkpoint import (
        tiny_pipeline,
    )

    folder = tmp_path / "stable_diffusion"
    tiny_pipeline().save_pretrained(folder)
    out = tmp_path / "run"
    arguments = [folder, "--data", photographs, "--out", out]
    code = finetune(
        *arguments,
        "--prompt",
        "a photo of sks cat",
        "--prior-preservation",
        2,
        "--prior-prompt",
        "a photo of a cat",
        "--lora-rank",
        2,
        "--batch-size",
        4,
    )
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "finetune.json").read_text())
    assert summary["examples"] == 8
    assert np.isfinite(summary["losses"]["loss"]).all()
    assert (out / "samples.png").is_file()
    adapted = kgen.presets.load_preset(str(out / "adapter"))
    assert isinstance(adapted, kgen.models.LatentTextToImage)
    assert kgen.lora.lora_layers(adapted)
    base = kgen.models.LatentTextToImage.from_diffusers(folder)
    prompt = ["a photo of sks cat"]
    assert not np.allclose(
        keras.ops.convert_to_numpy(
            adapted.generate(prompt, num_steps=5, seed=0)
        ),
        keras.ops.convert_to_numpy(base.generate(prompt, num_steps=5, seed=0)),
    )

    # A text-to-image base takes prompts, not labels, and the prior
    # prompt only with prior samples.
    for extra, message in (
        (["--label", 1, "--prompt", "x"], "not --label"),
        ([], "give --prompt"),
        (["--prompt", "x", "--prior-prompt", "y"], "go together"),
    ):
        assert finetune(*arguments, *extra) == 2
        assert message in capsys.readouterr().err
