import hashlib
import os
import pickle
import zipfile

import keras
import numpy as np
import pytest

import kgen
from kgen.metrics.feature_metric import shared_fid_inception
from kgen.metrics.fid_inception import FID_INCEPTION_FILENAME
from kgen.metrics.fid_inception import FID_INCEPTION_SHA256
from kgen.metrics.fid_inception import fid_inception_v3
from kgen.metrics.fid_inception import find_weights
from kgen.utils.torchscript_reader import read_tensors
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

WEIGHTS = os.path.join(
    os.environ.get("KGEN_DATA_DIR", ""), FID_INCEPTION_FILENAME
)
NUM_TENSORS = 376
NUM_PARAMETERS = 21_802_784

requires_weights = pytest.mark.skipif(
    not os.path.isfile(WEIGHTS),
    reason=f"{FID_INCEPTION_FILENAME} not in $KGEN_DATA_DIR",
)


@pytest.fixture(scope="module")
def model():
    if not os.path.isfile(WEIGHTS):
        pytest.skip(f"{FID_INCEPTION_FILENAME} not in $KGEN_DATA_DIR")
    return shared_fid_inception()


def test_every_metric_of_a_process_shares_one_network(model):
    assert shared_fid_inception(WEIGHTS) is model
    metrics = [kgen.metrics.FrechetInceptionDistance() for _ in range(2)]
    for metric in metrics:
        metric.update_state(real_images=np.zeros((2, 8, 8, 1), "float32"))
    assert all(metric._inception is model for metric in metrics)


@pytest.fixture(scope="module")
def torchscript():
    torch = pytest.importorskip("torch")
    if not os.path.isfile(WEIGHTS):
        pytest.skip(f"{FID_INCEPTION_FILENAME} not in $KGEN_DATA_DIR")
    return torch.jit.load(WEIGHTS, map_location="cpu").eval()


@pytest.fixture(scope="module")
def images():
    """Two random 299x299 RGB images in the FID convention x / 128 - 1."""
    pixels = np.random.default_rng(0).integers(0, 256, (2, 299, 299, 3))
    return (pixels / 128.0 - 1.0).astype("float32")


def test_features_match_torchscript(model, torchscript, images):
    import torch

    # The TorchScript forward takes NCHW already in x / 128 - 1 and applies
    # no scaling of its own; the same pixels go to both networks.
    with torch.no_grad():
        expected = torchscript(
            torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
        ).numpy()
    features = to_numpy(model.predict_on_batch(images))
    assert features.shape == (2, 2048)
    np.testing.assert_allclose(features, expected, rtol=0, atol=1e-4)
    # Features are non-negative (post-ReLU averages) and not degenerate.
    assert features.min() >= 0 and features.std() > 0.1


def test_model_is_frozen(model, images):
    assert model.count_params() == NUM_PARAMETERS
    assert not model.trainable_weights
    assert model.output_shape == (None, 2048)
    # Batch normalisation keeps its stored statistics even in training mode,
    # so the network can sit inside a training loop unchanged.
    x = images[:1]
    np.testing.assert_allclose(
        to_numpy(model(x, training=True)),
        to_numpy(model(x, training=False)),
        rtol=0,
        atol=1e-6,
    )


def test_average_pooling_excludes_padding():
    # The port relies on Keras' "same" average pooling dividing border
    # windows by the number of real pixels (as the TF graph does).
    x = np.random.default_rng(1).normal(size=(1, 5, 6, 2)) + 3.0
    pooled = to_numpy(
        keras.layers.AveragePooling2D(3, strides=1, padding="same")(
            x.astype("float32")
        )
    )
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    counts = np.pad(np.ones_like(x), ((0, 0), (1, 1), (1, 1), (0, 0)))

    def window_sum(a):
        return sum(
            a[:, i : i + 5, j : j + 6] for i in range(3) for j in range(3)
        )

    expected = window_sum(padded) / window_sum(counts)
    np.testing.assert_allclose(pooled, expected, rtol=1e-5, atol=1e-5)


