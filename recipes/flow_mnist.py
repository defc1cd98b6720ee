"""Glow or RealNVP on dequantised MNIST -> `glow_mnist`, `real_nvp_mnist`.

    KGEN_DATA_DIR=../shared/data python recipes/flow_mnist.py glow
    python recipes/update_presets.py glow_mnist  # JAX, torch references

The flows are `kgen.presets`' `glow_mnist_untrained` and
`real_nvp_mnist_untrained` (also `benchmarks/flow_mnist_bpd.py`'s): Glow
with 2 levels of 4 steps (64-wide coupling networks) or RealNVP with 6
couplings, on uniformly dequantised 8-bit MNIST in [0, 1]. Trained for a
CPU budget of epochs with a cosine learning-rate decay and scored by the
test bits/dim bound on the first 1,000 test images (dequantisation noise
seed 1). The papers' 1.05 / 1.06 bits/dim come from hundreds of GPU
epochs: see the card. Writes kgen/presets/files/<model>_mnist/.
"""

import math

import keras
import model_card  # recipes/model_card.py, beside this script
import numpy as np
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

parser = recipe_steps.recipe_parser(__doc__)
parser.add_argument("model", choices=["glow", "realnvp"])
parser.add_argument("--epochs", type=int, default=6)
args = parser.parse_args()

# === Config ===
name = {"glow": "glow_mnist", "realnvp": "real_nvp_mnist"}[args.model]
model_class = {"glow": "Glow", "realnvp": "RealNVP"}[args.model]
architecture = f"{name}_untrained"
description = (
    f"A {model_class} flow on uniformly dequantised MNIST: sample(n) gives "
    "28x28x1 images (about [0, 1]; the preset samples at temperature 0.7, "
    "its sample_arguments); log_prob and bits_per_dim are exact (the "
    f"dequantisation bound) as kgen.models.{model_class}."
)
seed = 0
epochs = args.epochs
batch_size = 64
learning_rate = 1e-3
num_test = 1000
temperature = 0.7
paper = {"glow": 1.05, "realnvp": 1.06}[args.model]
preset = model_card.preset_folder(name)
command = (
    f"KGEN_DATA_DIR=../shared/data python recipes/flow_mnist.py {args.model}"
    + ("" if epochs == 6 else f" --epochs {epochs}")
)

# === Data === (images in [0, 1]; the model adds the uniform noise)
keras.utils.set_random_seed(seed)
(x_train, _), (x_test, _) = kgen.datasets.load("mnist")
x_test = x_test[:num_test]
if args.smoke:  # a minute end to end, written to /tmp
    x_train, epochs = x_train[:256], 1
    preset = model_card.SMOKE / name

# === Model ===
model = kgen.presets.build_architecture(architecture, seed=seed)
steps = epochs * math.ceil(len(x_train) / batch_size)
optimizer, optimizer_card = model_card.cosine_adam(learning_rate, steps)
model.compile(optimizer=optimizer)

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
bits = keras.ops.convert_to_numpy(model.bits_per_dim(x_test, seed=1))
bits_per_dim = float(np.mean(bits))
standard_error = float(np.std(bits) / math.sqrt(len(bits)))
print(f"{name}: test {bits_per_dim:.4f} bits/dim (paper {paper})")
metrics = {
    "test_bits_per_dim": model_card.metric(
        bits_per_dim,
        command,
        f"the dequantisation bound -log p(x + u) / (784 ln 2) + 8 on the "
        f"first {num_test} test images (noise seed 1), standard error "
        f"{standard_error:.4f}. Paper: {paper} bits/dim after hundreds of "
        f"GPU epochs; here {epochs} epochs on 2 CPU cores: bar (1.10) "
        f"missed by {bits_per_dim - 1.10:.2f}",
        evaluation="model.bits_per_dim(x_test[:1000], seed=1).mean(); "
        "re-measured by pytest -m large tests/presets/test_mnist_presets.py",
        standard_error=standard_error,
        paper=paper,
    ),
}

# === Preset ===
card = {
    "data": model_card.mnist_data(
        train="all 60,000 training images in [0, 1], dequantised with "
        "fresh uniform noise every step (num_bins=256)",
        test=f"the first {num_test} test images",
        value_range=(0, 1),
    ),
    "training": model_card.training_section(
        command,
        run,
        optimizers=optimizer_card,
        config={"seed": seed},
        networks=f"kgen.presets.build_architecture({architecture!r})",
    ),
    "metrics": metrics,
    "headline_metrics": ["test_bits_per_dim"],
    "sample_arguments": {"temperature": temperature},
    "paper": {
        "test_bits_per_dim": paper,
        "reference": {
            "glow": "Kingma & Dhariwal, Glow, NeurIPS 2018",
            "realnvp": "Dinh et al., Density estimation using Real "
            "NVP, ICLR 2017 (MNIST in the Glow paper's Table 2)",
        }[args.model],
    },
}
model_card.write(model, preset, name, description, card, run.wall_time)
