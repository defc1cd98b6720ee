"""A JEM (a classifier read as an energy model) on the 8x8 digits ->
`jem_digits`.

    KERAS_BACKEND=jax python recipes/jem_digits.py
    python recipes/update_presets.py jem_digits  # TF, torch references

Trains `kgen.models.JointEnergyModel` on the 1,500 training digits in
[0, 1]: a small convolutional classifier (swish, no normalisation, logits)
learns `log p(y | x)` by cross-entropy and `log p(x)` by contrastive
divergence against SGLD chains (20 steps of size 0.01, noise 0.01, a
2,000-chain replay buffer with 5% restarts, energy regularisation 0.1).
Beside it, the same network and schedule with `generative_weight=0` (a
plain classifier) is the baseline that JEM's accuracy and calibration are
compared with, as in the paper. Scored on the 297 test digits (accuracy,
expected calibration error) and by 1,000 class-conditional samples
(`sample(labels=...)`, 100 SGLD steps from uniform noise, seed 1): the
`digits_classifier` preset's accuracy on the requested labels and a domain
FID on its features against the test digits (run
`recipes/digits_classifier.py` first).
"""

import time

import keras
import model_card  # recipes/model_card.py, beside this script
import numpy as np
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

# === Config ===
name = "jem_digits"
description = (
    "A JEM on the 8x8 digits: a convolutional classifier (logits; 10 "
    "classes) that is also an energy-based model of its inputs, E(x) = "
    "-logsumexp f(x). predict(x) gives class logits; sample(n, "
    "labels=...) gives 8x8x1 images in [0, 1] by 100 SGLD steps from "
    "uniform noise (the preset's sample_arguments); energy and "
    "class_energy as kgen.models.JointEnergyModel."
)
seed = 0
learning_rate = 3e-4
batch_size = 64
epochs = 100
regularization_weight = 0.1
sampler_config = {
    "step_size": 0.01,
    "num_steps": 20,
    "noise_scale": 0.01,
    "clip_range": (0.0, 1.0),
}
replay_buffer_size = 2000
sampling = {"num_steps": 100}
num_samples = 1000
sample_seed = 1
calibration_bins = 10
judge_preset = "digits_classifier"
paper = {
    "reference": "Grathwohl et al., Your Classifier is Secretly an Energy "
    "Based Model, ICLR 2020 (CIFAR-10, WideResNet-28-10): JEM accuracy "
    "92.9% beside 95.8% for the same network as a plain classifier; "
    "expected calibration error 4.2% beside 6.3%; FID 38.4",
}
args = recipe_steps.recipe_parser(__doc__).parse_args()
preset = model_card.preset_folder(name)
command = f"KERAS_BACKEND={keras.backend.backend()} python recipes/{name}.py"

# === Data === (images in [0, 1], labels 0-9)
keras.utils.set_random_seed(seed)
(x_train, y_train), (x_test, y_test) = kgen.datasets.load("digits")
if args.smoke:  # a minute end to end, written to /tmp
    epochs, num_samples, sampling["num_steps"] = 2, 20, 5
    preset = model_card.SMOKE / name


# === Model ===
def energy_classifier():
    """The classifier whose logits are JEM's energies: smooth (swish)
    activations for the chains' gradients and no normalisation layers,
    whose batch statistics the chains would mix with the data's."""
    images = keras.Input(x_train.shape[1:], name="images")
    x = keras.layers.Conv2D(32, 3, padding="same", activation="swish")(images)
    for filters in (64, 64):
        x = keras.layers.Conv2D(
            filters, 3, strides=2, padding="same", activation="swish"
        )(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="swish")(x)
    return keras.Model(images, keras.layers.Dense(10)(x), name="classifier")


