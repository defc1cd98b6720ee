"""`.safetensors` files read and written with NumPy, against the
safetensors package (and torch, for bfloat16) as the oracle."""

import json
import os
import struct

import numpy as np
import pytest

from kgen.utils.safetensors_file import read_safetensors
from kgen.utils.safetensors_file import safetensors_header
from kgen.utils.safetensors_file import write_safetensors
from kgen.utils.unreadable_file_error import UnreadableFileError

# NumPy alone proves these; backends do not enter.
pytestmark = pytest.mark.tensorflow_only

TENSORS = {
    "conv_in.weight": np.arange(24, dtype="float32").reshape(2, 3, 2, 2),
    "half": np.linspace(-2, 2, 5).astype("float16"),
    "steps": np.array([1, -2, 3], "int64"),
    "mask": np.array([[True, False]]),
    "scalar": np.array(7.5, "float64"),
    "empty": np.zeros((0, 4), "int8"),
}


def test_what_it_writes_it_reads_back_exactly(tmp_path):
    path = tmp_path / "model.safetensors"
    write_safetensors(path, TENSORS, {"format": "np"})
    tensors, metadata = read_safetensors(path)
    assert metadata == {"format": "np"}
    assert set(tensors) == set(TENSORS)
    for name, expected in TENSORS.items():
        assert tensors[name].dtype == expected.dtype, name
        assert tensors[name].shape == expected.shape, name
        np.testing.assert_array_equal(tensors[name], expected)
        assert tensors[name].flags.writeable


def test_files_cross_with_the_safetensors_package(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    theirs, ours = tmp_path / "theirs.safetensors", tmp_path / "ours"
    safetensors_numpy.save_file(TENSORS, str(theirs), {"by": "them"})
    write_safetensors(ours, TENSORS)
    tensors, metadata = read_safetensors(theirs)
    assert metadata == {"by": "them"}
    loaded = safetensors_numpy.load_file(str(ours))
    for name, expected in TENSORS.items():
        assert tensors[name].shape == loaded[name].shape == expected.shape
        np.testing.assert_array_equal(tensors[name], expected)
        np.testing.assert_array_equal(loaded[name], expected)


def test_bfloat16_reads_as_the_float32_it_stands_for(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    values = torch.tensor([[1.0, -2.5, 3.1415], [1e-3, 6e4, 0.0]])
    path = tmp_path / "bf16.safetensors"
    safetensors_torch.save_file({"w": values.to(torch.bfloat16)}, str(path))
    tensors, _ = read_safetensors(path)
    assert tensors["w"].dtype == np.float32
    np.testing.assert_array_equal(
        tensors["w"], values.to(torch.bfloat16).float().numpy()
    )


def raw_file(path, header, data=b"", declared=None):
    encoded = json.dumps(header).encode()
    length = len(encoded) if declared is None else declared
    path.write_bytes(struct.pack("<Q", length) + encoded + data)
    return path


F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize(
    "header, data, declared, reason",
    [
        (F32, b"", 2**62, "declares a 4,611,686,018,427,387,904-byte"),
        ({"w": F32}, b"\0" * 8, 10**6, "declares a 1,000,000-byte header"),
        ({"w": F32}, b"\0" * 4, None, r"outside the 4 bytes of data"),
        (
            {"w": dict(F32, shape=[3])},
            b"\0" * 8,
            None,
            "would take 12 bytes, but its offsets span 8",
        ),
        (
            {"w": F32, "v": dict(F32, data_offsets=[4, 12])},
            b"\0" * 12,
            None,
            "overlap",
        ),
        ({"w": dict(F32, dtype="F8")}, b"\0" * 8, None, "has dtype 'F8'"),
        ({"w": dict(F32, shape=[-2])}, b"\0" * 8, None, "not a list"),
        (
            {"w": {"dtype": "F32"}},
            b"",
            None,
            "is not dtype, shape, data_offsets",
        ),
        ({"__metadata__": {"a": 1}}, b"", None, "dict of strings"),
        ({"__metadata__": []}, b"", None, "dict of strings"),
        ({"w": dict(F32, dtype=[])}, b"\0" * 8, None, "has dtype \\[\\]"),
        ({"w": dict(F32, shape=[1] * 65)}, b"\0" * 8, None, "not a list"),
        (
            {"w": dict(F32, shape=[0, 10**30], data_offsets=[0, 0])},
            b"",
            None,
            "not a list of sizes",
        ),
        (
            {"w": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}},
            b"\x01\x02",
            None,
            "booleans other than 0 and 1",
        ),
        ([1, 2], b"", None, "not a JSON object"),
    ],
)
def test_a_malformed_file_is_named_and_nothing_declared_is_allocated(
    tmp_path, header, data, declared, reason
):
    path = raw_file(tmp_path / "bad.safetensors", header, data, declared)
    with pytest.raises(UnreadableFileError, match=reason) as error:
        read_safetensors(path)
    assert str(path) in str(error.value)
    if "booleans" not in reason:  # the one check that needs the data
        with pytest.raises(UnreadableFileError, match=reason):
            safetensors_header(path)


def test_the_header_alone_is_what_the_file_holds(tmp_path):
    path = tmp_path / "model.safetensors"
    write_safetensors(path, TENSORS)
    names = {
        "float32": "F32",
        "float16": "F16",
        "float64": "F64",
        "int64": "I64",
        "int8": "I8",
        "bool": "BOOL",
    }
    assert safetensors_header(path) == {
        name: (names[str(array.dtype)], array.shape)
        for name, array in TENSORS.items()
    }


def test_a_short_or_non_json_file_is_named(tmp_path):
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"\x01\x02")
    with pytest.raises(UnreadableFileError, match="fewer than its 8"):
        read_safetensors(short)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(struct.pack("<Q", 4) + b"\xff\xfe{[")
    with pytest.raises(UnreadableFileError, match="not JSON"):
        read_safetensors(garbage)
    deep = b"[" * 200_000
    nested = tmp_path / "nested.safetensors"
    nested.write_bytes(struct.pack("<Q", len(deep)) + deep)
    with pytest.raises(UnreadableFileError, match="not JSON"):
        read_safetensors(nested)
    twice = b'{"w": {}, "w": {}}'
    duplicate = tmp_path / "twice.safetensors"
    duplicate.write_bytes(struct.pack("<Q", len(twice)) + twice)
    with pytest.raises(UnreadableFileError, match="twice"):
        read_safetensors(duplicate)
    with pytest.raises(UnreadableFileError, match="folder"):
        read_safetensors(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_safetensors(tmp_path / "missing.safetensors")


def test_writing_refuses_what_the_format_cannot_hold(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(ValueError, match="str names"):
        write_safetensors(path, {"c": np.zeros(2, "complex64")})
    with pytest.raises(ValueError, match="metadata"):
        write_safetensors(path, {"w": np.zeros(2)}, {"n": 1})
    with pytest.raises(ValueError, match="__metadata__"):
        write_safetensors(path, {"__metadata__": np.zeros(2)})
    assert not path.exists()  # nothing written, not even in part


def test_only_a_regular_file_is_read(tmp_path):
    real = tmp_path / "real.safetensors"
    write_safetensors(real, TENSORS)
    link = tmp_path / "link.safetensors"
    link.symlink_to(real)
    fifo = tmp_path / "fifo.safetensors"
    os.mkfifo(fifo)  # would wait for a writer if opened plainly
    for path, kind in ((link, "symbolic link"), (fifo, "a FIFO")):
        for read in (read_safetensors, safetensors_header):
            with pytest.raises(UnreadableFileError, match=kind):
                read(path)
