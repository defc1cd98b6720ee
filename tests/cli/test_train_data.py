"""`kgen train` on a user's own data: colour photographs of another size
than the preset's (`--image-size`), and shards written by `kgen data
pack`."""

import os

import numpy as np
import pytest

from kgen import cli
from tests.cli.photographs import write_photographs
from tests.conftest import run_checked


@pytest.fixture(scope="module")
def photographs(tmp_path_factory):
    """16 colour JPEGs of 96x128 (height x width), as a user's folder."""
    folder = tmp_path_factory.mktemp("photographs")
    return write_photographs(folder, 16, (96, 128, 3))


def test_photographs_of_another_size_need_an_image_size(
    photographs, tmp_path, capsys
):
    out = str(tmp_path / "run")
    code = cli.main(
        ["train", "flow_matching", "--data", photographs, "--epochs", "1"]
        + ["--quiet", "--out", out]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--image-size" in err
    assert "96x128" in err
    assert not os.path.exists(out) and not os.path.exists(out + ".checkpoint")


# The folder's path to a model of its size is the command line's, alike on
# every backend: torch proves it without the SavedModel export that
# TensorFlow's `kgen train` ends with (20 s against 91-208 s of CI's worker
# time; every architecture's export is tests/models/test_contract.py's).
@pytest.mark.torch_only
def test_photographs_train_at_the_image_size_asked_for(
    photographs, tmp_path, capsys
):
    out = str(tmp_path / "run")
    # 24 px builds the U-Net that 32 px does (widths 32, 64, 64: a level
    # added to the 8 px preset's, the finest without attention) on 56% of
    # the pixels: 40-46 s against 52-64 s in the suite here.
    code = cli.main(
        ["train", "flow_matching", "--data", photographs, "--epochs", "1"]
        + ["--image-size", "24", "--batch-size", "8", "--quiet"]
        + ["--out", out]
    )
    assert code == 0, capsys.readouterr().err
    assert "(24, 24, 3)" in capsys.readouterr().out
    assert {"model.keras", "samples.png", "logs"} <= set(os.listdir(out))


def test_a_step_that_would_not_fit_in_memory_is_refused_first(
    photographs, tmp_path, capsys
):
    out = str(tmp_path / "run")
    code = cli.main(
        ["train", "flow_matching", "--data", photographs, "--epochs", "1"]
        + ["--image-size", "2048", "--batch-size", "8"]
        + ["--max-image-pixels", str(2048 * 2048), "--out", out]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "--batch-size" in err and "--image-size" in err
    assert not os.path.exists(out + ".checkpoint")


def test_train_streams_shards_packed_by_kgen_data(tmp_path, capsys):
    pytest.importorskip("grain")
    shards = str(tmp_path / "shards")
    assert cli.main(["data", "pack", "digits", shards, "--shards", "4"]) == 0
    out = str(tmp_path / "run")
    code = cli.main(
        ["train", "vae", "--data", shards, "--epochs", "1", "--quiet"]
        + ["--out", out]
    )
    assert code == 0, capsys.readouterr().err
    assert "(1500 examples (8, 8, 1))" in capsys.readouterr().out
    assert os.path.isfile(os.path.join(out, "model.keras"))


def test_mesh_shards_only_a_unet_dit_or_gpt(tmp_path, capsys):
    out = str(tmp_path / "run")
    code = cli.main(["train", "vae", "--mesh", "data=1,model=1", "--out", out])
    assert code == 2
    assert "--mesh shards a U-Net, DiT or GPT" in capsys.readouterr().err


def test_train_shards_a_unet_over_a_mesh_of_eight_devices(tmp_path, digits):
    import sys

    # 40 digits: 36 train in 9 batches of 4 and 4 validate, so each step
    # compiles once (the embedded set's last, partial batches compiled the
    # train and test steps again: 79 s against 56 s).
    data = str(tmp_path / "digits.npy")
    np.save(data, digits[0][:40])
    out = str(tmp_path / "run")
    environment = dict(
        os.environ,
        KERAS_BACKEND="jax",
        XLA_FLAGS=os.environ.get("XLA_FLAGS", "")
        + " --xla_force_host_platform_device_count=8",
    )
    run_checked(
        [sys.executable, "-m", "kgen", "train", "ddpm", "--epochs", "1"]
        + ["--data", data, "--batch-size", "4"]
        + ["--mesh", "data=2,model=4", "--quiet", "--out", out],
        env=environment,
        timeout=600,
    )
    assert {"model.keras", "samples.png", "saved_model"} <= set(os.listdir(out))
