"""A VQ-VAE of MNIST with a class-conditional prior over its codes ->
`vqvae_mask_git_mnist`, `vqvae_pixel_cnn_mnist`.

    W=/tmp/mask_git; export KGEN_DATA_DIR=../shared/data
    python -m benchmarks.mask_git_mnist --stage vqvae --workdir $W
    taskset -c 0 python -m benchmarks.mask_git_mnist --stage prior \\
        --kind pixel_cnn --workdir $W &
    taskset -c 1 python -m benchmarks.mask_git_mnist --stage prior \\
        --kind mask_git --workdir $W
    python recipes/vqvae_mnist.py vqvae_mask_git_mnist --workdir $W
    python recipes/vqvae_mnist.py vqvae_pixel_cnn_mnist --workdir $W
    python recipes/update_presets.py vqvae_mask_git_mnist \\
        vqvae_pixel_cnn_mnist

`benchmarks/checkpoints/mask_git_mnist/` holds the trained weights of
that benchmark's run (without optimizer state), so `--workdir
benchmarks/checkpoints/mask_git_mnist` writes the presets without
retraining. The models are trained by `benchmarks/mask_git_mnist.py`'s
stages (the training records in the work directory go into the cards): a
VQ-VAE with 64 codes on a 14x14 grid, then one prior over its codes per
preset, a MaskGIT (8 parallel steps by default) or a gated PixelCNN (196
steps, one per code); the architectures are `kgen.presets.ARCHITECTURES`'
`vqvae_mnist_untrained`, `mask_git_mnist_codes_untrained` and
`pixel_cnn_mnist_codes_untrained`, which this script loads the weights
into. Both presets share the VQ-VAE. This script scores a preset as
`ddpm_mnist` is scored (FID of 1,000 samples with balanced labels against
1,000 test images, beside FID(train, test) at the same size, and the
`mnist_classifier` preset's accuracy on the requested labels; run
`recipes/mnist_classifier.py` first) and writes it.
"""

import json
import os

import keras
import model_card  # recipes/model_card.py, beside this script
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

# === Config ===
PRESETS = {
    "vqvae_mask_git_mnist": {
        "kind": "mask_git",
        "prior": "mask_git_mnist_codes_untrained",
        "description": (
            "A VQ-VAE of MNIST (64 codes on a 14x14 grid, each code 2x2 "
            "pixels) with a class-conditional MaskGIT prior over its codes "
            "(a 4-block bidirectional Transformer, width 96, cosine mask "
            "schedule, label dropout 0.1): sample(n, labels=...) gives "
            "28x28x1 images in [0, 1] (unclipped decoder output) in 8 "
            "parallel decoding steps at temperature 0.7 by default (the "
            "preset's sample_arguments; of 1.0, 0.7 and 0.5, 0.7 scored "
            "best on benchmarks/mask_git_mnist.py's 500 samples: FID 89.4 "
            "against 106.0 at 1.0); num_steps, temperature and "
            "guidance_scale go to the prior. vqvae.prior.inpaint fills in "
            "masked codes."
        ),
        "sample_arguments": {"num_steps": 8, "temperature": 0.7},
        "sampler": "MaskGIT-8 at temperature 0.7",
    },
    "vqvae_pixel_cnn_mnist": {
        "kind": "pixel_cnn",
        "prior": "pixel_cnn_mnist_codes_untrained",
        "description": (
            "A VQ-VAE of MNIST (64 codes on a 14x14 grid, each code 2x2 "
            "pixels) with a class-conditional gated PixelCNN prior over "
            "its codes (5 layers of 64 filters): sample(n, labels=...) "
            "gives 28x28x1 images in [0, 1] (unclipped decoder output), "
            "one network call per code (196). The same VQ-VAE as "
            "vqvae_mask_git_mnist."
        ),
        "sample_arguments": {},
        "sampler": "PixelCNN, 196 calls",
    },
}
seed = 0
num_samples = 1000
num_subset = 200  # re-measured by the large test
sample_seed = 1
classifier_preset = "mnist_classifier"

parser = recipe_steps.recipe_parser(__doc__, smoke=False)
parser.add_argument("name", choices=sorted(PRESETS))
parser.add_argument(
    "--workdir", required=True, help="benchmarks.mask_git_mnist's --workdir"
)
args = parser.parse_args()
name = args.name
config = PRESETS[name]
kind = config["kind"]
preset = model_card.preset_folder(name)
command = (
    "KGEN_DATA_DIR=../shared/data python recipes/vqvae_mnist.py "
    f"{name} --workdir W"
)

# === Data === (images in [0, 1], labels 0-9)
keras.utils.set_random_seed(seed)
(x_train, _), (x_test, _) = kgen.datasets.load("mnist")


