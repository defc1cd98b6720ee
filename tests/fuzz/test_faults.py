"""Inputs and faults a user meets by accident or an attacker by design:
huge images, special files, decompression bombs, bad values deep inside
the data, seeds out of range and a full disk. Each is refused with one
line (exit 2 from the CLI) before any large allocation, and leaves no
partial file behind.
"""

import contextlib
import os
import signal
import subprocess
import sys
import zlib

import keras
import numpy as np
import pytest
from PIL import Image

from kgen import cli
from kgen.cli import train_data
from kgen.datasets import lazy_images
from kgen.presets import architectures
from tests.conftest import REPO
from tests.conftest import to_numpy

# Argument checks in NumPy and Python: one backend proves them.
pytestmark = pytest.mark.tensorflow_only


@contextlib.contextmanager
def no_longer_than(seconds):
    """Fails a block that would hang (a FIFO read blocks for ever)."""

    def expired(signum, frame):
        raise AssertionError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_huge_images_are_refused_from_their_headers(tmp_path, monkeypatch):
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(2):
        Image.new("L", (3000, 3000)).save(folder / f"{index}.png")
    array = np.lib.format.open_memmap(
        tmp_path / "big.npy", mode="w+", dtype="float32", shape=(2, 4000, 4000)
    )
    del array

    def decoded(self, *args, **kwargs):
        raise AssertionError("pixels were decoded before the size check")

    monkeypatch.setattr(Image.Image, "load", decoded)
    with pytest.raises(ValueError, match="9,000,000 pixels.*1,048,576"):
        lazy_images.open_images(str(folder))
    with pytest.raises(ValueError, match="16,000,000 pixels"):
        lazy_images.open_images(str(tmp_path / "big.npy"))
    monkeypatch.undo()
    # A raised limit takes them.
    images = lazy_images.open_images(str(folder), max_image_pixels=9_000_000)
    assert len(images) == 2


def test_special_files_are_refused_without_reading_them(tmp_path):
    fifo_folder = tmp_path / "fifo"
    fifo_folder.mkdir()
    os.mkfifo(fifo_folder / "image.png")
    device_folder = tmp_path / "device"
    device_folder.mkdir()
    os.symlink("/dev/zero", device_folder / "image.png")
    os.symlink("/dev/zero", tmp_path / "zero.npy")
    with no_longer_than(20):
        with pytest.raises(ValueError, match="is a FIFO"):
            lazy_images.open_images(str(fifo_folder))
        with pytest.raises(ValueError, match="is a device"):
            lazy_images.open_images(str(device_folder))
        with pytest.raises(ValueError, match="is a device"):
            lazy_images.open_images(str(tmp_path / "zero.npy"))


def bomb_png(path, side):
    """A 1-bit PNG of `side` x `side` zeros: a few kB on disk, `side**2`
    pixels once decoded."""
    import struct

    def chunk(kind, data):
        body = kind + data
        return (
            struct.pack(">I", len(data))
            + body
            + struct.pack(">I", zlib.crc32(body))
        )

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (side + 7) // 8)
    data = b"".join(compressor.compress(row) for _ in range(side))
    data += compressor.flush()
    with open(path, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header))
        file.write(chunk(b"IDAT", data) + chunk(b"IEND", b""))


def test_a_decompression_bomb_is_refused_by_name(tmp_path):
    folder = tmp_path / "bomb"
    folder.mkdir()
    bomb_png(folder / "bomb.png", 20_000)  # 4e8 pixels, above PIL's limit
    assert os.path.getsize(folder / "bomb.png") < 200_000
    for limit in (lazy_images.MAX_IMAGE_PIXELS, 10**9):
        with pytest.raises(ValueError, match="bomb.png is refused|over"):
            lazy_images.open_images(str(folder), max_image_pixels=limit)
    code = cli.main(
        ["train", "vae", "--data", str(folder), "--out", str(tmp_path / "o")]
        + ["--max-image-pixels", str(10**9)]
    )
    assert code == 2
    assert not os.path.exists(tmp_path / "o")


