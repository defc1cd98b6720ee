import keras
import numpy as np
import pytest

import kgen
from kgen.datasets.toy import EIGHT_GAUSSIANS_CENTERS
from kgen.models.energy.joint_energy_model import JointEnergyModel
from tests.conftest import reloaded
from tests.conftest import to_numpy

SCALE = 1.5
RANGE = (-3.0, 3.0)
CENTERS = EIGHT_GAUSSIANS_CENTERS / SCALE


def classifier(num_classes=8, width=32):
    return keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(width, activation="swish"),
            keras.layers.Dense(width, activation="swish"),
            keras.layers.Dense(num_classes),
        ]
    )


def nearest_mode(points):
    distances = np.linalg.norm(points[:, None] - CENTERS[None], axis=-1)
    return distances.argmin(1)


def build(**kwargs):
    arguments = dict(
        sampler=kgen.samplers.LangevinSampler(
            step_size=0.01, num_steps=20, clip_range=RANGE
        ),
        replay_buffer_size=1000,
        regularization_weight=0.1,
        initial_range=RANGE,
        seed=0,
    )
    arguments.update(kwargs)
    model = JointEnergyModel(classifier(), **arguments)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    return model


@pytest.fixture(scope="module")
def labelled_points():
    points = kgen.datasets.load_toy("8gaussians", 1024, seed=0) / SCALE
    return points.astype("float32"), nearest_mode(points).astype("int32")


@pytest.fixture(scope="module")
def trained(labelled_points):
    points, labels = labelled_points
    keras.utils.set_random_seed(0)
    model = build()
    history = model.fit(points, labels, batch_size=128, epochs=30, verbose=0)
    return model, history


def test_classifies_and_models_the_inputs(trained, labelled_points):
    model, history = trained
    points, labels = labelled_points
    assert history.history["accuracy"][-1] > 0.95
    predicted = to_numpy(model.predict(points, verbose=0)).argmax(-1)
    assert (predicted == labels).mean() > 0.95
    # log p(x) is learnt too: a data point sits lower than a uniform
    # noise point in most pairs (the energies' AUC; 0.5 by chance).
    noise = np.random.default_rng(1).uniform(*RANGE, (1024, 2))
    data_energy = to_numpy(model.energy(points))
    noise_energy = to_numpy(model.energy(noise.astype("float32")))
    assert (data_energy[:, None] < noise_energy[None]).mean() > 0.8


def test_energies_are_the_log_sum_exp_of_the_logits(trained, labelled_points):
    model, _ = trained
    points, labels = labelled_points
    logits = to_numpy(model.logits(points[:16])).astype("float64")
    np.testing.assert_allclose(
        to_numpy(model.energy(points[:16])),
        -np.log(np.exp(logits).sum(-1)),
        rtol=1e-5,
        atol=1e-5,
    )
    np.testing.assert_allclose(
        to_numpy(model.class_energy(points[:16], labels[:16])),
        -logits[np.arange(16), labels[:16]],
        rtol=1e-5,
        atol=1e-5,
    )


def test_class_conditional_chains_go_to_their_class(trained):
    model, _ = trained
    for label in (0, 5):
        samples = to_numpy(
            model.sample(200, labels=label, num_steps=300, seed=label)
        )
        # Chance is 1/8.
        assert (nearest_mode(samples) == label).mean() > 0.8
    mixed = np.arange(200) % 8
    samples = to_numpy(model.sample(200, labels=mixed, num_steps=300, seed=2))
    assert (nearest_mode(samples) == mixed).mean() > 0.8


def test_generative_weight_zero_trains_a_plain_classifier(labelled_points):
    points, labels = labelled_points
    model = build(generative_weight=0.0)
    plain = classifier()
    plain.set_weights(model.classifier.get_weights())
    plain.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    buffer = to_numpy(model.replay_buffer)
    logs = model.train_on_batch(points[:128], labels[:128], return_dict=True)
    loss = plain.train_on_batch(points[:128], labels[:128])
    np.testing.assert_allclose(logs["loss"], loss, rtol=1e-5)
    for mine, theirs in zip(model.classifier.weights, plain.weights):
        np.testing.assert_allclose(
            to_numpy(mine), to_numpy(theirs), rtol=1e-4, atol=1e-6
        )
    # No chains ran.
    np.testing.assert_array_equal(to_numpy(model.replay_buffer), buffer)


def test_evaluate_reports_the_classifier(trained, labelled_points):
    model, _ = trained
    points, labels = labelled_points
    logs = model.evaluate(points, labels, verbose=0, return_dict=True)
    assert logs["accuracy"] > 0.95
    np.testing.assert_allclose(logs["loss"], logs["cross_entropy"])
    logits = to_numpy(model.logits(points)).astype("float64")
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -log_softmax[np.arange(len(labels)), labels].mean()
    np.testing.assert_allclose(logs["cross_entropy"], expected, rtol=1e-3)


def test_resumes_training_once_loaded(trained, labelled_points, tmp_path):
    model, _ = trained
    points, labels = labelled_points
    loaded = reloaded(model, tmp_path)
    loaded.fit(points[:128], labels[:128], batch_size=64, verbose=0)
    assert to_numpy(loaded.sample(4, num_steps=5, seed=0, labels=1)).shape == (
        4,
        2,
    )


def test_bad_input_raises(trained, labelled_points):
    model, _ = trained
    points, labels = labelled_points
    with pytest.raises(ValueError, match="labels"):
        model.fit(points, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="`y`"):
        model.fit(points, labels + 8, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="labels"):
        model.fit(
            points, labels, epochs=1, verbose=0, validation_data=points[:10]
        )
    with pytest.raises(ValueError, match="`labels`"):
        model.sample(4, labels=[0, 1])
    with pytest.raises(ValueError, match="`labels`"):
        model.sample(4, labels=9)
    with pytest.raises(ValueError, match="generative_weight"):
        JointEnergyModel(classifier(), generative_weight=-1.0)
    with pytest.raises(ValueError, match="num_classes"):
        JointEnergyModel(
            keras.Sequential([keras.Input((4, 2)), keras.layers.Dense(3)])
        )
    with pytest.raises(ValueError, match="num_classes >= 2"):
        JointEnergyModel(classifier(num_classes=1))
    with pytest.raises(ValueError, match="num_steps"):
        model.sample(4, num_steps=True)


@pytest.mark.tensorflow_only
def test_exports_logits_energy_and_sample(trained, labelled_points, tmp_path):
    from tests.export.test_saved_model import loaded_signature
    from tests.export.test_saved_model import serve

    model, _ = trained
    points, _ = labelled_points
    version_path = kgen.export.export_saved_model(
        model, str(tmp_path / "jem"), endpoints=model.serving_endpoints(300)
    )
    for signature, expected in (
        ("logits", model.logits(points[:8])),
        ("energy", model.energy(points[:8])),
    ):
        served = serve(version_path, signature, {"x": points[:8]})
        np.testing.assert_allclose(
            next(iter(served.values())), to_numpy(expected), atol=1e-5
        )
    start = np.random.default_rng(0).uniform(*RANGE, (400, 2))
    wanted = np.arange(400) % 8
    inputs = {
        "x": start.astype("float32"),
        "labels": wanted.astype("int32"),
        "seed": np.array([0, 1], "int32"),
    }

    sample = loaded_signature(version_path, "sample")
    (samples,) = sample(inputs).values()
    # The seed is an input: the same one draws the same chains.
    (again,) = sample(inputs).values()
    np.testing.assert_array_equal(again, samples)
    # The served chains follow the class energies (chance is 1/8).
    assert (nearest_mode(samples) == wanted).mean() > 0.8
