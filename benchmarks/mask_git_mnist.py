"""MaskGIT against a PixelCNN prior over the same VQ-VAE codes of MNIST.

Three stages, each resumable and each writing into `--workdir`, so the
two priors can train side by side on one core each:

1. `--stage vqvae` trains `kgen.models.VQVAE` (64 EMA codes with
   dead-code restarts on a 14x14 grid: one halving, so each code covers
   2x2 pixels) for `--vqvae-epochs` on the MNIST train split in [0, 1],
   and stores its weights and the training split's code grids.
2. `--stage prior --kind pixel_cnn|mask_git` trains one class-conditional
   prior on the 60,000 training grids for `--prior-epochs` epochs (batch
   128, Adam 1e-3; `BackupAndRestore` resumes an interrupted run): a gated
   `PixelCNN` (one network call per code, 196 per grid, windowed to the
   rows its receptive field reaches) or a `MaskGIT` (a bidirectional
   Transformer, cosine mask schedule, label dropout 0.1). The two get the
   same images and, on one core, about the same training time per epoch.
3. `--stage score` draws `--num-samples` grids from each prior (balanced
   labels, seed 1, temperature 1, no guidance; MaskGIT at 4 / 8 / 12
   steps), decodes them with the VQ-VAE and scores the images by FID and
   KID (FID-Inception features) against the first 1,000 MNIST test images,
   with the requested-label accuracy of the `mnist_classifier` preset. The
   VQ-VAE's reconstructions of test images are the floor the priors can
   reach. Each prior samples the same batch twice; the second call, after
   tracing and compiling, is the one timed.
4. `--stage sampling` scores MaskGIT-8 with other sampling settings
   (temperature 0.7 and 0.5, guidance 1.0) the same way, untimed
   (`mask_git_mnist_sampling.json`).

    W=/tmp/mask_git; export KGEN_DATA_DIR=../shared/data
    python -m benchmarks.mask_git_mnist --stage vqvae --workdir $W
    taskset -c 0 python -m benchmarks.mask_git_mnist --stage prior \\
        --kind pixel_cnn --workdir $W &
    taskset -c 1 python -m benchmarks.mask_git_mnist --stage prior \\
        --kind mask_git --workdir $W
    python -m benchmarks.mask_git_mnist --stage score --workdir $W
    python -m benchmarks.mask_git_mnist --stage sampling --workdir $W

The weights of the run in `benchmarks/results/mask_git_mnist.json`
(without optimizer state) are in `benchmarks/checkpoints/mask_git_mnist/`:
`--stage score` and `--stage sampling` accept it as `--workdir`.
"""

import json
import os
import time

import keras
import numpy as np

import kgen
from benchmarks.common import REQUIRED
from benchmarks.common import add_flags
from benchmarks.common import benchmark_parser
from benchmarks.common import environment
from benchmarks.common import inception_distances
from benchmarks.common import print_table
from benchmarks.common import require_stage_flags
from benchmarks.common import row_pointers
from benchmarks.common import write_json

MASK_GIT_STEPS = (4, 8, 12)
SAMPLING_SETTINGS = (
    {"temperature": 1.0},
    {"temperature": 0.7},
    {"temperature": 0.5},
    {"guidance_scale": 1.0},
)
# kgen.presets.ARCHITECTURES: the VQ-VAE and a prior per kind (the presets').
VQVAE = "vqvae_mnist_untrained"
PRIORS = {
    "pixel_cnn": "pixel_cnn_mnist_codes_untrained",
    "mask_git": "mask_git_mnist_codes_untrained",
}
# The quantizer is a serialized layer: its arguments are its config.
NUM_CODES = kgen.presets.ARCHITECTURES[VQVAE]["networks"]["quantizer"][
    "config"
]["num_embeddings"]


def encode(vqvae, x):
    return np.concatenate(
        [
            keras.ops.convert_to_numpy(vqvae.encode(x[i : i + 2000]))
            for i in range(0, len(x), 2000)
        ]
    ).astype("int32")


def decode(vqvae, codes):
    return np.clip(keras.ops.convert_to_numpy(vqvae.decode(codes)), 0, 1)


def write_record(path, record):
    print(record, flush=True)
    with open(path, "w") as f:
        json.dump(record, f, indent=2)


def read_record(path):
    with open(path) as f:
        return json.load(f)


