"""`pack_shards` and `from_shards`: every example once an epoch across
processes, an order fixed by `(seed, epoch)`, and damaged folders named."""

import json
import os
import sys
import tracemalloc

import keras
import numpy as np
import pytest

import kgen
from kgen.datasets import lazy_images
from kgen.datasets.sharded_images import ShardedImages
from kgen.datasets.shards import from_shards
from kgen.datasets.shards import pack_shards
from kgen.utils.unreadable_file_error import UnreadableFileError

pytest.importorskip("grain")
pytest.importorskip("array_record")

COUNT = 40


def numbered_images(count):
    """4x4 images whose first two pixels spell their example number."""
    images = np.zeros((count, 4, 4, 1), "uint8")
    images[:, 0, 0, 0] = np.arange(count) % 256
    images[:, 0, 1, 0] = np.arange(count) // 256
    return images


def numbers(x):
    pixels = np.round(np.asarray(x) * 255).astype(int)
    return pixels[:, 0, 0, 0] + 256 * pixels[:, 0, 1, 0]


@pytest.fixture
def packed(tmp_path):
    out = str(tmp_path / "shards")
    labels = np.arange(COUNT) % 10
    pack_shards(numbered_images(COUNT), out, num_shards=4, labels=labels)
    return out


def epoch_numbers(path, epoch, seed=0, num_processes=2):
    """Per process, the example numbers of `epoch` in batch order."""
    shares = []
    for process in range(num_processes):
        data = from_shards(
            path,
            8,
            seed=seed,
            process_id=process,
            num_processes=num_processes,
        )
        share = []
        for index in range(len(data)):
            x, labels = data.batch(epoch, index)
            assert x.dtype == "float32" and labels.dtype == "int32"
            assert x.shape == (4, 4, 4, 1)
            np.testing.assert_array_equal(labels, numbers(x) % 10)
            share.extend(numbers(x))
        shares.append(share)
    return shares


def test_two_processes_read_every_example_once_an_epoch(packed):
    first, second = epoch_numbers(packed, 0)
    assert sorted(first + second) == list(range(COUNT))
    # Process 0 reads shards 0 and 2: examples dealt round-robin.
    assert sorted(first) == [n for n in range(COUNT) if n % 4 in (0, 2)]
    next_first, next_second = epoch_numbers(packed, 1)
    assert sorted(next_first + next_second) == list(range(COUNT))
    assert next_first != first
    assert epoch_numbers(packed, 1) == [next_first, next_second]
    assert epoch_numbers(packed, 1, seed=1) != [next_first, next_second]


def test_the_index_describes_the_shards(packed):
    with open(os.path.join(packed, "index.json")) as file:
        index = json.load(file)
    assert index["format"] == "kgen-shards" and index["version"] == 1
    assert index["count"] == COUNT and index["example_shape"] == [4, 4, 1]
    assert index["labels"] is True and index["num_classes"] == 10
    assert [s["count"] for s in index["shards"]] == [10, 10, 10, 10]
    assert sorted(os.listdir(packed)) == [
        "index.json",
        *(f"shard-0000{i}-of-00004.array_record" for i in range(4)),
    ]
    data = from_shards(packed, 8)
    assert (data.count, data.example_shape, data.num_classes) == (
        COUNT,
        (4, 4, 1),
        10,
    )


def test_unequal_shares_run_the_same_number_of_batches(tmp_path):
    out = str(tmp_path / "shards")
    pack_shards(numbered_images(43), out, num_shards=3)
    # Process 0 holds shards 0 and 2 (29 examples), process 1 shard 1
    # (14): both run 14 // 4 batches, and leftovers are dropped.
    lengths = [
        len(from_shards(out, 8, process_id=p, num_processes=2))
        for p in range(2)
    ]
    assert lengths == [3, 3]
    data = from_shards(out, 8, process_id=0, num_processes=2)
    seen = np.concatenate([numbers(data.batch(0, k)) for k in range(3)])
    assert len(set(seen)) == 12


