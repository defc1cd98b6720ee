"""MNIST classifiers for domain metrics -> `mnist_classifier`,
`fashion_mnist_classifier`.

Gives the class histogram of a model's samples (mode coverage), the
accuracy of a class-conditional model on its requested labels, a domain
Inception Score and, through its "features" layer, a fast domain FID for
28x28 images (`kgen evaluate MODEL --features mnist_classifier`).

    KGEN_DATA_DIR=../shared/data python recipes/mnist_classifier.py
    python recipes/mnist_classifier.py --data fashion_mnist
    python recipes/update_presets.py mnist_classifier fashion_mnist_classifier
"""

import math

import keras
import model_card  # recipes/model_card.py, beside this script
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

parser = recipe_steps.recipe_parser(__doc__)
parser.add_argument(
    "--data", choices=("mnist", "fashion_mnist"), default="mnist"
)
args = parser.parse_args()

# === Config ===
name = f"{args.data}_classifier"
images = {"mnist": "MNIST digits", "fashion_mnist": "Fashion-MNIST images"}[
    args.data
]
description = (
    f"A small convolutional classifier of 28x28 {images} in "
    "[0, 1] (softmax over 10 classes, a 128-wide 'features' layer): the "
    "class histogram of a model's samples, a domain Inception Score and "
    "the feature extractor of a domain FID "
    f"(`kgen evaluate MODEL --features {name}`)."
)
seed = 0
filters = 32
features_dim = 128
learning_rate = 1e-3
batch_size = 128
epochs = {"mnist": 4, "fashion_mnist": 12}[args.data]
preset = model_card.preset_folder(name)
command = "KGEN_DATA_DIR=../shared/data python recipes/mnist_classifier.py" + (
    "" if args.data == "mnist" else f" --data {args.data}"
)

# === Data === (images in [0, 1])
keras.utils.set_random_seed(seed)
(x_train, y_train), (x_test, y_test) = kgen.datasets.load(args.data)
if args.smoke:
    x_train, y_train, epochs = x_train[:512], y_train[:512], 1
    preset = model_card.SMOKE / name

# === Model ===
model = kgen.networks.image_classifier(
    x_train.shape[1:], 10, filters=filters, features_dim=features_dim
)
steps = epochs * math.ceil(len(x_train) / batch_size)
optimizer, optimizer_card = model_card.cosine_adam(learning_rate, steps)
recipe_steps.compile_classifier(model, optimizer)

# === Training ===
run = recipe_steps.timed_fit(
    model, x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=2
)

# === Evaluation, preset ===
note = "model.evaluate on the 10,000 test images"
metrics = model_card.classifier_metrics(model, x_test, y_test, command, note)
card = {
    "data": model_card.mnist_data(
        train="the 60,000 training images",
        test="the 10,000 test images",
        value_range=(0, 1),
        dataset=args.data,
        labels=model_card.class_labels(args.data),
    ),
    "training": model_card.training_section(
        command,
        run,
        optimizers=dict(
            optimizer_card,
            loss="sparse categorical cross-entropy",
        ),
        config=dict(filters=filters, features_dim=features_dim, seed=seed),
    ),
    "metrics": metrics,
    "headline_metrics": ["test_accuracy"],
}
print(f"{name}: test accuracy {metrics['test_accuracy']['value']:.4f}")
model_card.write(model, preset, name, description, card, run.wall_time)
