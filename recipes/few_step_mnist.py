"""Few-step class-conditional MNIST generators -> `flow_matching_mnist`,
`consistency_mnist`, `mean_flow_mnist`.

    KGEN_DATA_DIR=../shared/data KERAS_BACKEND=jax python -m \
        benchmarks.flow_matching_mnist --stage train --kind flow \
        --model F.weights.h5
    KGEN_DATA_DIR=../shared/data KERAS_BACKEND=jax python -m \
        benchmarks.consistency_mnist --stage train --kind distilled \
        --teacher F.weights.h5 --model CD.weights.h5
    KGEN_DATA_DIR=../shared/data python recipes/few_step_mnist.py \
        flow_matching_mnist --weights F.weights.h5
    KGEN_DATA_DIR=../shared/data python recipes/few_step_mnist.py \
        consistency_mnist --weights CD.weights.h5 --teacher F.weights.h5
    KGEN_DATA_DIR=../shared/data KERAS_BACKEND=jax python -m \
        benchmarks.one_step_mnist --stage train --model MF.weights.h5
    KGEN_DATA_DIR=../shared/data python recipes/few_step_mnist.py \
        mean_flow_mnist --weights MF.weights.h5
    python recipes/update_presets.py flow_matching_mnist consistency_mnist \
        mean_flow_mnist

The models are trained by the benchmarks' own `train` stage (one CPU core
each for about half an hour; the training record beside the weights, their
`.json`, goes into the card): `flow_matching_mnist` is
`benchmarks/flow_matching_mnist.py`'s rectified flow (a 274k-parameter
U-Net, 2,400 steps of batch 64, EMA weights) and `consistency_mnist` the
consistency model distilled from it by `benchmarks/consistency_mnist.py`;
`mean_flow_mnist` is `benchmarks/one_step_mnist.py`'s MeanFlow, trained
from scratch on both cores in three chunks (`--init`).
This script loads the trained weights, scores them as `ddpm_mnist` is
scored (FID of 1,000 samples with balanced labels against 1,000 test
images, beside FID(train, test) at the same size, and the
`mnist_classifier` preset's accuracy on the requested labels; run
`recipes/mnist_classifier.py` first) with the preset's own sampler
(`sample_arguments`), and writes the preset.
"""

import json

import keras
import model_card  # recipes/model_card.py, beside this script
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

# === Config ===
PRESETS = {
    "flow_matching_mnist": {
        "description": (
            "Class-conditional rectified flow (flow matching; U-Net of "
            "widths 16, 32, 32 with float timesteps, 274k parameters, "
            "logit-normal time sampling, label dropout 0.1) on MNIST: "
            "sample(n, labels=...) gives 28x28x1 images in [-1, 1] in 10 "
            "Euler steps by default (the preset's sample_arguments); any "
            "num_steps, scheduler='heun', guidance_scale "
            "(classifier-free), velocity and log_prob as "
            "kgen.models.FlowMatching."
        ),
        "sample_arguments": {"num_steps": 10, "scheduler": "euler"},
        "sampler": "Euler-10",
        "benchmark": "benchmarks/flow_matching_mnist.py",
        "paper": {
            "reference": "the issue's equal-budget bar: flow matching's "
            "Euler FID beside the DDPM-trained model's DDIM at 10 / 20 / "
            "50 calls (benchmarks/flow_matching_mnist.py: flow wins at "
            "each count on this budget)",
        },
    },
    "consistency_mnist": {
        "description": (
            "A class-conditional consistency model distilled from the "
            "flow_matching_mnist preset (the same 274k-parameter U-Net; "
            "Heun teacher steps on 18 Karras points, EMA target 0.95) on "
            "MNIST: sample(n, labels=...) gives 28x28x1 images in [-1, 1] "
            "in 2 network calls by default (the preset's "
            "sample_arguments); num_steps=1 for one call, as "
            "kgen.models.ConsistencyModel."
        ),
        "sample_arguments": {"num_steps": 2},
        "sampler": "two-step consistency sampling",
        "benchmark": "benchmarks/consistency_mnist.py",
        "paper": {
            "reference": "the issue's bar: one-step FID <= 2.0x and "
            "two-step FID <= 1.5x the teacher's 50-call FID (Song et al. "
            "2023, CD on CIFAR-10: 3.55 at one step); measured by "
            "benchmarks/consistency_mnist.py",
        },
    },
    "mean_flow_mnist": {
        "description": (
            "A class-conditional MeanFlow trained from scratch (no "
            "teacher) on MNIST: the flow_matching_mnist U-Net (widths 16, "
            "32, 32) with a step-size input, classifier-free guidance "
            "folded into training: sample(n, labels=...) gives 28x28x1 "
            "images in [-1, 1] in one network call by default (the "
            "preset's sample_arguments); num_steps=2 or 4 for more, as "
            "kgen.models.MeanFlow."
        ),
        "sample_arguments": {"num_steps": 1},
        "sampler": "one-call MeanFlow sampling",
        "benchmark": "benchmarks/one_step_mnist.py",
        "paper": {
            "reference": "the issue's bar: 1,000 one-call digits, the "
            "requested label found by an independent classifier in >= "
            "85%, FID below consistency_mnist's one-call FID (Geng et "
            "al. 2025, MeanFlow on ImageNet-256: one-call FID 3.43)",
        },
    },
}
# What follows `--stage train` in the benchmark command that trained it.
TRAIN_ARGUMENTS = {
    "flow_matching_mnist": "--kind flow --model F.weights.h5",
    "consistency_mnist": "--kind distilled --teacher F.weights.h5 "
    "--model CD.weights.h5",
    # Three chunks: 1,200 steps at guidance 1, then 1,500 from them at
    # 2, then 72 minutes (4,690 steps) more at 2.
    "mean_flow_mnist": "--train-steps 1200 --model MF1.weights.h5 && ... "
    "--stage train --init MF1.weights.h5 --train-steps 1500 "
    "--training-guidance-scale 2 --model MF2.weights.h5 && ... "
    "--stage train --init MF2.weights.h5 --train-steps 6000 "
    "--max-train-minutes 72 --training-guidance-scale 2 "
    "--model MF.weights.h5",
}
# Trained by the benchmarks: the first two one model per core, MeanFlow
# on both cores beside lighter jobs (tests, a smaller flow's training,
# a VAE's data preparation).
HARDWARE = {
    "flow_matching_mnist": "1 of 2 shared CPU cores (the other trained a "
    "second model), no GPU",
    "consistency_mnist": "1 of 2 shared CPU cores (the other trained a "
    "second model), no GPU",
    "mean_flow_mnist": "2 shared CPU cores (JAX), no GPU, beside lighter jobs",
}
seed = 0
num_samples = 1000
num_subset = 200  # re-measured by the large test
sample_seed = 1
classifier_preset = "mnist_classifier"