def test_a_batch_read_directly_is_the_one_fit_iterates(packed):
    data = from_shards(packed, 8, seed=3, process_id=1, num_processes=2)
    data.epoch_callback().on_epoch_begin(2)
    iterated = [numbers(data[k][0]) for k in range(len(data))]
    # A process started again resumes at batch 3 of epoch 2.
    resumed = from_shards(packed, 8, seed=3, process_id=1, num_processes=2)
    for k in range(3, len(data)):
        np.testing.assert_array_equal(
            numbers(resumed.batch(2, k)[0]), iterated[k]
        )
    with pytest.raises(IndexError):
        data[len(data)]


def test_without_shuffle_and_with_prepare(packed):
    data = from_shards(packed, 4, shuffle=False, prepare=lambda x: 2 * x - 1)
    x, _ = data.batch(5, 0)
    np.testing.assert_array_equal(numbers((x + 1) / 2), [0, 4, 8, 12])
    assert x.min() >= -1


def test_reading_holds_no_copy_of_the_dataset(tmp_path):
    count = 4096
    out = str(tmp_path / "shards")
    pack_shards(np.full((count, 16, 16, 3), 7, "uint8"), out, num_shards=2)
    data = from_shards(out, 64)
    stack, seen = [data], set()
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, np.ndarray):
            assert value.size < count, value.shape
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        elif hasattr(value, "__dict__"):
            stack.extend(vars(value).values())
    tracemalloc.start()
    for index in range(len(data)):
        data[index]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # A batch as float32 is 196 KB; the dataset as float32 12.6 MB.
    assert peak < 2 * 1024 * 1024, peak


@pytest.mark.parametrize(
    "damage, message",
    [
        ("remove", "shard-00001-of-00004.array_record is missing"),
        ("truncate", "shard-00001-of-00004.array_record holds .* bytes"),
    ],
)
def test_a_missing_or_truncated_shard_is_named(packed, damage, message):
    shard = os.path.join(packed, "shard-00001-of-00004.array_record")
    if damage == "remove":
        os.remove(shard)
    else:
        os.truncate(shard, os.path.getsize(shard) // 2)
    with pytest.raises(UnreadableFileError, match=message):
        from_shards(packed, 8, process_id=1, num_processes=2)
    # Process 0 does not read shard 1.
    from_shards(packed, 8, process_id=0, num_processes=2)


def test_an_altered_record_is_named(tmp_path):
    out = str(tmp_path / "shards")
    pack_shards(np.zeros((20, 4, 4, 1), "uint8"), out, num_shards=1)
    shard = os.path.join(out, "shard-00000-of-00001.array_record")
    contents = bytearray(open(shard, "rb").read())
    # The first record's pixels follow the file's header chunks.
    contents[contents.index(bytes(16))] ^= 0xFF
    open(shard, "wb").write(bytes(contents))
    data = from_shards(out, 20, shuffle=False)
    with pytest.raises(UnreadableFileError, match="shard-00000.* record 0"):
        data[0]
    with pytest.raises(UnreadableFileError, match="sha256 differs"):
        from_shards(out, 20, verify=True)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda index: "{not json", "is not JSON"),
        (lambda index: dict(index, format="other"), "not a 'kgen-shards'"),
        (lambda index: dict(index, count=41), "count 41, but the shards"),
        (lambda index: _rename_first(index, "../x.array_record"), "plain"),
        (lambda index: _rename_first(index, "a/x.array_record"), "plain"),
        (lambda index: _rename_first(index, "/etc/passwd"), "plain"),
    ],
)
def test_a_bad_index_is_named(packed, edit, message):
    file = os.path.join(packed, "index.json")
    with open(file) as handle:
        index = edit(json.load(handle))
    with open(file, "w") as handle:
        handle.write(index if isinstance(index, str) else json.dumps(index))
    with pytest.raises(UnreadableFileError, match=f"index.json.*{message}"):
        from_shards(packed, 8)


def _rename_first(index, name):
    index["shards"][0]["file"] = name
    return index


