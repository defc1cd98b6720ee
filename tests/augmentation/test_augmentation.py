import keras
import numpy as np
import pytest

import kgen
from kgen.augmentation import class_balanced_samples
from kgen.augmentation import classification_accuracy_score
from tests.models import contract_cases as cases

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only


@pytest.fixture(scope="module")
def digits_split():
    (x_train, y_train), (x_test, y_test) = kgen.datasets.load("digits")
    return x_train[:600], y_train[:600], x_test, y_test


def test_real_labels_teach_the_classifier_and_shuffled_ones_do_not(
    digits_split,
):
    x_train, y_train, x_test, y_test = digits_split
    keras.utils.set_random_seed(0)
    accuracy = classification_accuracy_score(
        x_train, y_train, x_test, y_test, num_steps=200, seed=0
    )
    shuffled = np.random.default_rng(0).permutation(y_train)
    keras.utils.set_random_seed(0)
    chance = classification_accuracy_score(
        x_train, shuffled, x_test, y_test, num_steps=200, seed=0
    )
    # digits_classifier reaches 0.93 with a full training run.
    assert accuracy > 0.8 and chance < 0.3


@pytest.mark.parametrize(
    "change, match",
    [
        ({"train_labels": np.full(600, 10)}, "`train_labels` must lie in"),
        ({"test_labels": np.zeros(3)}, "`test_labels` must hold one"),
        ({"train_images": np.full((600, 8, 8, 1), 2.0)}, "`train_images`"),
        ({"test_images": np.zeros((297, 4, 4, 1))}, "`test_images`"),
        ({"num_steps": 0}, "`num_steps`"),
    ],
)
def test_bad_training_sets_are_named(digits_split, change, match):
    x_train, y_train, x_test, y_test = digits_split
    arguments = {
        "train_images": x_train,
        "train_labels": y_train,
        "test_images": x_test,
        "test_labels": y_test,
        "num_classes": 10,
    }
    arguments.update(change)
    with pytest.raises(ValueError, match=match):
        classification_accuracy_score(**arguments)


def test_class_balanced_samples_cycle_the_classes_in_unit_range():
    case = cases.diffusion_model()  # 3 classes, samples in [-1, 1]
    images, labels = class_balanced_samples(
        case.model,
        2,
        batch_size=4,
        sample_arguments=case.sample_kwargs,
    )
    assert images.shape == (6,) + cases.SHAPE and images.dtype == "float32"
    np.testing.assert_array_equal(labels, [0, 1, 2, 0, 1, 2])
    assert images.min() >= 0.0 and images.max() <= 1.0
    again, _ = class_balanced_samples(
        case.model, 2, batch_size=4, sample_arguments=case.sample_kwargs
    )
    np.testing.assert_array_equal(images, again)
    with pytest.raises(ValueError, match="does not sample by class"):
        class_balanced_samples(cases.vae(), 2)
