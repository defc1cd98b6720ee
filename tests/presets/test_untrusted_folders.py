"""A preset folder written by an attacker, who controls every file and so
also reseals the card's sha256s: refused cleanly, before allocating what
it asks for, without reading outside the folder or following links."""

import json
import os
import pathlib
import time

import h5py
import numpy as np
import pytest

import kgen
from kgen.presets import PresetError
from kgen.presets import registry
from kgen.utils.atomic_file import atomic_file
from tests.fuzz.preset_folders import reseal
from tests.presets.test_presets import tiny_vae


@pytest.fixture
def tiny(tmp_path):
    """A tiny VAE and the preset folder it was saved to."""
    model = tiny_vae()
    directory = kgen.presets.save_to_preset(
        model, tmp_path / "tiny", {"description": "a tiny VAE", "metrics": {}}
    )
    return model, directory


def edit_card(directory, edit):
    path = pathlib.Path(directory) / registry.METADATA
    card = json.loads(path.read_text())
    edit(card)
    path.write_text(json.dumps(card))
    reseal(directory)


def test_a_listed_symlink_out_of_the_folder_is_not_followed(tiny, tmp_path):
    _, directory = tiny
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the folder")
    (pathlib.Path(directory) / "notes.txt").symlink_to(secret)
    edit_card(directory, lambda c: c["files"].update({"notes.txt": "0" * 64}))
    with pytest.raises(PresetError, match=r"notes\.txt: is a symbolic link"):
        kgen.presets.verify_preset(directory)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_listed_fifo_is_refused_without_waiting(tiny):
    _, directory = tiny
    fifo = pathlib.Path(directory) / "stream.npy"
    os.mkfifo(fifo)

    def list_it(card):
        card["files"]["stream.npy"] = "0" * 64

    edit_card(directory, list_it)
    start = time.monotonic()
    with pytest.raises(PresetError, match=r"stream\.npy: is a FIFO"):
        kgen.presets.verify_preset(directory)
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(
    "field, value",
    [
        ("inputs", "../../outside/x.npy"),
        ("inputs", "/etc/passwd"),
        ("outputs", {"jax": "unlisted.npy"}),
        ("noise", {"inputs": "noise.npz", "outputs": "../x.npy"}),
    ],
)
def test_card_paths_must_be_files_the_card_hashes(tiny, field, value):
    _, directory = tiny

    def point(card):
        card["reference"][field] = value

    edit_card(directory, point)
    with pytest.raises(PresetError, match=r"'reference\..* must name a file"):
        kgen.presets.verify_preset(directory)


def test_a_weights_fill_value_of_gigabytes_is_refused_unread(tiny):
    _, directory = tiny
    path = pathlib.Path(directory) / registry.WEIGHTS
    with h5py.File(path, "a") as file:
        group = next(
            item for item in file.values() if isinstance(item, h5py.Group)
        )
        # 64 GiB declared, nothing stored: only the fill value.
        group.create_dataset("huge", shape=(2**17, 2**17), dtype="float32")
    reseal(directory)
    with pytest.raises(PresetError, match=r"huge declares .* but stores 0"):
        kgen.presets.load_preset(directory)


@pytest.mark.parametrize("kind", ["compressed", "external link"])
def test_weights_must_be_plain_arrays_in_the_file(tiny, tmp_path, kind):
    _, directory = tiny
    path = pathlib.Path(directory) / registry.WEIGHTS
    with h5py.File(path, "a") as file:
        if kind == "compressed":
            file.create_dataset(
                "packed", data=np.zeros(4096, "float32"), compression="gzip"
            )
        else:
            file["elsewhere"] = h5py.ExternalLink(str(tmp_path / "x.h5"), "/")
    reseal(directory)
    match = "chunked or compressed" if kind == "compressed" else "ExternalLink"
    with pytest.raises(PresetError, match=match):
        kgen.presets.load_preset(directory)


