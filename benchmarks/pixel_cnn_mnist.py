"""Gated PixelCNN on dynamically binarised MNIST: test NLL and sampling.

Trains `kgen.models.PixelCNN` (gated stacks by default) on MNIST
re-binarised every epoch (pixel ~ Bernoulli(intensity)) for a wall-clock
budget, then reports the exact test NLL in nats (and bits/dim) on the test
images binarised once with a fixed seed, and the time to draw samples
pixel by pixel with the naive loop (the whole grid per pixel) and the
windowed one (the receptive rows per pixel). Anchors at convergence:
PixelCNN 81.30 nats (van den Oord et al. 2016), gated PixelCNN
reproductions ~81.

    KGEN_DATA_DIR=../shared/data taskset -c 1 \\
        python -m benchmarks.pixel_cnn_mnist --minutes 20
"""

import time

import keras
import numpy as np

import kgen
from benchmarks.common import add_flags
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import step_budget
from benchmarks.common import write_json
from benchmarks.vae_mnist_iwae import binarised_test


def main():
    parser = benchmark_parser(
        minutes=20.0, batch_size=64, num_test=10000, num_samples=16
    )
    add_flags(parser, filters=32, num_layers=5, architecture="gated")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x_train, _), (x_test, _) = kgen.datasets.load("mnist")
    x_train = x_train[..., 0]
    test = binarised_test(x_test[..., 0], args.num_test).astype("int32")

    model = kgen.models.PixelCNN(
        (28, 28),
        num_levels=2,
        filters=args.filters,
        num_layers=args.num_layers,
        architecture=args.architecture,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    start = time.time()
    history = model.fit(
        kgen.datasets.DynamicBinarization(
            x_train, args.batch_size, dtype="int32"
        ),
        epochs=1000,
        callbacks=[step_budget(args.minutes * 60)],
        verbose=0,
    )
    train_seconds = time.time() - start
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    print(f"trained {steps} steps in {train_seconds:.0f} s", flush=True)

    start = time.time()
    nll = kgen.metrics.negative_log_likelihood(model, test)
    evaluation = {
        "test_nll_nats": float(nll.mean()),
        "standard_error": float(nll.std() / np.sqrt(len(nll))),
        "bits_per_dim": float(nll.mean() / (784 * np.log(2))),
        "test_images": len(test),
        "seconds": time.time() - start,
    }
    print(evaluation, flush=True)

    sampling = []
    for windowed in (False, True):
        start = time.time()
        samples = keras.ops.convert_to_numpy(
            model.sample(args.num_samples, seed=1, windowed=windowed)
        )
        sampling.append(
            {
                "loop": "windowed" if windowed else "naive",
                "rows_per_pixel": min(28, model.receptive_rows + 1)
                if windowed
                else 28,
                "samples": args.num_samples,
                "seconds": time.time() - start,
            }
        )
        print(sampling[-1], flush=True)
    sampling[1]["speedup"] = sampling[0]["seconds"] / sampling[1]["seconds"]
    print_table(sampling, list(sampling[1]))
    kgen.utils.save_image_grid(
        samples[..., None].astype("float32"),
        "benchmarks/results/pixel_cnn_mnist.png",
    )
    write_json(
        f"pixel_cnn_mnist_{keras.backend.backend()}",
        {
            "architecture": args.architecture,
            "filters": args.filters,
            "num_layers": args.num_layers,
            "parameters": int(model.count_params()),
            "batch_size": args.batch_size,
            "train_budget_minutes": args.minutes,
            "train_steps": steps,
            "epochs_started": len(history.history["loss"]),
            "final_train_loss": float(history.history["loss"][-1]),
            "train_seconds": train_seconds,
            "evaluation": evaluation,
            "sampling": sampling,
        },
        headline={
            "title": f"{args.architecture.capitalize()} PixelCNN on "
            "dynamically binarised MNIST after "
            f"{args.minutes:g} CPU minutes: exact test NLL and sampling time",
            "values": {
                "test NLL (nats)": "/evaluation/test_nll_nats",
                "naive sampling (s)": "/sampling/0/seconds",
                "windowed sampling (s)": "/sampling/1/seconds",
            },
            "peer": "van den Oord et al.'s PixelCNN at convergence (81.30 "
            "nats)",
        },
    )


if __name__ == "__main__":
    main()
