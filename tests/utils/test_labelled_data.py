import keras
import numpy as np
import pytest
import tensorflow as tf

from kgen.utils import labelled_data

X = np.arange(12, dtype="float32").reshape(6, 2)
Y = np.array([0, 1, 2, 0, 1, 2])


def pack(x, y):
    return {"images": x, "labels": y}, None


def batches(data):
    return [(b["images"].tolist(), b["labels"].tolist()) for (b,) in data]


def expected():
    return [(X[i : i + 3].tolist(), Y[i : i + 3].tolist()) for i in (0, 3)]


def test_tf_dataset_batches_are_packed():
    dataset = tf.data.Dataset.from_tensor_slices((X, Y)).batch(3)
    packed = labelled_data.map_batches(dataset, pack)
    assert batches(packed.as_numpy_iterator()) == expected()


def test_generator_batches_are_packed_with_sample_weights():
    def generator():
        for i in (0, 3):
            yield X[i : i + 3], Y[i : i + 3], np.ones(3)

    packed = list(labelled_data.map_batches(generator(), pack))
    assert [len(batch) for batch in packed] == [3, 3]
    assert packed[1][0]["labels"].tolist() == [0, 1, 2]
    assert packed[1][1] is None


class Batches(keras.utils.PyDataset):
    def __len__(self):
        return 2

    def __getitem__(self, index):
        return X[3 * index : 3 * index + 3], Y[3 * index : 3 * index + 3]


def test_py_dataset_keeps_its_length_and_is_packed():
    packed = labelled_data.map_batches(Batches(), pack)
    assert isinstance(packed, keras.utils.PyDataset)
    assert len(packed) == 2
    assert batches(packed[i] for i in range(2)) == expected()


def test_batches_without_labels_and_unknown_loaders_raise():
    unlabelled = iter([X[:3]])
    with pytest.raises(ValueError, match="without labels"):
        next(labelled_data.map_batches(unlabelled, pack, "x"))
    with pytest.raises(TypeError, match="`validation_data`.*generator"):
        labelled_data.map_batches(object(), pack, "validation_data")