def train_vqvae(args):
    keras.utils.set_random_seed(0)
    (x_train, _), _ = kgen.datasets.load("mnist")
    vqvae = kgen.presets.build_architecture(VQVAE, seed=0)  # Adam 2e-3
    start = time.time()
    history = vqvae.fit(
        x_train, batch_size=128, epochs=args.vqvae_epochs, verbose=2
    )
    seconds = time.time() - start
    vqvae.save_weights(os.path.join(args.workdir, "vqvae.weights.h5"))
    np.savez_compressed(
        os.path.join(args.workdir, "codes.npz"),
        train=encode(vqvae, x_train),
    )
    write_record(
        os.path.join(args.workdir, "vqvae.json"),
        {
            "epochs": args.vqvae_epochs,
            "code_shape": list(vqvae.code_shape),
            "num_codes": NUM_CODES,
            "parameters": int(vqvae.count_params()),
            "train_seconds": seconds,
            "history": {k: v[-1] for k, v in history.history.items()},
            "trained_on": environment(),
        },
    )


def train_prior(args):
    keras.utils.set_random_seed(0)
    (_, y_train), _ = kgen.datasets.load("mnist")
    codes = np.load(os.path.join(args.workdir, "codes.npz"))["train"]
    prior = kgen.presets.build_architecture(  # Adam 1e-3
        PRIORS[args.kind], data_shape=codes.shape[1:], seed=0
    )
    start = time.time()
    history = prior.fit(
        codes,
        y_train,
        batch_size=128,
        epochs=args.prior_epochs,
        callbacks=[
            keras.callbacks.BackupAndRestore(
                os.path.join(args.workdir, f"{args.kind}_backup")
            )
        ],
        verbose=2,
    )
    prior.save_weights(os.path.join(args.workdir, f"{args.kind}.weights.h5"))
    write_record(
        os.path.join(args.workdir, f"{args.kind}.json"),
        {
            "kind": args.kind,
            "epochs": args.prior_epochs,
            "parameters": int(prior.count_params()),
            # The seconds of this run only, when it resumed a backup.
            "train_seconds": time.time() - start,
            "final_loss": float(history.history["loss"][-1]),
            "trained_on": environment(),
        },
    )


def load_trained(workdir):
    """The trained VQ-VAE and `{kind: prior}`, as the stages left them."""
    code_shape = tuple(
        read_record(os.path.join(workdir, "vqvae.json"))["code_shape"]
    )
    vqvae = kgen.presets.build_architecture(VQVAE, seed=0, compile=False)
    vqvae.load_weights(os.path.join(workdir, "vqvae.weights.h5"))
    priors = {}
    for kind in ("pixel_cnn", "mask_git"):
        priors[kind] = kgen.presets.build_architecture(
            PRIORS[kind], data_shape=code_shape, seed=0, compile=False
        )
        priors[kind].load_weights(os.path.join(workdir, f"{kind}.weights.h5"))
    return vqvae, priors


def image_scores(distances, images, wanted):
    """FID and KID (`distances`, from `inception_distances`) of images in
    [0, 1], and the `mnist_classifier` preset's accuracy on `wanted`."""
    fid_value, kid_value = distances(images)
    predicted = kgen.metrics.predicted_labels(
        images, kgen.presets.load_preset("mnist_classifier")
    )
    return {
        "fid": fid_value,
        "kid": kid_value,
        "label_accuracy": float(np.mean(predicted == wanted)),
    }


def timed(draw):
    """The grids of `draw()` and the seconds of its second call."""
    draw()
    start = time.time()
    grids = keras.ops.convert_to_numpy(draw())
    return grids, time.time() - start


