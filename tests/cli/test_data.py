"""`kgen data pack`: a folder, a class-subfolder tree and a dataset name
packed into shards that `from_shards` reads back."""

import argparse

import numpy as np
import pytest
from PIL import Image

from kgen.cli import data
from kgen.datasets.shards import from_shards

pytest.importorskip("grain")
pytest.importorskip("array_record")


def kgen_data(argv):
    """`kgen data ...` through the command's own parser (the same one
    `kgen.cli.main` builds)."""
    parser = argparse.ArgumentParser(prog="kgen")
    data.add_parser(parser.add_subparsers(dest="command", required=True))
    return data.pack(parser.parse_args(["data", *argv]))


def write_images(folder, pixels):
    folder.mkdir(parents=True)
    for index, image in enumerate(pixels):
        Image.fromarray(image, "L").save(folder / f"{index:03d}.png")


def test_packs_a_folder_without_labels(tmp_path, capsys):
    pixels = np.arange(6 * 4 * 4, dtype="uint8").reshape(6, 4, 4)
    write_images(tmp_path / "images", pixels)
    out = str(tmp_path / "shards")
    code = kgen_data(["pack", str(tmp_path / "images"), out, "--shards", "2"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "packed 6 images (4x4x1, no labels) into 2 shards" in printed
    batch = from_shards(out, 6, shuffle=False).batch(0, 0)
    np.testing.assert_array_equal(
        np.round(batch[..., 0] * 255), pixels[[0, 2, 4, 1, 3, 5]]
    )


def test_packs_class_subfolders_with_their_labels(tmp_path, capsys):
    pixels = np.arange(4 * 4 * 4, dtype="uint8").reshape(4, 4, 4)
    write_images(tmp_path / "images" / "cat", pixels[:2])
    write_images(tmp_path / "images" / "ant", pixels[2:])
    out = str(tmp_path / "shards")
    kgen_data(["pack", str(tmp_path / "images"), out, "--shards", "1"])
    assert "labels: 0=ant, 1=cat" in capsys.readouterr().out
    x, labels = from_shards(out, 4, shuffle=False).batch(0, 0)
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])
    np.testing.assert_array_equal(
        np.round(x[..., 0] * 255), pixels[[2, 3, 0, 1]]
    )


def test_packs_the_digits_train_split_with_labels(tmp_path, capsys):
    out = str(tmp_path / "digits")
    kgen_data(["pack", "digits", out, "--shards", "3"])
    assert "(8x8x1, 10 classes) into 3 shards" in capsys.readouterr().out
    x, labels = from_shards(out, 30).batch(0, 0)
    assert x.shape == (30, 8, 8, 1) and set(labels) <= set(range(10))
    with pytest.raises(FileExistsError, match="--overwrite"):
        kgen_data(["pack", "digits", out, "--shards", "3"])
    kgen_data(["pack", "digits", out, "--shards", "2", "--overwrite"])


def test_an_unknown_source_is_named(tmp_path):
    with pytest.raises(ValueError, match="SRC must be a folder.*'nothing'"):
        kgen_data(["pack", "nothing", str(tmp_path / "out"), "--shards", "1"])
