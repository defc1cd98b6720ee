"""`kgen.backend.py_dataset_batches`: a `PyDataset` given to `fit` or
`evaluate` under TensorFlow, as Keras would read it, from a pipeline
that does not autotune."""

import random

import keras
import numpy as np
import pytest

from tests.backend.test_array_batches import assert_trained_alike
from tests.backend.test_array_batches import batches_of
from tests.backend.test_array_batches import small_vae
from tests.conftest import BACKEND
from tests.conftest import weights_of

pytestmark = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="TensorFlow's fit only"
)


class Batches(keras.utils.PyDataset):
    """Rows of `x` (and `y`) in batches of `batch_size`."""

    def __init__(self, x, y=None, batch_size=4, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows] if self.y is None else (self.x[rows], self.y[rows])


class Reshuffled(Batches):
    def on_epoch_end(self):
        pass


def test_batches_come_in_order_with_keras_spec_and_no_autotuning():
    from kgen.backend import py_dataset_batches

    x = np.arange(10 * 3, dtype="float64").reshape(10, 3)
    y = np.arange(10, dtype="int32")
    dataset = py_dataset_batches.py_dataset_batches(Batches(x, y))
    assert dataset.options().autotune.enabled is False
    assert int(dataset.cardinality()) == 3
    # Keras' spec: the batch dimension unknown, the others known, the
    # dtypes as the batches give them.
    x_spec, y_spec = dataset.element_spec
    assert x_spec.shape.as_list() == [None, 3] and x_spec.dtype == "float64"
    assert y_spec.shape.as_list() == [None] and y_spec.dtype == "int32"
    batches = batches_of(dataset)
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)
    # A lone array is packed as `(x,)`, as Keras packs it.
    (alone,), *_ = batches_of(py_dataset_batches.py_dataset_batches(Batches(x)))
    np.testing.assert_array_equal(alone, x[:4])


def test_a_dimension_the_first_two_batches_disagree_on_is_unknown():
    from kgen.backend import py_dataset_batches

    class Growing(Batches):
        def __getitem__(self, index):
            return np.zeros((2, index + 1), "float32")

    dataset = py_dataset_batches.py_dataset_batches(Growing(np.zeros(12)))
    assert dataset.element_spec[0].shape.as_list() == [None, None]
    assert [b[0].shape for b in batches_of(dataset)] == [(2, 1), (2, 2), (2, 3)]


def test_shuffle_draws_a_batch_order_per_epoch_from_python_random():
    from kgen.backend import py_dataset_batches

    x = np.arange(40, dtype="float32")[:, None]
    dataset = py_dataset_batches.py_dataset_batches(
        Batches(x, batch_size=4), shuffle=True
    )
    random.seed(5)
    first = [int(b[0][0, 0]) // 4 for b in batches_of(dataset)]
    second = [int(b[0][0, 0]) // 4 for b in batches_of(dataset)]
    random.seed(5)
    expected = list(range(10))
    random.shuffle(expected)
    assert first == expected
    assert sorted(second) == list(range(10)) and second != first


def test_only_py_datasets_keras_reads_in_this_thread_are_batched():
    from kgen.backend import py_dataset_batches

    x = np.zeros((8, 2), "float32")
    assert py_dataset_batches.can_batch(Batches(x), {})
    assert not py_dataset_batches.can_batch(x, {})
    assert not py_dataset_batches.can_batch(Batches(x, workers=2), {})
    assert not py_dataset_batches.can_batch(Reshuffled(x), {})
    assert not py_dataset_batches.can_batch(Batches(x[:0]), {})
    for name in ("class_weight", "steps_per_epoch", "validation_split"):
        assert not py_dataset_batches.can_batch(Batches(x), {name: 1})
    # A wrapper (as kgen's checks wrap data) has the hooks of what it wraps.
    from kgen.utils.labelled_data import MappedPyDataset

    def mapped(data):
        return MappedPyDataset(data, lambda index, batch: batch)

    assert py_dataset_batches.can_batch(mapped(Batches(x)), {})
    assert not py_dataset_batches.can_batch(mapped(Reshuffled(x)), {})
    # A part Keras reads as an optional (`None`) is left to Keras.
    assert py_dataset_batches.py_dataset_batches(_Constant((x, None))) is None


class _Constant(keras.utils.PyDataset):
    def __init__(self, batch):
        super().__init__()
        self.batch = batch

    def __len__(self):
        return 2

    def __getitem__(self, index):
        return self.batch


def fitted_vae(x, validation_x):
    model = small_vae()
    history = model.fit(
        Batches(x, batch_size=16),
        epochs=2,
        shuffle=False,
        validation_data=Batches(validation_x, batch_size=16),
        verbose=0,
    )
    return history.history, weights_of(model)


def test_fit_and_evaluate_train_and_score_as_keras_own_adapter_does(
    monkeypatch,
):
    from kgen.backend import py_dataset_batches

    x = np.random.default_rng(0).integers(0, 2, (50, 8, 8, 1))
    x, validation_x = np.split(x.astype("float32"), [40])
    with monkeypatch.context() as keras_batches:
        keras_batches.setattr(py_dataset_batches, "can_batch", lambda *_: 0)
        keras_history, keras_weights = fitted_vae(x, validation_x)
        keras_scores = small_vae().evaluate(
            Batches(x, batch_size=16), verbose=0, return_dict=True
        )
    built = []
    build = py_dataset_batches.py_dataset_batches
    monkeypatch.setattr(
        py_dataset_batches,
        "py_dataset_batches",
        lambda *args: built.append(args) or build(*args),
    )
    history, weights = fitted_vae(x, validation_x)
    scores = small_vae().evaluate(
        Batches(x, batch_size=16), verbose=0, return_dict=True
    )
    # The training batches, the validation batches, evaluate's batches.
    assert len(built) == 3
    assert_trained_alike((history, weights), (keras_history, keras_weights))
    for name, value in scores.items():
        np.testing.assert_allclose(value, keras_scores[name], rtol=1e-6)


def test_a_fit_under_a_backup_reads_its_batches_without_autotuning(
    monkeypatch, tmp_path
):
    import kgen
    from kgen.backend import py_dataset_batches

    built = []
    build = py_dataset_batches.py_dataset_batches
    monkeypatch.setattr(
        py_dataset_batches,
        "py_dataset_batches",
        lambda *args: built.append(build(*args)) or built[-1],
    )
    x = np.random.default_rng(2).integers(0, 2, (24, 8, 8, 1))
    small_vae().fit(
        x.astype("float32"),
        batch_size=8,
        epochs=1,
        callbacks=[kgen.callbacks.BackupAndRestore(str(tmp_path), 2)],
        verbose=0,
    )
    # kgen's epoch-ordered batches (which `kgen train` fits), wrapped in
    # the input checks.
    assert len(built) == 1
    assert built[0].options().autotune.enabled is False
