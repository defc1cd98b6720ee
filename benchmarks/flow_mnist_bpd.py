"""RealNVP, Glow and a neural spline flow on MNIST: bits per dimension
after a CPU budget.

Uniformly dequantised 8-bit MNIST (`num_bins=256`); reports the test
bits/dim bound on `--num-test` test images, parameters, epochs and wall
time. Anchors at convergence (hundreds of epochs on GPUs): RealNVP 1.06,
Glow 1.05 bits/dim; a CPU budget of an epoch or two lands well above.

    KGEN_DATA_DIR=../shared/data python -m benchmarks.flow_mnist_bpd
"""

import time

import keras
import numpy as np

import kgen
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import row_pointers
from benchmarks.common import write_json

ARCHITECTURES = {
    "realnvp": "real_nvp_mnist_untrained",
    "nsf": "neural_spline_flow_mnist_untrained",
    "glow": "glow_mnist_untrained",
}


def build(name):
    """The `kgen.presets` architecture of `name` (`realnvp`, `nsf`,
    `glow`)."""
    return kgen.presets.build_architecture(ARCHITECTURES[name], seed=0)


def main():
    parser = benchmark_parser(
        epochs=1, num_train=60000, num_test=1000, output_suffix=""
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=("realnvp", "glow", "nsf"),
        default=["realnvp", "glow"],
    )
    args = parser.parse_args()

    (x_train, _), (x_test, _) = kgen.datasets.load("mnist")
    x_train, x_test = x_train[: args.num_train], x_test[: args.num_test]
    rows = []
    for name in args.models:
        keras.utils.set_random_seed(0)
        model = build(name)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        before = float(
            np.mean(keras.ops.convert_to_numpy(model.bits_per_dim(x_test)))
        )
        start = time.time()
        model.fit(x_train, batch_size=64, epochs=args.epochs, verbose=0)
        seconds = time.time() - start
        bits = keras.ops.convert_to_numpy(model.bits_per_dim(x_test, seed=1))
        rows.append(
            {
                "model": name,
                "parameters": int(model.count_params()),
                "epochs": args.epochs,
                "test_bits_per_dim_init": before,
                "test_bits_per_dim": float(bits.mean()),
                "train_seconds": seconds,
            }
        )
        print(rows[-1], flush=True)
        kgen.utils.save_image_grid(
            keras.ops.convert_to_numpy(
                model.sample(64, temperature=0.7, seed=2)
            ).clip(0, 1),
            f"benchmarks/results/flow_mnist_{name}.png",
        )
    print_table(rows, list(rows[0]))
    write_json(
        f"flow_mnist_bpd_{keras.backend.backend()}{args.output_suffix}",
        {"num_test": len(x_test), "rows": rows},
        headline={
            "title": "Flows on dequantised MNIST: test bits/dim after "
            f"{args.epochs} CPU epoch{'s' if args.epochs > 1 else ''}",
            "values": row_pointers(rows, "model", "test_bits_per_dim"),
            "peer": "the papers at convergence: RealNVP 1.06, Glow 1.05",
        },
    )


if __name__ == "__main__":
    main()