def score(args):
    keras.utils.set_random_seed(0)
    _, (x_test, y_test) = kgen.datasets.load("mnist")
    vqvae, priors = load_trained(args.workdir)
    n = args.num_samples
    labels = np.arange(n) % 10
    draws = {
        "pixel_cnn": (
            lambda: priors["pixel_cnn"].sample(n, labels=labels, seed=1),
            int(np.prod(vqvae.code_shape)),
        )
    }
    for steps in MASK_GIT_STEPS:
        draws[f"mask_git-{steps}"] = (
            lambda steps=steps: priors["mask_git"].sample(
                n, labels=labels, num_steps=steps, seed=1
            ),
            steps,
        )
    distances = inception_distances(x_test[:1000], (0, 1))

    def row(name, calls, images, wanted, seconds):
        return {
            "prior": name,
            "network_calls": calls,
            **image_scores(distances, images, wanted),
            "seconds": seconds,
        }

    # The floors: held-out real images (the test set's second thousand)
    # and the VQ-VAE's reconstructions of them.
    real = x_test[1000 : 1000 + n]
    rows = [
        row("real test images (floor)", 0, real, y_test[1000 : 1000 + n], 0),
        row(
            "VQ-VAE reconstructions",
            0,
            decode(vqvae, encode(vqvae, real)),
            y_test[1000 : 1000 + n],
            0.0,
        ),
    ]
    for name, (draw, calls) in draws.items():
        grids, seconds = timed(draw)
        images = decode(vqvae, grids)
        rows.append(row(name, calls, images, labels, seconds))
        print(rows[-1], flush=True)
        kgen.utils.save_image_grid(
            images[:100], f"benchmarks/results/mask_git_mnist_{name}.png"
        )
    print_table(rows, list(rows[0]))
    pixel_seconds = rows[2]["seconds"]
    speedups = {
        row["prior"]: pixel_seconds / row["seconds"] for row in rows[3:]
    }
    print("speed-up over the PixelCNN prior, same batch:", speedups)
    write_json(
        "mask_git_mnist",
        {
            "vqvae": read_record(os.path.join(args.workdir, "vqvae.json")),
            "priors": {
                kind: read_record(os.path.join(args.workdir, f"{kind}.json"))
                for kind in priors
            },
            "num_samples": n,
            "scored_on": environment(),
            "rows": rows,
            "speedup_over_pixel_cnn": speedups,
        },
        headline={
            "title": "MaskGIT against a gated PixelCNN prior over the same "
            "VQ-VAE codes of MNIST: FID against sampling time",
            "values": {
                "PixelCNN FID": "/rows/2/fid",
                **row_pointers(
                    rows,
                    "prior",
                    {"FID": "fid"},
                    keep=lambda row: row["prior"] == "mask_git-8",
                ),
                "mask_git-8 speed-up": "/speedup_over_pixel_cnn/mask_git-8",
                "VQ-VAE reconstructions FID": "/rows/1/fid",
            },
            "peer": "a gated PixelCNN prior (one network call a code) over "
            "the same codes",
            "notes": "Bar: MaskGIT-8 at least 10x faster than the PixelCNN "
            "for the same batch.",
        },
    )


def sampling(args):
    """MaskGIT-8's FID, KID and label accuracy at `SAMPLING_SETTINGS`."""
    _, (x_test, _) = kgen.datasets.load("mnist")
    vqvae, priors = load_trained(args.workdir)
    distances = inception_distances(x_test[:1000], (0, 1))
    labels = np.arange(args.num_samples) % 10
    rows = []
    for settings in SAMPLING_SETTINGS:
        grids = priors["mask_git"].sample(
            args.num_samples, labels=labels, num_steps=8, seed=1, **settings
        )
        images = decode(vqvae, grids)
        rows.append(
            {
                "settings": json.dumps(settings),
                **image_scores(distances, images, labels),
            }
        )
        print(rows[-1], flush=True)
    print_table(rows, list(rows[0]))
    write_json(
        "mask_git_mnist_sampling",
        {
            "num_samples": args.num_samples,
            "num_steps": 8,
            "scored_on": environment(),
            "rows": rows,
        },
        headline={
            "title": "MaskGIT-8 on MNIST at other sampling settings: "
            "temperature and guidance",
            "values": {
                ", ".join(f"{k} {v}" for k, v in settings.items())
                + " FID": f"/rows/{i}/fid"
                for i, settings in enumerate(SAMPLING_SETTINGS)
            },
            "peer": "MaskGIT-8 at temperature 1 without guidance",
        },
    )


def main():
    parser = benchmark_parser(workdir=REQUIRED, num_samples=500)
    parser.add_argument(
        "--stage",
        choices=("vqvae", "prior", "score", "sampling"),
        required=True,
    )
    parser.add_argument("--kind", choices=("pixel_cnn", "mask_git"))
    add_flags(parser, vqvae_epochs=3, prior_epochs=3)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    if args.stage == "vqvae":
        train_vqvae(args)
    elif args.stage == "prior":
        require_stage_flags(parser, args, "prior", "kind")
        train_prior(args)
    elif args.stage == "score":
        score(args)
    else:
        sampling(args)


if __name__ == "__main__":
    main()
