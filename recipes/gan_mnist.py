"""DCGAN or WGAN-GP on MNIST -> `dcgan_mnist`, `wgan_gp_mnist`.

    KGEN_DATA_DIR=../shared/data python recipes/gan_mnist.py dcgan
    KGEN_DATA_DIR=../shared/data python recipes/gan_mnist.py wgan_gp
    python recipes/update_presets.py dcgan_mnist  # JAX, torch references

The networks and optimizers are `kgen.presets`' `dcgan_mnist_untrained`
and `wgan_gp_mnist_untrained` (also `benchmarks/gan_mnist.py`'s); this
script trains longer on all 60,000 training
images and scores 1,000 samples (seed 1) two ways: FID on the original
TF-2015 Inception weights against 1,000 test images, beside FID(1,000
training images, the same test images), the floor at this sample size;
and the class histogram assigned by the `mnist_classifier` preset
(`recipes/mnist_classifier.py`: run it first). Writes
kgen/presets/files/<model>_mnist/.
"""

import time

import keras
import model_card  # recipes/model_card.py, beside this script
import numpy as np
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

parser = recipe_steps.recipe_parser(__doc__)
parser.add_argument("model", choices=["dcgan", "wgan_gp"])
parser.add_argument("--epochs", type=int, default=8)
args = parser.parse_args()

# === Config ===
name = f"{args.model}_mnist"
description = {
    "dcgan": "A DCGAN (non-saturating loss, 64-dimensional latent)",
    "wgan_gp": "A WGAN-GP (gradient penalty 10, 2 critic steps per "
    "generator step, 64-dimensional latent)",
}[args.model] + (
    " on MNIST: sample(n) gives 28x28x1 images in [-1, 1]; generate(z) "
    "maps latents to images as kgen.models."
    + {"dcgan": "GAN", "wgan_gp": "WGANGP"}[args.model]
    + "."
)
seed = 0
latent_dim = 64
batch_size = 64
epochs = args.epochs
num_samples = 1000  # scored; FID's floor is measured at the same size
num_subset = 200  # the first samples' FID, re-measured by the large test
sample_seed = 1
classifier_preset = "mnist_classifier"
optimizers = {
    "dcgan": {"optimizer": "Adam", "learning_rate": 2e-4, "beta_1": 0.5},
    "wgan_gp": {
        "optimizer": "Adam",
        "learning_rate": 1e-4,
        "beta_1": 0.0,
        "beta_2": 0.9,
    },
}[args.model]
preset = model_card.preset_folder(name)
command = (
    f"KGEN_DATA_DIR=../shared/data python recipes/gan_mnist.py {args.model}"
    + ("" if epochs == 8 else f" --epochs {epochs}")
)

# === Data === (tanh generator: pixels in [-1, 1])
keras.utils.set_random_seed(seed)
(x_train, _), (x_test, _) = kgen.datasets.load("mnist", value_range=(-1, 1))
if args.smoke:  # a minute end to end, written to /tmp
    x_train, epochs, num_samples, num_subset = x_train[:256], 1, 20, 10
    preset = model_card.SMOKE / name
    classifier_preset = str(model_card.SMOKE / "mnist_classifier")

# === Model ===
model = kgen.presets.build_architecture(
    f"{args.model}_mnist_untrained", seed=seed, latent_dim=latent_dim
)

# === Training ===
run = recipe_steps.timed_fit(
    model,
    x_train,
    batch_size=batch_size,
    epochs=epochs,
    callbacks=[keras.callbacks.TerminateOnNaN()],
    verbose=2,
)


# === Evaluation ===
def fid_and_classes(model, reference):
    """FID of `num_samples` samples (seed `sample_seed`) and of their first
    `num_subset` against `reference` (the statistics of the first
    `num_samples` test images), and the classifier's class fractions."""
    samples = model.sample(num_samples, seed=sample_seed)
    classifier = kgen.presets.load_preset(classifier_preset)
    labels = kgen.metrics.predicted_labels(samples, classifier, (-1, 1))
    counts = np.bincount(labels, minlength=10)
    fid, fid_subset = (
        kgen.metrics.fid_of_images(drawn, reference, value_range=(-1, 1))
        for drawn in (samples, samples[:num_subset])
    )
    return fid, fid_subset, counts / num_samples


start = time.time()
# The test images' Inception statistics, computed once for the three FIDs.
fid_metric = kgen.metrics.FrechetInceptionDistance(value_range=(-1, 1))
fid_metric.set_reference(x_test[:num_samples])
reference = fid_metric.reference_statistics()
fid, fid_subset, fractions = fid_and_classes(model, reference)
fid_floor = kgen.metrics.fid_of_images(
    x_train[:num_samples], reference, value_range=(-1, 1)
)
eval_time = time.time() - start
evaluation = (
    f"recipes/gan_mnist.py `fid_and_classes`: model.sample({num_samples}, "
    f"seed={sample_seed}); the first {num_subset} samples' value "
    "re-measured by pytest -m large tests/presets/test_mnist_presets.py"
)
metrics = {
    "fid_inception": model_card.metric(
        fid,
        command,
        f"FID (TF-2015 Inception pool3) of {num_samples} samples against the "
        f"first {num_samples} test images; the floor at this size, "
        f"FID(first {num_samples} training images, the same test images), "
        f"is {fid_floor:.2f}",
        evaluation=evaluation,
        eval_wall_time_s=round(eval_time, 1),
        subset={"num_samples": num_subset, "value": fid_subset},
    ),
    "fid_inception_floor": model_card.metric(
        fid_floor,
        command,
        f"FID(first {num_samples} training images, first {num_samples} test "
        "images): what a perfect model scores at this sample size",
    ),
    "max_class_fraction": model_card.metric(
        fractions.max(),
        command,
        f"the largest share of one class among the {num_samples} samples, "
        "as labelled by the mnist_classifier preset (bar: 0.2); "
        f"class fractions 0-9: {[round(float(f), 3) for f in fractions]}",
        class_fractions=fractions.tolist(),
    ),
    "classes_present": model_card.metric(
        (fractions > 0).sum(),
        command,
        f"classes with at least one of the {num_samples} samples "
        "(mnist_classifier's labels)",
    ),
}
print(
    f"{name}: FID {fid:.2f} (floor {fid_floor:.2f}), classes "
    f"{np.round(fractions, 3).tolist()}"
)

# === Preset ===
card = {
    "data": model_card.mnist_data(
        train="all 60,000 training images, scaled to [-1, 1]",
        test=f"the first {num_samples} test images (FID reference)",
        value_range=(-1, 1),
    ),
    "training": model_card.training_section(
        command,
        run,
        optimizers={"generator": optimizers, "discriminator": optimizers},
        config={"latent_dim": latent_dim, "filters": 32, "seed": seed},
        networks=f"kgen.presets.build_architecture("
        f"'{args.model}_mnist_untrained')",
    ),
    "metrics": metrics,
    "headline_metrics": [
        "fid_inception",
        "fid_inception_floor",
        "max_class_fraction",
    ],
    "paper": {
        "reference": "the issue's bar: FID reported; all 10 classes "
        "present in 1,000 samples and none above 20%",
    },
}
model_card.write(model, preset, name, description, card, run.wall_time)