def test_a_folder_without_an_index_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="index.json does not exist"):
        from_shards(str(tmp_path), 8)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(batch_size=9, num_processes=2), "`batch_size` 9 must divide"),
        (dict(batch_size=10, num_processes=5), "4 shards for 5 processes"),
        (dict(batch_size=48, num_processes=2), "`batch_size` 48 is over"),
        (dict(batch_size=8, num_processes=2, process_id=2), "process_"),
    ],
)
def test_shares_that_cannot_run_are_refused(packed, kwargs, message):
    kwargs.setdefault("process_id", 0)
    with pytest.raises(ValueError, match=message):
        from_shards(packed, **kwargs)


def test_packing_refuses_a_full_folder_and_leaves_nothing_on_failure(
    packed, tmp_path
):
    images = numbered_images(COUNT)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        pack_shards(images, packed, num_shards=2)
    pack_shards(images[:8], packed, num_shards=2, overwrite=True)
    assert from_shards(packed, 8).count == 8

    class Failing:
        def __len__(self):
            return 600

        def __getitem__(self, rows):
            if rows[0] >= 256:
                raise OSError("disk gone")
            return np.zeros((len(rows), 4, 4, 1), "uint8")

    out = tmp_path / "failed"
    with pytest.raises(OSError, match="disk gone"):
        pack_shards(Failing(), str(out), num_shards=2)
    assert sorted(os.listdir(tmp_path)) == ["shards"]


def test_packing_an_image_folder_keeps_its_pixels(tmp_path):
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 256, (5, 6, 6, 3), "uint8")
    folder = tmp_path / "images"
    folder.mkdir()
    for index, image in enumerate(pixels):
        Image.fromarray(image).save(folder / f"{index}.png")
    out = str(tmp_path / "shards")
    pack_shards(lazy_images.open_images(str(folder)), out, num_shards=2)
    # Two shards of 3 and 2 examples: a process holds no batch of 6.
    with pytest.raises(ValueError, match="`batch_size` 6 is over"):
        from_shards(out, 6)
    batch = from_shards(out, 4, shuffle=False).batch(0, 0)
    np.testing.assert_array_equal(
        np.round(batch * 255).astype("uint8"), pixels[[0, 2, 4, 1]]
    )


def test_bad_images_and_labels_are_refused(tmp_path):
    out = str(tmp_path / "shards")
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        pack_shards(np.full((4, 2, 2), 2.0), out, num_shards=1)
    with pytest.raises(ValueError, match="`labels` must be 4 integer"):
        pack_shards(np.zeros((4, 2, 2)), out, num_shards=1, labels=[0, 1])
    with pytest.raises(ValueError, match="`num_shards` must be an int"):
        pack_shards(np.zeros((4, 2, 2)), out, num_shards=5)
    assert not os.path.exists(out)


def test_a_missing_grain_names_the_extra(packed, monkeypatch):
    monkeypatch.setitem(sys.modules, "grain", None)
    with pytest.raises(ImportError, match='pip install "kgen\\[data\\]"'):
        from_shards(packed, 8)


# JAX's multi-process jobs are what the shards are for; the rest is NumPy.
@pytest.mark.all_backends
def test_fit_trains_a_vae_on_streamed_shards(tmp_path):
    (x_train, _), _ = kgen.datasets.load("digits")
    out = str(tmp_path / "digits")
    pack_shards(x_train[:128], out, num_shards=2)
    data = from_shards(out, 32, seed=1)
    assert isinstance(data, ShardedImages)
    vae = kgen.models.VAE(
        encoder=kgen.networks.vae_encoder((8, 8, 1), latent_dim=2),
        decoder=kgen.networks.vae_decoder((8, 8, 1), latent_dim=2),
        latent_dim=2,
    )
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    epochs = []
    history = vae.fit(
        data,
        epochs=2,
        verbose=0,
        callbacks=[
            data.epoch_callback(),
            keras.callbacks.LambdaCallback(
                on_epoch_begin=lambda epoch, logs: epochs.append(data.epoch)
            ),
        ],
    )
    assert epochs == [0, 1]
    assert len(history.history["loss"]) == 2
    assert np.all(np.isfinite(history.history["loss"]))