def test_a_bad_value_deep_in_the_data_names_its_examples(tmp_path, capsys):
    images = np.random.default_rng(0).uniform(size=(200, 8, 8))
    images[150] = np.nan  # in the training rows, after the first batch
    np.save(tmp_path / "data.npy", images.astype("float32"))
    out = str(tmp_path / "run")
    code = cli.main(
        ["train", "vae", "--data", str(tmp_path / "data.npy")]
        + ["--epochs", "1", "--quiet", "--out", out]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--data holds values outside [0, 1]" in err and "150" in err
    assert not os.path.exists(out)


@pytest.mark.parametrize("seed", [2**63, 2**31, -1])
def test_seeds_out_of_every_backends_range_are_refused(tmp_path, seed, capsys):
    import kgen

    model = kgen.presets.load_preset("dcgan_digits")
    with pytest.raises(ValueError, match=r"`seed` must lie in \[0, 2\*\*31"):
        model.sample(2, seed=seed)
    out = str(tmp_path / "grid.png")
    command = ["generate", "dcgan_digits", "--seed", str(seed), "--out", out]
    assert cli.main(command) == 2
    assert "must lie in [0, 2**31 - 1]" in capsys.readouterr().err
    assert not os.path.exists(out)


@pytest.fixture
def full_disk(tmp_path):
    """A 3 MB tmpfs, 2.9 MB of it taken (mounting needs root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode()}")
    try:
        with open(mount / "filler", "wb") as file:
            file.write(b"\0" * 2_900_000)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_leaves_no_partial_output(full_disk, capsys):
    for command, out in (
        (["generate", "dcgan_digits", "-n", "5000"], "samples.npy"),
        (["export", "dcgan_digits"], "exported"),
    ):
        path = str(full_disk / out)
        arguments = command + (
            [path] if command[0] == "export" else ["--out", path]
        )
        assert cli.main(arguments) == 2, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "kgen" in err, err
        assert sorted(os.listdir(full_disk)) == ["filler"], command


def test_train_on_a_full_disk_exits_cleanly(full_disk):
    """The checkpoint write fails inside HDF5; the process must exit 2
    with one line, not crash at exit (it segfaulted, exit 139)."""
    done = subprocess.run(
        [sys.executable, "-m", "kgen", "train", "vae", "--epochs", "1"]
        + ["--quiet", "--out", str(full_disk / "run")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if "kgen train" in line]
    assert len(errors) == 1 and "No space left" in errors[0], errors
    assert sorted(os.listdir(full_disk)) == ["filler"]


def test_an_empty_dataset_is_refused_not_trained_on():
    import tensorflow as tf

    from tests.models import contract_cases

    case = contract_cases.CASES["VAE"]()
    empty = tf.data.Dataset.from_tensor_slices(case.x).take(0).batch(4)
    with pytest.raises(ValueError, match="`x` yielded no batches"):
        case.model.fit(empty, epochs=2, verbose=0)
    assert case.model.fit(case.x, verbose=0).history["loss"]


def mid_epoch_faults(x):
    """`(name, make_data, message)`: 64 examples like `x` (4x4 images in
    [0, 1]) whose batch 2 goes bad after two good ones, in each form `fit`
    takes besides arrays."""
    import tensorflow as tf

    x = np.resize(np.asarray(x, "float32"), (64,) + np.shape(x)[1:])
    nan, wide = x.copy(), x.copy()
    nan[40] = np.nan
    wide[36] = 3.0

    class Batches(keras.utils.PyDataset):
        def __init__(self, data):
            super().__init__()
            self.data = data

        def __len__(self):
            return 4

        def __getitem__(self, index):
            return (self.data[16 * index : 16 * (index + 1)],)

    def shrinking():
        for index in range(4):
            yield (x[:16] if index < 2 else x[:16, :2, :2],)

    return [
        (
            "tf.data NaN",
            lambda: tf.data.Dataset.from_tensor_slices(nan).batch(16),
            r"`x \(batch 2\)` contains 16 non-finite values",
        ),
        (
            "PyDataset out of range",
            lambda: Batches(wide),
            r"`x \(batch 2\)` values must lie in \[0.0, 1.0\]",
        ),
        (
            "generator changes shape",
            shrinking,
            r"`x \(batch 2\)` must have shape \(4, 4, 1\)",
        ),
    ]


@pytest.mark.parametrize("index", range(3), ids=lambda i: f"fault{i}")
def test_a_batch_that_goes_bad_mid_epoch_is_refused_by_index(index):
    """A dataset's values are seen batch by batch: a NaN, a value out of
    range or a changed shape after two good batches was trained on, or
    failed deep in a step."""
    from tests.models import contract_cases

    case = contract_cases.CASES["VAE"]()
    _, make_data, message = mid_epoch_faults(case.x)[index]
    with pytest.raises(ValueError, match=message):
        case.model.fit(make_data(), epochs=1, verbose=0)


def test_dataset_labels_out_of_range_are_refused_by_batch():
    import tensorflow as tf

    from tests.models import contract_cases

    case = contract_cases.CASES["DiffusionModel"]()
    labels = np.asarray(case.y).copy()
    labels[-1] = 99
    data = tf.data.Dataset.from_tensor_slices((case.x, labels)).batch(4)
    last = (len(labels) - 1) // 4
    with pytest.raises(ValueError, match=rf"`x \(batch {last}\)\[1\]`"):
        case.model.fit(data, epochs=1, verbose=0)
    good = tf.data.Dataset.from_tensor_slices((case.x, case.y)).batch(4)
    case.model.fit(good, validation_data=good, epochs=1, verbose=0)


def test_a_samples_file_is_checked_before_it_is_read(tmp_path, capsys):
    """A complex `.npy` lost its imaginary part; a wrong shape failed
    deep in the model."""
    complex_file = str(tmp_path / "complex.npy")
    np.save(complex_file, np.zeros((2, 8, 8, 1), "complex64"))
    wrong_file = str(tmp_path / "wrong.npy")
    np.save(wrong_file, np.zeros((2, 5, 5, 1), "float32"))
    detect = ["watermark", "detect", "flow_matching_mnist"]
    for path, message in (
        (complex_file, "must hold real numbers"),
        (wrong_file, "holds an array of shape (2, 5, 5, 1)"),
    ):
        assert cli.main(detect + [path, "--key", "7"]) == 2
        assert message in capsys.readouterr().err


def test_a_bit_watermark_names_images_of_another_size():
    import kgen

    model = kgen.watermarks.BitWatermark(
        kgen.networks.watermark_encoder((28, 28, 1), 8),
        kgen.networks.watermark_extractor((28, 28, 1), 8),
        seed=0,
    )
    model.compile(optimizer="adam")
    images = np.random.default_rng(0).uniform(size=(4, 8, 8, 1))
    with pytest.raises(ValueError, match=r"must have shape \(28, 28, 1\)"):
        model.fit(images.astype("float32"), verbose=0)


def test_generate_refuses_more_samples_than_its_budget(tmp_path, capsys):
    """Issue 44: `kgen generate -n 10000000` died of an OOM traceback."""
    out = str(tmp_path / "samples.npy")
    command = ["generate", "dcgan_digits", "-n", "10000000", "--out", out]
    assert cli.main(command) == 2
    err = capsys.readouterr().err
    assert "`-n 10000000` samples take 2,560,000,000 bytes" in err, err
    assert "--max-output-bytes" in err and err.count("\n") == 1
    assert not os.path.exists(out)


def test_generate_draws_in_chunks_from_one_seed(tmp_path, monkeypatch):
    import kgen

    monkeypatch.setattr(cli.generate, "SAMPLE_CHUNK", 4)
    out = str(tmp_path / "samples.npy")
    command = ["generate", "dcgan_digits", "-n", "10", "--out", out]
    assert cli.main(command + ["--seed", "3"]) == 0
    chunked = np.load(out)
    model = kgen.presets.load_preset("dcgan_digits")
    generator = keras.random.SeedGenerator(3)
    expected = [model.sample(n, seed=generator) for n in (4, 4, 2)]
    np.testing.assert_array_equal(
        chunked, np.concatenate([to_numpy(e) for e in expected])
    )
    # Up to a chunk, what one call gives.
    np.testing.assert_array_equal(
        chunked[:4], to_numpy(model.sample(4, seed=3))
    )


def test_the_held_out_examples_stay_within_their_memory_budget(tmp_path):
    # A tenth, at most 1,000, at most 256 MiB as float32: 21 RGB images
    # of 1024x1024 (12 MiB each), wherever the data has more.
    assert lazy_images.validation_count(500, (1024, 1024, 3)) == 21
    assert lazy_images.validation_count(500, (28, 28, 1)) == 50
    assert lazy_images.validation_count(1_000_000, (8, 8)) == 1000
    assert lazy_images.validation_count(1, (8, 8)) == 0
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(40):
        Image.new("RGB", (64, 64), (index, 0, 0)).save(folder / f"{index}.png")
    args = cli.build_parser().parse_args(
        ["train", "vae", "--data", str(folder), "--image-size", "64"]
        + ["--out", str(tmp_path / "o")]
    )
    preset = architectures.architecture("vae")
    with pytest.MonkeyPatch.context() as patch:
        # Three held-out images' worth, of the four a tenth would hold.
        patch.setattr(lazy_images, "MAX_VALIDATION_BYTES", 3 * 64 * 64 * 12)
        (x_train, labels), (x_test, _), shape, _ = train_data.training_data(
            args, preset, 32
        )
    assert labels is None  # images alone
    assert len(x_test) == 3 and len(x_train) == 37 and shape == (64, 64, 3)