parser = recipe_steps.recipe_parser(__doc__, smoke=False)
parser.add_argument("name", choices=sorted(PRESETS))
parser.add_argument("--weights", required=True, help="the trained weights")
parser.add_argument("--teacher", help="consistency_mnist: the flow weights")
args = parser.parse_args()
name = args.name
config = PRESETS[name]
preset = model_card.preset_folder(name)
command = (
    f"KGEN_DATA_DIR=../shared/data python recipes/few_step_mnist.py {name} "
    "--weights W.weights.h5"
    + (" --teacher F.weights.h5" if name == "consistency_mnist" else "")
)

# === Data === (images in [-1, 1], labels 0-9)
keras.utils.set_random_seed(seed)
(x_train, _), (x_test, _) = kgen.datasets.load("mnist", value_range=(-1, 1))


# === Model === (the benchmark's trained weights and training record,
# `W.weights.h5` and `W.weights.h5.json`, in kgen's architecture)
def load_flow(path):
    """`flow_matching_mnist_untrained` at the trained widths, with the
    trained denoiser."""
    with open(path + ".json") as f:
        info = json.load(f)
    widths = tuple(info["widths"])
    model = kgen.presets.build_architecture(
        "flow_matching_mnist_untrained",
        seed=0,
        widths=widths,
        attention_levels=(len(widths) - 1,),
    )
    model.denoiser.load_weights(path)
    return model, info


def load_mean_flow(path):
    """The benchmark's MeanFlow (the preset U-Net with a step-size input)
    with the trained network; its record sums the training chunks."""
    with open(path + ".json") as f:
        info = json.load(f)
    widths = tuple(info["widths"])
    network = kgen.networks.unet_denoiser(
        (28, 28, 1),
        widths=widths,
        attention_levels=(len(widths) - 1,),
        num_classes=10,
        timestep_dtype="float32",
        step_size_input=True,
    )
    model = kgen.models.MeanFlow(
        network,
        training_guidance_scale=info["training_guidance_scale"],
        num_classes=10,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(info["learning_rate"]))
    model.denoiser.load_weights(path)
    info = dict(
        info,
        train_steps=info["total_train_steps"],
        train_seconds=info["total_train_seconds"],
    )
    return model, info


def load_distilled(path, teacher):
    """A consistency model distilled from `teacher` (its network copied
    into the student, as the distillation began), with the trained
    student network."""
    with open(path + ".json") as f:
        info = json.load(f)
    network = keras.models.clone_model(teacher.denoiser)
    network.set_weights(teacher.denoiser.get_weights())
    model = kgen.models.ConsistencyModel(
        network, teacher=teacher, num_classes=10, seed=0
    )
    model.compile(optimizer=keras.optimizers.Adam(info["learning_rate"]))
    model.network.load_weights(path)
    return model, info


if name == "flow_matching_mnist":
    model, info = load_flow(args.weights)
elif name == "mean_flow_mnist":
    model, info = load_mean_flow(args.weights)
else:
    if not args.teacher:
        parser.error("consistency_mnist needs --teacher")
    teacher, _ = load_flow(args.teacher)
    model, info = load_distilled(args.weights, teacher)


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
)
metrics = model_card.class_conditional_metrics(scores, command)

# === Preset ===
train_steps = info["train_steps"]
description = config["description"]
card = {
    "data": model_card.class_conditional_mnist_data(num_samples),
    "training": {
        **model_card.training_section(
            f"KGEN_DATA_DIR=../shared/data KERAS_BACKEND="
            f"{info['trained_on']['backend']} python -m "
            f"{config['benchmark'][:-3].replace('/', '.')} --stage train "
            + TRAIN_ARGUMENTS[name],
            epochs=-(-train_steps * info["batch_size"] // len(x_train)),
            steps=train_steps,
            batch_size=info["batch_size"],
            wall_time=info["train_seconds"],
            optimizers={
                "optimizer": "Adam",
                "learning_rate": info["learning_rate"],
                **(
                    {
                        "ema_momentum": info["ema_momentum"],
                        "weights": "the EMA weights",
                    }
                    if "ema_momentum" in info
                    else {}
                ),
            },
            config={"widths": info["widths"], "seed": seed},
            networks="the denoiser of kgen.presets.build_architecture("
            "'flow_matching_mnist_untrained')",
            final_loss=info["final_loss"],
        ),
        "hardware": HARDWARE[name],
    },
    "metrics": metrics,
    "headline_metrics": [
        "fid_inception",
        "fid_inception_floor",
        "label_accuracy",
    ],
    "sample_arguments": config["sample_arguments"],
    "paper": config["paper"],
}
model_card.write(model, preset, name, description, card, info["train_seconds"])