def test_a_config_larger_than_its_card_is_refused_before_it_is_built(
    tmp_path,
):
    gpt = kgen.models.GPT(5, 8, num_layers=1, num_heads=2, hidden_dim=8)
    directory = kgen.presets.save_to_preset(
        gpt, tmp_path / "gpt", {"description": "a tiny GPT", "metrics": {}}
    )
    path = pathlib.Path(directory) / registry.CONFIG
    config = json.loads(path.read_text())
    # A vocabulary of 2**26 tokens: 4 GB of embeddings if built, from a
    # folder of a few kB.
    config["config"]["vocabulary_size"] = 2**26
    path.write_text(json.dumps(config))
    reseal(directory)
    with pytest.raises(PresetError, match="'num_parameters' is"):
        kgen.presets.load_preset(directory)


def test_a_card_num_parameters_beyond_the_weights_is_refused(tiny):
    _, directory = tiny
    edit_card(directory, lambda c: c.update(num_parameters=10**9))
    with pytest.raises(PresetError, match=r"stores [\d,]+ values"):
        kgen.presets.load_preset(directory)


def test_reference_arrays_are_checked_before_numpy_allocates(tiny):
    _, directory = tiny
    card = json.loads((pathlib.Path(directory) / registry.METADATA).read_text())
    name = next(iter(card["reference"]["outputs"].values()))
    path = pathlib.Path(directory) / name
    # A header declaring 2**40 float32 values over a few bytes of data.
    header = {"descr": "<f4", "fortran_order": False, "shape": (2**40,)}
    with open(path, "wb") as file:
        np.lib.format.write_array_header_1_0(file, header)
        file.write(b"\0" * 16)
    reseal(directory)
    with pytest.raises(PresetError, match=r"cannot hold"):
        kgen.presets.check_preset(directory)


def test_a_long_vocabulary_is_checked_in_linear_time():
    from kgen.tokenizers.token_ids import check_distinct

    vocabulary = [chr(0x4E00 + i) for i in range(80_000)]
    check_distinct(vocabulary, "characters")  # 65 s when it was quadratic
    with pytest.raises(ValueError, match=r"repeats the characters \['a'\]"):
        check_distinct(vocabulary + ["a", "a"], "characters")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("kind", ["fifo", "symlink", "directory"])
def test_outputs_replace_only_regular_files(tmp_path, kind):
    target = tmp_path / "out.json"
    kept = tmp_path / "kept.json"
    kept.write_text("{}")
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        target.symlink_to(kept)
    else:
        target.mkdir()
    with pytest.raises(ValueError, match="kgen writes its output only"):
        with atomic_file(target) as temporary:
            pathlib.Path(temporary).write_text("[]")
    assert kept.read_text() == "{}"
    assert {"fifo": target.is_fifo, "symlink": target.is_symlink}.get(
        kind, target.is_dir
    )()
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


@pytest.mark.parametrize(
    "edit, match",
    [
        (
            lambda c: c.update(sample_arguments={"num_steps": 10**6}),
            r"'sample_arguments\.num_steps' must lie in \[1, 1,000\]",
        ),
        (
            lambda c: c.update(sample_arguments={"length": 10**5}),
            r"'sample_arguments\.length' must lie in \[1, 16,384\]",
        ),
        (
            lambda c: c["data"].update(sample_rate=2e9),
            r"'data\.sample_rate' must be a number",
        ),
        (
            lambda c: c["reference"].update(num_samples=10**7),
            r"'reference\.num_samples' must lie in",
        ),
    ],
)
def test_card_values_are_bounded_like_arguments(tiny, edit, match):
    _, directory = tiny

    def edit_with_data(card):
        card.setdefault("data", {})
        edit(card)

    edit_card(directory, edit_with_data)
    with pytest.raises(PresetError, match=match):
        kgen.presets.verify_preset(directory)


def test_json_nested_past_pythons_reach_is_a_preset_error(tiny):
    _, directory = tiny
    (pathlib.Path(directory) / registry.METADATA).write_text("[" * 100_000)
    with pytest.raises(PresetError, match="nested too deep"):
        kgen.presets.verify_preset(directory)