# === Model === (the benchmark's trained VQ-VAE and prior)
def read_record(stage):
    """The benchmark's training record of `stage` (`vqvae` or a kind)."""
    with open(os.path.join(args.workdir, f"{stage}.json")) as f:
        return json.load(f)


def trained(architecture, stage, **arguments):
    """`architecture` with the weights the benchmark's `stage` saved."""
    model = kgen.presets.build_architecture(
        architecture, seed=0, compile=False, **arguments
    )
    model.load_weights(os.path.join(args.workdir, f"{stage}.weights.h5"))
    return model


vqvae_info, prior_info = read_record("vqvae"), read_record(kind)
vqvae = trained("vqvae_mnist_untrained", "vqvae")
prior = trained(config["prior"], kind, data_shape=vqvae_info["code_shape"])
model = kgen.models.VQVAE(
    vqvae.encoder, vqvae.decoder, vqvae.quantizer, prior=prior, seed=0
)


# === Evaluation === (the preset's sampler against the first
# `num_samples` test images; the classifier's accuracy on the labels)
scores = model_card.class_conditional_scores(
    model,
    x_train,
    x_test,
    sampler=config["sampler"],
    sample_arguments=config["sample_arguments"],
    sample_seed=sample_seed,
    num_samples=num_samples,
    num_subset=num_subset,
    classifier=classifier_preset,
    value_range=(0, 1),
)
reconstructions = vqvae.decode(vqvae.encode(x_test[num_samples:][:num_samples]))
fid_reconstructions = kgen.metrics.fid_of_images(
    keras.ops.clip(reconstructions, 0, 1), x_test[:num_samples]
)
print(f"{name}: the VQ-VAE's reconstructions FID {fid_reconstructions:.2f}")
metrics = model_card.class_conditional_metrics(scores, command)
metrics["fid_inception_reconstructions"] = model_card.metric(
    fid_reconstructions,
    command,
    f"FID of the VQ-VAE's reconstructions of the next {num_samples} test "
    "images (clipped to [0, 1]): the floor of any prior over these codes",
)

# === Preset ===
batch_size = 128
prior_steps = prior_info["epochs"] * -(-len(x_train) // batch_size)
description = config["description"]
card = {
    "data": model_card.mnist_data(
        train="all 60,000 training images in [0, 1], with labels (the prior's)",
        test=f"the first {num_samples} test images (FID reference)",
        value_range=(0, 1),
        labels="digit 0-9",
    ),
    "training": {
        **model_card.training_section(
            "KGEN_DATA_DIR=../shared/data python -m "
            "benchmarks.mask_git_mnist --stage vqvae --workdir W, then "
            "--stage prior --kind "
            f"{kind} --workdir W",
            epochs=prior_info["epochs"],
            steps=prior_steps,
            batch_size=batch_size,
            wall_time=vqvae_info["train_seconds"] + prior_info["train_seconds"],
            optimizers={
                "vqvae": {"optimizer": "Adam", "learning_rate": 2e-3},
                "prior": {"optimizer": "Adam", "learning_rate": 1e-3},
            },
            config={
                "code_shape": vqvae_info["code_shape"],
                "num_codes": vqvae_info["num_codes"],
                "vqvae_epochs": vqvae_info["epochs"],
                "prior_epochs": prior_info["epochs"],
                "seed": seed,
            },
            networks="kgen.presets.build_architecture of "
            f"'vqvae_mnist_untrained' and '{config['prior']}'",
            final_loss={
                "vqvae": vqvae_info["history"]["loss"],
                "prior": prior_info["final_loss"],
            },
            examples_seen={
                "vqvae": vqvae_info["epochs"] * len(x_train),
                "prior": prior_info["epochs"] * len(x_train),
            },
        ),
        # The two priors trained side by side, one per core.
        "hardware": "1 of 2 shared CPU cores (the other trained the "
        "other prior), no GPU",
        "backend": prior_info["trained_on"]["backend"],
    },
    "metrics": metrics,
    "headline_metrics": [
        "fid_inception",
        "fid_inception_floor",
        "fid_inception_reconstructions",
        "label_accuracy",
    ],
    "sample_arguments": config["sample_arguments"],
    "paper": {
        "reference": "the issue's bar: MaskGIT's FID at 4 / 8 / 12 "
        "steps against the PixelCNN prior over the same codes, MaskGIT-8 "
        ">= 10x faster (benchmarks/mask_git_mnist.py); Chang et al. "
        "2022 decode ImageNet 256x256 in 8 steps",
    },
}
seconds = vqvae_info["train_seconds"] + prior_info["train_seconds"]
model_card.write(model, preset, name, description, card, seconds)
