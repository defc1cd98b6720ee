"""`RecordedConfig`: an object's config is its constructor's arguments."""

import copy
import pickle

import h5py
import keras
import numpy as np
import pytest

import kgen
from kgen.utils.recorded_config import RecordedConfig
from kgen.utils.recorded_config import record_argument

# The holder of the arguments sits on a torch Module under torch.
pytestmark = pytest.mark.all_backends


class Plain(RecordedConfig):
    def __init__(self, size, scale=2.0, **kwargs):
        self.size = size


class Resolved(RecordedConfig):
    """Records the value its argument resolves to, not the one given."""

    def __init__(self, table):
        table = {"width": 4} if table == "default" else dict(table)
        record_argument(self, "table", table)


class Wrapper(RecordedConfig, keras.layers.Layer):
    def __init__(self, inner, factor=1, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner


def test_the_config_is_the_arguments_with_defaults_and_kwargs_spread():
    plain = Plain(3, extra="x")
    assert plain.get_config() == {"size": 3, "scale": 2.0, "extra": "x"}
    again = Plain.from_config(plain.get_config())
    assert again.get_config() == plain.get_config()


def test_arrays_tensors_and_numpy_scalars_become_python_values():
    config = Plain(
        np.arange(4).reshape(2, 2),
        scale=np.float32(0.5),
        weights=keras.ops.ones((2,)),
        pair=(1, 2),
    ).get_config()
    assert config["size"] == [[0, 1], [2, 3]]
    assert config["scale"] == 0.5 and type(config["scale"]) is float
    assert config["weights"] == [1.0, 1.0]
    assert config["pair"] == [1, 2]


def test_a_resolved_argument_is_recorded_in_place_of_the_given_one():
    assert Resolved("default").get_config() == {"table": {"width": 4}}


def test_a_layer_keeps_keras_base_config_and_nests_keras_objects():
    inner = kgen.layers.SinusoidalEmbedding(8, name="inner")
    wrapper = Wrapper(inner, factor=3, name="outer", dtype="float32")
    config = wrapper.get_config()
    assert config["name"] == "outer"
    assert config["trainable"] is True
    assert config["factor"] == 3
    assert config["inner"]["class_name"] == "SinusoidalEmbedding"
    rebuilt = Wrapper.from_config(config)
    assert rebuilt.name == "outer"
    assert rebuilt.inner.get_config() == inner.get_config()


def test_an_argument_that_cannot_be_saved_is_named():
    with pytest.raises(ValueError, match="`size` \\(object\\)"):
        Plain(object()).get_config()


def test_a_call_that_does_not_bind_records_nothing_and_says_so():
    with pytest.raises(TypeError):
        Plain()
    plain = Plain.__new__(Plain)
    with pytest.raises(NotImplementedError, match="without binding"):
        plain.get_config()


def test_a_copy_or_a_pickle_keeps_the_arguments_not_the_defaults():
    # copy and pickle rebuild an object by `cls.__new__(cls)`, which binds
    # no arguments (or only the defaults), then restore its state.
    sampler = kgen.samplers.TopKSampler(k=3)
    assert copy.deepcopy(sampler).get_config() == {"k": 3, "temperature": 1.0}
    tokenizer = kgen.tokenizers.WordTokenizer(["a", "b"], 4)
    unpickled = pickle.loads(pickle.dumps(tokenizer))
    assert unpickled.get_config() == tokenizer.get_config()


class Student(RecordedConfig, keras.Model):
    """Takes a teacher it does not hold (as a distilled model does)."""

    def __init__(self, teacher, **kwargs):
        super().__init__(**kwargs)
        self.head = keras.layers.Dense(1, name="head")

    def call(self, x):
        return self.head(x)


def test_a_model_saves_no_weights_of_an_argument_it_does_not_hold(tmp_path):
    # The arguments are held out of the way of Keras' saving, which looks
    # for weights in every attribute that is a layer or a container.
    teacher = keras.layers.Dense(3, name="teacher")
    teacher.build((None, 2))
    student = Student(teacher)
    student(np.zeros((1, 2), "float32"))
    path = str(tmp_path / "student.weights.h5")
    student.save_weights(path)
    with h5py.File(path) as file:
        arrays = []
        file.visititems(
            lambda name, item: (
                arrays.append(name) if isinstance(item, h5py.Dataset) else None
            )
        )
    assert sorted(arrays) == ["head/vars/0", "head/vars/1"]
    assert student.get_config()["teacher"]["class_name"] == "Dense"