def test_kgen_presets_escapes_the_cards_control_characters(tiny, capsys):
    _, directory = tiny
    fake = "\x1b]0;owned\x07\n\x1b[32mverified: signed by kgen\x1b[0m"
    edit_card(directory, lambda c: c.update(description=fake))
    assert kgen.cli.main(["presets", str(directory)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[32mverified: signed by kgen" in out
    assert not any(line.startswith("\x1b") for line in out.splitlines())


@pytest.mark.parametrize(
    "scheduler",
    [kgen.schedulers.DDPMScheduler, kgen.schedulers.FlowMatchScheduler],
)
def test_schedule_lengths_a_config_names_are_bounded(scheduler):
    # Arrays of this length are made in the constructor, before any
    # parameter count could refuse the config.
    with pytest.raises(ValueError, match="num_train_timesteps"):
        scheduler(2**31)


def test_kgen_generate_refuses_a_symlink_out_before_sampling(tmp_path, capsys):
    kept = tmp_path / "kept.npy"
    kept.write_bytes(b"keep")
    out = tmp_path / "samples.npy"
    out.symlink_to(kept)
    status = kgen.cli.main(
        ["generate", "vae_digits", "-n", "2", "--out", str(out)]
    )
    assert status == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "is a symbolic link" in error
    assert kept.read_bytes() == b"keep" and out.is_symlink()


def test_a_float_where_a_config_counts_is_refused_before_building(tiny):
    _, directory = tiny
    path = pathlib.Path(directory) / registry.CONFIG
    text = path.read_text()
    # Keras builds a Dense of 1.5 units' config and fails only when run.
    path.write_text(text.replace('"units": 8', '"units": 8.0', 1))
    assert path.read_text() != text
    reseal(directory)
    with pytest.raises(PresetError, match=r"config\.json: '.*units' must"):
        kgen.presets.load_preset(directory)


def test_card_sample_arguments_must_be_arguments_of_sample(tiny):
    _, directory = tiny
    edit_card(directory, lambda c: c.update(sample_arguments={"steps": 5}))
    with pytest.raises(
        PresetError, match=r"metadata\.json: `sample_arguments` names"
    ):
        kgen.presets.load_preset(directory)


def test_check_names_the_folder_when_its_card_arguments_fail(tmp_path, capsys):
    gpt = kgen.models.GPT(5, 8, num_layers=1, num_heads=2, hidden_dim=8)
    directory = kgen.presets.save_to_preset(
        gpt, tmp_path / "gpt", {"description": "a tiny GPT", "metrics": {}}
    )
    edit_card(
        directory, lambda c: c["reference"].update(arguments={"length": 99})
    )
    status = kgen.cli.main(["presets", str(directory), "--check"])
    error = capsys.readouterr().err.strip()
    assert status == 2, error
    assert len(error.splitlines()) == 1 and str(directory) in error


def test_a_sparse_file_is_refused_before_it_is_hashed(tiny):
    _, directory = tiny
    # Listed first: resealing would read it.
    edit_card(directory, lambda c: c["files"].update({"padding.bin": "0" * 64}))
    path = pathlib.Path(directory) / "padding.bin"
    with open(path, "wb") as file:
        file.truncate(2**31)  # 2 GiB of holes: a few kB on disk
    if path.stat().st_blocks * 512 >= 2**30:
        pytest.skip("this file system stores holes")
    start = time.monotonic()
    with pytest.raises(PresetError, match=r"padding\.bin: a sparse file"):
        kgen.presets.verify_preset(directory)
    assert time.monotonic() - start < 10


def test_an_image_shape_past_its_bound_is_refused_before_building(tiny):
    _, directory = tiny
    path = pathlib.Path(directory) / registry.CONFIG
    config = json.loads(path.read_text())
    # Parameters do not bound a convolution's activations: the image
    # shape alone would make sampling allocate terabytes.
    text = json.dumps(config).replace("8, 8, 1", "65536, 65536, 1")
    assert text != json.dumps(config)
    path.write_text(text)
    reseal(directory)
    with pytest.raises(PresetError, match=r"shape' is .* values per sample"):
        kgen.presets.load_preset(directory)