@requires_weights
def test_reader_counts_and_order():
    tensors = read_tensors(WEIGHTS)
    assert len(tensors) == NUM_TENSORS
    assert sum(array.size for _, array in tensors) == NUM_PARAMETERS
    assert all(array.dtype == np.float32 for _, array in tensors)
    first = [(name, array.shape) for name, array in tensors[:4]]
    assert first == [
        ("net.layers.conv.weight", (32, 3, 3, 3)),
        ("net.layers.conv.beta", (32,)),
        ("net.layers.conv.mean", (32,)),
        ("net.layers.conv.var", (32,)),
    ]
    assert tensors[-1][0] == "net.layers.mixed_10.tower_2_conv.var"


def test_reader_matches_torch(torchscript):
    tensors = read_tensors(WEIGHTS)
    parameters = list(torchscript.named_parameters())
    assert [name for name, _ in tensors] == [name for name, _ in parameters]
    for (name, array), (_, parameter) in zip(tensors, parameters):
        np.testing.assert_array_equal(array, parameter.detach().numpy(), name)


def test_reader_strides_offsets_and_dtypes(tmp_path):
    torch = pytest.importorskip("torch")

    class Views(torch.nn.Module):
        def __init__(self):
            super().__init__()
            base = torch.arange(24, dtype=torch.float64).reshape(4, 6)
            # Two views of one storage: a transpose (strides) and a slice
            # (offset and strides); plus other dtypes.
            self.register_buffer("transposed", base.t())
            self.register_buffer("sliced", base[1:, 2:5])
            self.register_buffer("every_other", torch.arange(7)[::2])
            self.register_buffer("halves", torch.linspace(0, 1, 3).half())
            self.weight = torch.nn.Parameter(torch.randn(2, 3))

        def forward(self, x):
            return x

    module = torch.jit.script(Views())
    path = str(tmp_path / "views.pt")
    torch.jit.save(module, path)
    expected = dict(module.named_parameters()) | dict(module.named_buffers())
    tensors = read_tensors(path)
    assert [name for name, _ in tensors] == list(expected)
    for name, array in tensors:
        reference = expected[name].detach().numpy()
        assert array.dtype == reference.dtype, name
        np.testing.assert_array_equal(array, reference, name)


def test_reader_refuses_foreign_globals(tmp_path):
    # A pickle naming any other callable (here os.getcwd) is refused before
    # anything is called.
    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("evil/data.pkl", pickle.dumps(os.getcwd, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="Refusing"):
        read_tensors(path)


def test_reader_rejects_non_zip(tmp_path):
    path = tmp_path / "plain.pt"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a TorchScript file"):
        read_tensors(path)


def test_bad_checksum_raises(tmp_path):
    path = tmp_path / FID_INCEPTION_FILENAME
    path.write_bytes(b"corrupt download")
    with pytest.raises(ValueError, match=FID_INCEPTION_SHA256) as info:
        find_weights(path)
    # The message names the actual digest too.
    assert hashlib.sha256(b"corrupt download").hexdigest() in str(info.value)
    with pytest.raises(ValueError, match="sha256"):
        fid_inception_v3(weights_path=tmp_path)


def test_missing_file_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    with pytest.raises(FileNotFoundError) as info:
        find_weights()
    message = str(info.value)
    assert FID_INCEPTION_FILENAME in message
    assert "KGEN_DATA_DIR" in message
    assert str(tmp_path / "keras_home" / "kgen") in message
    with pytest.raises(FileNotFoundError, match=FID_INCEPTION_FILENAME):
        find_weights(tmp_path / "elsewhere.pt")


@requires_weights
def test_search_order(tmp_path, monkeypatch):
    home = tmp_path / "keras_home" / "kgen"
    home.mkdir(parents=True)
    os.symlink(WEIGHTS, home / FID_INCEPTION_FILENAME)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    # $KGEN_DATA_DIR first, then $KERAS_HOME/kgen when it lacks the file.
    assert find_weights() == WEIGHTS
    monkeypatch.setenv("KGEN_DATA_DIR", str(tmp_path / "empty"))
    assert find_weights() == str(home / FID_INCEPTION_FILENAME)
    # An explicit folder or file wins.
    assert find_weights(os.path.dirname(WEIGHTS)) == WEIGHTS