def build(generative_weight):
    model = kgen.models.JointEnergyModel(
        energy_classifier(),
        kgen.samplers.LangevinSampler(**sampler_config),
        generative_weight=generative_weight,
        replay_buffer_size=replay_buffer_size,
        regularization_weight=regularization_weight,
        initial_range=(0.0, 1.0),
        seed=seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return model


# === Training === (JEM, then the plain classifier: the same schedule)
def train(generative_weight):
    keras.utils.set_random_seed(seed)
    model = build(generative_weight)
    run = recipe_steps.timed_fit(
        model,
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        callbacks=[keras.callbacks.TerminateOnNaN()],
        verbose=2,
    )
    return model, run


model, run = train(1.0)
baseline, baseline_run = train(0.0)


# === Evaluation ===
def accuracy_and_calibration(model):
    """Test accuracy and expected calibration error (`calibration_bins`
    equal-width bins of the top-class probability)."""
    logits = keras.ops.convert_to_numpy(model.predict(x_test, verbose=0))
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_test
    bins = np.minimum(
        (confidence * calibration_bins).astype(int), calibration_bins - 1
    )
    calibration_error = sum(
        abs(correct[bins == b].mean() - confidence[bins == b].mean())
        * np.mean(bins == b)
        for b in range(calibration_bins)
        if np.any(bins == b)
    )
    return float(correct.mean()), float(calibration_error)


accuracy, calibration_error = accuracy_and_calibration(model)
baseline_accuracy, baseline_calibration_error = accuracy_and_calibration(
    baseline
)
labels = np.arange(num_samples) % 10
start = time.time()
samples = keras.ops.convert_to_numpy(
    model.sample(num_samples, seed=sample_seed, labels=labels, **sampling)
)
sample_time = time.time() - start
judge = kgen.presets.load_preset(judge_preset)
judged = np.argmax(judge.predict(samples, verbose=0), axis=-1)
label_accuracy = float(np.mean(judged == labels))
fid = kgen.metrics.FrechetInceptionDistance(
    feature_extractor=kgen.networks.classifier_features(judge),
    value_range=(0, 1),
)
fid.set_reference(x_test)
fid.update_state(generated_images=samples)
domain_fid = float(fid.result())
fid.reset_state()
fid.update_state(generated_images=x_train[:num_samples])
domain_fid_floor = float(fid.result())
print(
    f"{name}: accuracy {accuracy:.4f} (plain {baseline_accuracy:.4f}), ECE "
    f"{calibration_error:.4f} (plain {baseline_calibration_error:.4f}); "
    f"samples: label accuracy {label_accuracy:.3f}, domain FID "
    f"{domain_fid:.2f} (floor {domain_fid_floor:.2f})"
)
metrics = {
    "test_accuracy": model_card.metric(
        accuracy,
        command,
        "argmax of predict(x) on the 297 test digits",
        plain_classifier=baseline_accuracy,
    ),
    "test_expected_calibration_error": model_card.metric(
        calibration_error,
        command,
        f"on the 297 test digits, {calibration_bins} equal-width "
        "confidence bins",
        plain_classifier=baseline_calibration_error,
    ),
    "plain_classifier_test_accuracy": model_card.metric(
        baseline_accuracy,
        command,
        "the same network and schedule with generative_weight=0 (no "
        f"chains; {baseline_run.wall_time:.0f} s), on the 297 test digits",
    ),
    "sample_label_accuracy": model_card.metric(
        label_accuracy,
        command,
        f"the {judge_preset} preset's accuracy on the requested labels of "
        f"{num_samples} samples (labels arange(n) % 10, seed "
        f"{sample_seed}, {sampling['num_steps']} SGLD steps from noise)",
        sample_wall_time_s=round(sample_time, 1),
    ),
    "domain_fid": model_card.metric(
        domain_fid,
        command,
        f"FID on the {judge_preset} preset's features of the same "
        f"{num_samples} samples against the 297 test digits; floor (the "
        f"first {num_samples} training digits): {domain_fid_floor:.2f}",
        floor=domain_fid_floor,
    ),
}

# === Preset ===
card = {
    "data": model_card.digits_data((0, 1), labels=True),
    "training": model_card.training_section(
        command,
        run,
        optimizers={"optimizer": "Adam", "learning_rate": learning_rate},
        config={
            "sampler": {
                "LangevinSampler": {
                    **sampler_config,
                    "clip_range": list(sampler_config["clip_range"]),
                }
            },
            "replay_buffer_size": replay_buffer_size,
            "reinit_probability": 0.05,
            "regularization_weight": regularization_weight,
            "seed": seed,
        },
        networks=f"recipes/{name}.py `energy_classifier`",
    ),
    "metrics": metrics,
    "headline_metrics": [
        "test_accuracy",
        "plain_classifier_test_accuracy",
        "sample_label_accuracy",
        "domain_fid",
    ],
    "sample_arguments": sampling,
    "paper": paper,
}
model_card.write(model, preset, name, description, card, run.wall_time)
